"""``python -m labelspec``: the same as the ``labelspec`` command."""

from labelspec.cli import main

main()
