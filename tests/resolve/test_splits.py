"""Split plans: parsing, every refusal, and the hash that places an item, pinned by hand."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelspec.errors import LabelspecError
from labelspec.resolve import splits
from labelspec.store.engine import database


def placed(plan: splits.SplitPlan, item_ids: list[str], segment: list | None = None) -> list[str]:
    con = database()
    con.register("t", pa.table({"item_id": item_ids, "segment": segment or [None] * len(item_ids)}))
    return [r[0] for r in con.sql(f"select {splits.assign_sql(plan)} from t").fetchall()]


def test_a_ratio_split_places_each_item_by_its_own_hash():
    plan = splits.plan("train=0.6,val=0.2,test=0.2", seed=5)
    assert plan.to_json() == {"by": "ratio", "ratios": [["train", 0.6], ["val", 0.2], ["test", 0.2]],
                              "seed": 5}  # fmt: skip
    # md5("5:n00.png") starts 51c13c43b608d: 0x51c13c43b608d / 16**13 = 0.3194 -> train (< 0.6);
    # "5:n01.png" f2fb80b28fa80: 0.9492 -> test (>= 0.8); "5:n02.png" 6e829f19d2a96: 0.4317
    assert placed(plan, ["n00.png", "n01.png", "n02.png"]) == ["train", "test", "train"]
    # another seed, another draw: "0:n01.png" gives 0.2359 -> train
    assert placed(splits.plan("train=0.6,val=0.2,test=0.2", seed=0), ["n01.png"]) == ["train"]


@settings(max_examples=60, deadline=None)  # a DuckDB connection per example
@given(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=30, unique=True))
def test_the_sql_draw_is_the_documented_formula(item_ids):
    plan = splits.plan("a=0.3,b=0.3,c=0.4", seed=11)
    expected = []
    for item in item_ids:
        draw = int(hashlib.md5(f"11:{item}".encode()).hexdigest()[:13], 16) / 16**13
        expected.append("a" if draw < 0.3 else "b" if draw < 0.6 else "c")
    assert placed(plan, item_ids) == expected


def test_an_item_keeps_its_split_whatever_else_arrives():
    plan = splits.plan("train=0.5,val=0.5", seed=3)
    first = placed(plan, [f"i{n}" for n in range(20)])
    more = placed(plan, [f"i{n}" for n in range(40)])
    assert more[:20] == first


def test_a_column_split_takes_the_items_value():
    plan = splits.plan(split_by="split")
    assert plan.to_json() == {"by": "column", "column": "split"}
    assert placed(plan, ["a", "b"], ["train", "val"]) == ["train", "val"]
    assert placed(splits.plan(), ["a"]) == ["train"]  # no plan: every item in train


@pytest.mark.parametrize(
    ("split", "message"),
    [
        ("train=0.8,val=0.3", "the shares sum to 1.1, not 1"),
        ("train=0.8,val", "'val' is not NAME=SHARE"),
        ("train=0.8,val=x", "'val=x' is not NAME=SHARE"),
        ("Train=1", "'Train' is not a split name"),
        ("train=0.5,train=0.5", "'train' is given twice"),
        ("train=0.9,eval=0.1", "'eval' is the golden items' split"),
        ("train=1.2,val=-0.2", "train=1.2: a share is above 0 and at most 1; val=-0.2: a share"),
    ],
)
def test_a_bad_split_says_what_to_give(split, message):
    with pytest.raises(
        LabelspecError, match=r"e\.g\. --split train=0\.8,val=0\.1,test=0\.1"
    ) as info:
        splits.plan(split)
    assert message in str(info.value)


def test_split_and_split_by_exclude_each_other():
    with pytest.raises(LabelspecError, match=r"give --split .* or --split-by .*, not both"):
        splits.plan("train=1", split_by="split")


def test_an_unknown_column_names_the_known_ones():
    plan = splits.plan(split_by="fold")
    with pytest.raises(LabelspecError, match=r"no such item segment column \(the items have: "
                       r"split, city\)"):  # fmt: skip
        splits.check_column(plan, ["item_id", "path", "width", "split", "city"])
    with pytest.raises(LabelspecError, match="the items have: split"):
        splits.check_column(splits.plan(split_by="width"), ["item_id", "width", "split"])


def test_a_split_left_empty_is_refused():
    plan = splits.plan("train=0.6,val=0.2,test=0.2", seed=1)
    with pytest.raises(LabelspecError, match="split test got no item of the 11"):
        splits.check_filled(plan, {"train": 7, "val": 4}, 11)
    splits.check_filled(plan, {"train": 7, "val": 3, "test": 1}, 11)


def test_column_values_must_name_splits():
    plan = splits.plan(split_by="split")
    ids = pa.chunked_array([["a", "b", "c"]])
    with pytest.raises(LabelspecError, match=r"1 item\(s\) have no split \(b\)"):
        splits.check_values(plan, pa.chunked_array([["train", None, "val"]]), ids)
    with pytest.raises(LabelspecError, match=r"values 'Hold Out' are not split names"):
        splits.check_values(plan, pa.chunked_array([["train", "Hold Out", "val"]]), ids)
    with pytest.raises(LabelspecError, match=r"1 item\(s\) say 'eval' \(c\)"):
        splits.check_values(plan, pa.chunked_array([["train", "val", "eval"]]), ids)
