"""Guidelines: the spec models, YAML checks, diffs and releases."""
