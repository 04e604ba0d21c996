from labelspec.cli import main

main()
