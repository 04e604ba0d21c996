"""The Hugging Face side of a training set: one ``datasets.Dataset`` per split, one row per item,
in the layout of the Hub's detection sets (cppe-5's ``objects`` of lists). Imported only by
``TrainingSet.to_hf``, once ``datasets`` is known to be installed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import datasets
from labelspec.store.engine import database

# one row per item of a split: its rows' classes and boxes as lists, in the table's order
_ITEMS = """
select item_id, any_value(width) as width, any_value(height) as height,
       coalesce(list([bbox.x, bbox.y, bbox.w, bbox.h] order by _r)
                filter (where "class" is not null), []) as bbox,
       coalesce(list(class_index order by _r) filter (where "class" is not null), []) as category,
       coalesce(list(bbox.w * bbox.h order by _r) filter (where "class" is not null), []) as area
from rows group by item_id order by min(_r)
"""

if TYPE_CHECKING:
    from labelspec.loaders import TrainingSet  # the loaders package imports this module


def features(trainset: TrainingSet) -> datasets.Features:
    names = datasets.ClassLabel(names=trainset.classes)
    common = {
        "item_id": datasets.Value("string"),
        "image": datasets.Image(),
        "width": datasets.Value("int32"),
        "height": datasets.Value("int32"),
    }
    if trainset.task == "classification":
        return datasets.Features({**common, "label": names})
    if trainset.task == "multilabel":
        return datasets.Features({**common, "labels": datasets.Sequence(names)})
    objects = {
        "bbox": datasets.Sequence(datasets.Value("float32"), length=4),
        "category": names,
        "area": datasets.Value("float32"),
    }
    return datasets.Features({**common, "objects": datasets.Sequence(objects)})


def split_dataset(trainset: TrainingSet, split: str, files: dict[str, Path]) -> datasets.Dataset:
    """The items of ``split`` with their local image files (``files``: item_id -> path)."""
    rows = trainset.split(split)
    con = database()
    con.register("rows", rows.append_column("_r", pa.array(np.arange(rows.num_rows))))
    found = con.sql(_ITEMS).to_arrow_table()
    ids = found.column("item_id")
    local = pa.array([str(files[i]) for i in ids.to_pylist()], pa.string())
    columns = {
        "item_id": ids,
        "image": pa.StructArray.from_arrays(
            [pa.nulls(len(local), pa.binary()), local], names=["bytes", "path"]
        ),
        "width": found.column("width"),
        "height": found.column("height"),
    }
    category = found.column("category")
    if trainset.task == "classification":
        columns["label"] = pc.list_element(category, 0)
    elif trainset.task == "multilabel":
        columns["labels"] = category
    else:
        columns["objects"] = pa.StructArray.from_arrays(
            [found.column(c).combine_chunks() for c in ("bbox", "category", "area")],
            names=["bbox", "category", "area"],
        )
    chosen = features(trainset)
    table = pa.table(columns).cast(chosen.arrow_schema)
    return datasets.Dataset(
        datasets.table.InMemoryTable(table),
        info=datasets.DatasetInfo(features=chosen),
        split=datasets.NamedSplit(split),
    )
