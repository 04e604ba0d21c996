"""The instruction site for labelers: a mkdocs plugin that renders guidelines, and the commands
that build, publish (one version per release, mike layout) and serve it."""
