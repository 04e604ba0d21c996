"""Arrow schemas of the label batches and the item manifest (DESIGN.md, "The records").

The schemas are built the first time one is asked for (a module ``__getattr__``): the read
commands query Parquet through DuckDB alone and never load pyarrow and numpy (~0.25 s of a
command that otherwise takes well under a second).
"""

from __future__ import annotations

from typing import Any

# How an explicit empty answer (a row whose class is NULL) is named wherever classes are listed;
# no class id can take this name (ids are slugs).
NO_OBJECTS = "(no objects)"

# the columns of ITEM_BASE_SCHEMA, in order
ITEM_BASE_COLUMNS = [
    "item_id",
    "path",
    "uri",
    "sha256",
    "bytes",
    "media",
    "width",
    "height",
    "text",
]

# LABEL_SCHEMA and ITEM_BASE_SCHEMA as DuckDB types, for a revision without files (an empty
# relation of the right columns without Arrow: pyarrow imports pandas to build an empty table)
LABEL_COLUMNS = [
    ("label_id", "VARCHAR"),
    ("item_id", "VARCHAR"),
    ("dataset", "VARCHAR"),
    ("annotation_id", "VARCHAR"),
    ("labeler_id", "VARCHAR"),
    ("training_id", "VARCHAR"),
    ("guideline", "VARCHAR"),
    ("guideline_version", "VARCHAR"),
    ("guideline_digest", "VARCHAR"),
    ("class", "VARCHAR"),
    ("bbox", "STRUCT(x DOUBLE, y DOUBLE, w DOUBLE, h DOUBLE)"),
    ("span", 'STRUCT("start" BIGINT, "end" BIGINT)'),
    ("attributes", "VARCHAR"),
    ("created_at", "TIMESTAMPTZ"),
    ("lead_time_s", "DOUBLE"),
    ("cost", "DOUBLE"),
    ("source", "VARCHAR"),
    ("format", "VARCHAR"),
    ("source_ids", "VARCHAR"),
    ("batch_id", "VARCHAR"),
    ("supersedes", "VARCHAR[]"),
    ("tool_fields", "VARCHAR"),
    ("annotation_key", "VARCHAR"),
]
ITEM_BASE_TYPES = ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "BIGINT", "VARCHAR", "INTEGER"]
ITEM_BASE_TYPES += ["INTEGER", "VARCHAR"]


def no_rows(columns: list[tuple[str, str]]) -> str:
    """A SQL relation of ``columns`` ((name, DuckDB type)) without rows."""
    return "select " + ", ".join(f'NULL::{kind} as "{name}"' for name, kind in columns) + " limit 0"


_ARROW = ("BBOX", "SPAN", "LABEL_SCHEMA", "ITEM_BASE_FIELDS", "ITEM_BASE_SCHEMA")


def _arrow_schemas() -> dict[str, Any]:
    import pyarrow as pa  # lazy: see the module doc

    BBOX = pa.struct(
        [("x", pa.float64()), ("y", pa.float64()), ("w", pa.float64()), ("h", pa.float64())]
    )
    SPAN = pa.struct([("start", pa.int64()), ("end", pa.int64())])

    LABEL_SCHEMA = pa.schema(
        [
            pa.field("label_id", pa.string(), nullable=False),
            pa.field("item_id", pa.string(), nullable=False),
            pa.field("dataset", pa.string(), nullable=False),
            pa.field("annotation_id", pa.string(), nullable=False),
            pa.field("labeler_id", pa.string(), nullable=False),
            pa.field("training_id", pa.string()),  # null when the training policy let it through
            pa.field("guideline", pa.string(), nullable=False),
            pa.field("guideline_version", pa.string(), nullable=False),
            pa.field("guideline_digest", pa.string(), nullable=False),
            # NULL only on an explicit empty answer ("no objects here", detection / ner / multilabel):
            # one row per such annotation, with no bbox and no span either
            pa.field("class", pa.string()),
            pa.field("bbox", BBOX),  # pixels, detection only
            pa.field("span", SPAN),  # characters, ner only
            pa.field("attributes", pa.string(), nullable=False),  # JSON object, keys sorted
            pa.field("created_at", pa.timestamp("us", tz="UTC")),
            pa.field("lead_time_s", pa.float64()),
            pa.field("cost", pa.float64()),
            pa.field("source", pa.string(), nullable=False),  # vendor or tool
            pa.field("format", pa.string(), nullable=False),  # the export format it came from
            pa.field("source_ids", pa.string()),  # the tool's own ids (JSON), for provenance
            pa.field("batch_id", pa.string(), nullable=False),
            pa.field(
                "supersedes", pa.list_(pa.string())
            ),  # annotation_ids this annotation replaces
            # the tool's own fields (CVAT occluded / z_order, Label Studio origin / score ...), JSON;
            # kept and queryable, never checked against the spec (batches before it lack the column)
            pa.field("tool_fields", pa.string()),
            # the annotation's identity across deliveries: "<source>:<the tool's key>" (a content
            # hash when the format has none); an edited annotation keeps it and gets a new id
            pa.field("annotation_key", pa.string()),
        ]
    )

    ITEM_BASE_FIELDS = [
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("path", pa.string()),  # relative to the workspace root
        pa.field("uri", pa.string()),
        pa.field("sha256", pa.string()),
        pa.field("bytes", pa.int64()),
        pa.field("media", pa.string()),  # image | text
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
        pa.field("text", pa.string()),
    ]
    ITEM_BASE_SCHEMA = pa.schema(ITEM_BASE_FIELDS)
    return {name: value for name, value in locals().items() if name in _ARROW}


def __getattr__(name: str) -> Any:
    if name in _ARROW:
        globals().update(_arrow_schemas())
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
