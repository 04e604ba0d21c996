"""A rule's ``where`` as SQL (what impact runs) against a brute-force reading of its definition
(decisions: "Rule scopes"), on random selectors and random label rows in DuckDB."""

from __future__ import annotations

import json
import math

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelspec.guideline.scope import box_matches, where_sql
from labelspec.guideline.spec import DrawnBox, Selector

W, H = 320, 200
EDGE = 0.5


def brute(where: dict, row: dict, columns: set[str]) -> bool:
    """The definition, read literally, one condition at a time."""
    size_known = row["width"] is not None and row["height"] is not None
    for column, values in where.get("items", {}).items():
        if column not in columns:
            continue  # a column the dataset lacks matches every item
        if row.get(column) is None or str(row[column]) not in [str(v) for v in values]:
            return False
    if row["class"] is None:
        return True  # an empty answer: only the item conditions judge it
    x, y, w, h = row["x"], row["y"], row["w"], row["h"]
    if "touches_border" in where:
        edges = [  # each edge: touched, not, or unknown (None: the image size is not known)
            x <= EDGE,
            y <= EDGE,
            None if row["width"] is None else x + w >= row["width"] - EDGE,
            None if row["height"] is None else y + h >= row["height"] - EDGE,
        ]
        at = True if True in edges else (None if None in edges else False)
        if at is not None and at != where["touches_border"]:
            return False
    measures = {
        "area_px": w * h,
        "relative_area": w * h / (row["width"] * row["height"]) if size_known else None,
        "aspect_ratio": w / h,
    }
    for name, value in measures.items():
        bounds = where.get(name)
        if bounds is None or value is None:
            continue
        if ("min" in bounds and value < bounds["min"]) or (
            "max" in bounds and value > bounds["max"]
        ):
            return False
    attributes = json.loads(row["attributes"])
    for key, values in where.get("attributes", {}).items():
        given_value = attributes.get(key)
        if given_value is None and all(isinstance(v, bool) for v in values):
            given_value = False
        if given_value is None or given_value not in values:
            return False
    return True


def bounds(low: float, high: float):
    value = st.floats(low, high, allow_nan=False).map(lambda v: round(v, 2))
    return st.one_of(
        st.fixed_dictionaries({"min": value}),
        st.fixed_dictionaries({"max": value}),
        st.tuples(value, value).map(lambda p: {"min": min(p), "max": max(p)}),
    )


selectors = st.fixed_dictionaries(
    {},
    optional={
        "touches_border": st.booleans(),
        "area_px": bounds(0, 20000),
        "relative_area": bounds(0, 1),
        "aspect_ratio": bounds(0.1, 5),
        "attributes": st.one_of(
            st.fixed_dictionaries({"occluded": st.lists(st.booleans(), min_size=1, max_size=2)}),
            st.fixed_dictionaries(
                {"kind": st.lists(st.sampled_from(["near", "far"]), min_size=1, max_size=2)}
            ),
        ),
        "items": st.fixed_dictionaries(
            {"city": st.lists(st.sampled_from(["lagos", "lima"]), min_size=1, max_size=2)}
        ),
    },
).filter(bool)

coordinate = st.one_of(st.sampled_from([0.0, 0.4, 0.5, 0.6, 10.0]), st.floats(0, 150).map(round))
rows = st.fixed_dictionaries(
    {
        "class": st.sampled_from(["bus", "pickup", None]),
        "x": coordinate,
        "y": coordinate,
        "w": st.sampled_from([12.0, 40.0, 84.0, 150.0, 169.5, 170.0]),
        "h": st.sampled_from([12.0, 40.0, 56.0, 199.5, 200.0]),
        "attributes": st.sampled_from(
            [
                "{}",
                '{"occluded":true}',
                '{"occluded":false}',
                '{"kind":"near"}',
                '{"kind":"far","occluded":true}',
            ]
        ),
        "width": st.sampled_from([W, W, None]),
        "height": st.sampled_from([H, H, None]),
        "city": st.sampled_from(["lagos", "lima", None]),
    }
)


def evaluate(where: Selector, found: list[dict], columns: set[str]) -> list[bool]:
    con = duckdb.connect()
    table = pa.Table.from_pylist(
        [
            {
                "n": n,
                "class": r["class"],
                "bbox": None if r["class"] is None else {k: r[k] for k in "xywh"},
                "attributes": "{}" if r["class"] is None else r["attributes"],
                "width": r["width"],
                "height": r["height"],
                "city": r["city"],
            }
            for n, r in enumerate(found)
        ]
    )
    con.register("t", table)
    con.execute('create view l as select n, "class", bbox, attributes from t')
    item_columns = ", ".join(["n", "width", "height", *(["city"] if "city" in columns else [])])
    con.execute(f"create view i as select {item_columns} from t")
    sql = f"select {where_sql(where, columns)} from l join i using (n) order by n"
    return [bool(v) for (v,) in con.execute(sql).fetchall()]


@settings(max_examples=300, deadline=None)
@given(where=selectors, found=st.lists(rows, min_size=1, max_size=12), city=st.booleans())
def test_the_sql_selects_what_the_definition_says(where, found, city):
    columns = {"n", "width", "height", *(["city"] if city else [])}
    selector = Selector.model_validate(where)
    for row in found:
        if row["class"] is None:
            row["attributes"] = "{}"  # an empty answer carries no attributes
    expected = [brute(where, row, columns) for row in found]
    assert evaluate(selector, found, columns) == expected


@settings(max_examples=300, deadline=None)
@given(where=selectors, row=rows)
def test_a_drawn_example_box_is_judged_as_a_label_would_be(where, row):
    """The quiz reads the same definition in Python over a spec's own boxes (a picture is no
    item, so item conditions hold)."""
    where.pop("items", None)
    if not where:
        return
    selector = Selector.model_validate(where)
    box = DrawnBox.model_validate(
        {"class": "bus", **{k: row[k] for k in "xywh"}, "attributes": json.loads(row["attributes"])}
    )
    label = {**row, "class": "bus", "width": W, "height": H}
    assert box_matches(selector, box, W, H) == brute(where, label, set())


@pytest.mark.parametrize(
    ("box", "touches"),
    [
        ((0.5, 50, 20, 20), True),  # half a pixel from the left edge
        ((0.6, 50, 20, 20), False),
        ((299.5, 50, 20, 20), True),  # its right side at 319.5
        ((299.4, 50, 20, 20), False),
        ((100, 179.5, 20, 20), True),  # its bottom at 199.5
    ],
)
def test_touching_the_border_is_within_half_a_pixel(box, touches):
    where = Selector(touches_border=True)
    drawn = DrawnBox.model_validate(dict(zip("xywh", box, strict=True), **{"class": "bus"}))
    assert box_matches(where, drawn, W, H) is touches
    found = [{"class": "bus", **dict(zip("xywh", box, strict=True)), "attributes": "{}", "width": W,
              "height": H, "city": None}]  # fmt: skip
    assert evaluate(where, found, {"n", "width", "height"}) == [touches]


def test_a_range_is_inclusive_and_relative_area_is_over_the_image():
    where = Selector(relative_area={"min": 0.25, "max": 0.25})  # 160 x 100 of 320 x 200
    assert math.isclose(160 * 100 / (W * H), 0.25)
    found = [{"class": "bus", "x": 10.0, "y": 10.0, "w": w, "h": 100.0, "attributes": "{}",
              "width": W, "height": H, "city": None} for w in (159.0, 160.0, 161.0)]  # fmt: skip
    assert evaluate(where, found, {"n", "width", "height"}) == [False, True, False]
