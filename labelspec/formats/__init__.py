"""Exchange formats of labeling tools: each module reads an export into staged rows (``base``)
and writes current labels back out.

| format      | read                                  | write (``labels export``)       |
| ----------- | ------------------------------------- | ------------------------------- |
| labelstudio | Label Studio JSON export              | Label Studio import JSON        |
| coco        | COCO instances JSON                   | COCO instances JSON             |
| cvat        | CVAT for images 1.1 XML, or its zip   | -                               |
| jsonl, csv  | labelspec's own one-label-per-line    | jsonl                           |
"""

READERS = {
    "labelstudio": "labelspec.formats.labelstudio:read",
    "coco": "labelspec.formats.coco:read",
    "cvat": "labelspec.formats.cvat:read",
    "jsonl": "labelspec.formats.jsonl:read_jsonl",
    "csv": "labelspec.formats.jsonl:read_csv",
}
FORMATS = tuple(READERS)


def reader(name: str):
    import importlib

    from labelspec.errors import LabelspecError

    if name not in READERS:
        raise LabelspecError(f"unknown format {name!r}: choose one of {', '.join(FORMATS)}")
    module, attr = READERS[name].split(":")
    return getattr(importlib.import_module(module), attr)
