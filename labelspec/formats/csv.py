"""labelspec's own CSV: the JSONL columns, one label per row (see ``labelspec.formats.jsonl``)."""

from labelspec.formats.jsonl import read_csv as read

__all__ = ["read"]
