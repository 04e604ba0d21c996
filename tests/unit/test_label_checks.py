"""Each named check of a delivery's rows, alone: a clean row trips none, and a row changed in the
one way a check is about trips that check and no other (so a flipped comparison or a check
that shadows another fails here, not only somewhere inside an import)."""

from __future__ import annotations

import duckdb
import pytest

from labelspec.labels.checks import CHECKS, flagging, found_by

# one well-formed detection label: a trained, known labeler boxing a school bus inside the image
CLEAN = {
    "rec": "1::BIGINT",
    '"where"': "'line 1'",
    "item_ref": "'a.jpg'",
    "item_id": "'a.jpg'",
    "item_matches": "1",
    "labeler_ref": "'7'",
    "labeler_id": "'vA-01'",
    "ro_id": "'vA-01'",
    "version": "'1.0.0'",
    "v_digest": "'sha256:x'",
    "v_task": "'detection'",
    "v_known": "'1.0.0'",
    '"class"': "'school_bus'",
    "c_class_id": "'school_bus'",
    "c_min_box_px": "8",
    "bbox_x": "10.0::DOUBLE",
    "bbox_y": "20.0::DOUBLE",
    "bbox_w": "30.0::DOUBLE",
    "bbox_h": "40.0::DOUBLE",
    "bbox_units": "NULL::VARCHAR",
    "width": "640",
    "height": "480",
    "drawn_w": "NULL::DOUBLE",  # the size of the image the tool showed, when it said
    "drawn_h": "NULL::DOUBLE",
    "span_start": "NULL::BIGINT",
    "span_end": "NULL::BIGINT",
    "text_len": "NULL::BIGINT",
    "span_text": "NULL::VARCHAR",
    "span_found": "NULL::VARCHAR",
    "span_unreadable": "NULL::BOOLEAN",
    "c_min_span_chars": "NULL::BIGINT",
    "c_min_span_rule": "NULL::VARCHAR",
    "empty": "false",
    "attributes": "'{}'",
    "a_problem": "NULL::VARCHAR",
    "mx_objects": "NULL::BIGINT",
    "group_size": "1",
    "group_classes": "1",
    "box_twice": "NULL::BIGINT",
    "box_classes": "NULL::BIGINT",
    "box_class_list": "NULL::VARCHAR",
    "same_class": "1",
    "cov_training_id": "'t-1'",
    "cov_later_date": "NULL::DATE",
    "before_adoption": "false",
    "created_at": "TIMESTAMPTZ '2026-01-15 10:00:00+00'",
    "lead_time_s": "12.0::DOUBLE",
    "cost": "0.05::DOUBLE",
    "tool_fields": "'{}'",
}
PARAMS = {
    "dataset": "streets",
    "guideline": "school-buses",
    "source": "vendor-a",
    "map_file": None,
    "per_item_file": None,
    "roster": True,
    "policy": "error",
    "plan": None,
    "default_version": "1.0.0",
}
# the clean row as a named-entity label: "Ada Lovelace", [0, 12] of a 43-character text, whose
# class has a 2-character minimum (rule R1), the tool saying the span reads what it reads
NER = {
    "v_task": "'ner'",
    '"class"': "'person'",
    "c_class_id": "'person'",
    "c_min_box_px": "NULL::BIGINT",
    "bbox_x": "NULL::DOUBLE",
    "bbox_y": "NULL::DOUBLE",
    "bbox_w": "NULL::DOUBLE",
    "bbox_h": "NULL::DOUBLE",
    "span_start": "0::BIGINT",
    "span_end": "12::BIGINT",
    "text_len": "43::BIGINT",
    "span_text": "'Ada Lovelace'",
    "span_found": "'Ada Lovelace'",
    "c_min_span_chars": "2::BIGINT",
    "c_min_span_rule": "'R1'",
}
# check -> what changes in the clean row (and in the import's parameters) to trip it alone
TRIPS = {
    "item-unregistered": {"item_id": "NULL::VARCHAR"},
    "item-ambiguous": {"item_matches": "2"},
    "labeler-missing": {"labeler_id": "NULL::VARCHAR", "ro_id": "NULL::VARCHAR"},
    "labeler-unmapped": (
        {"labeler_id": "NULL::VARCHAR", "ro_id": "NULL::VARCHAR"},
        {"map_file": "users.csv"},
    ),
    "labeler-not-per-item": (
        {"labeler_id": "NULL::VARCHAR", "ro_id": "NULL::VARCHAR"},
        {"per_item_file": "labelers.csv"},
    ),
    "labeler-unknown": {"ro_id": "NULL::VARCHAR"},
    "version-unreleased": {"v_digest": "NULL::VARCHAR"},
    "class-unknown": {"c_class_id": "NULL::VARCHAR", "c_min_box_px": "NULL::INT"},
    "box-yolo-needs-size": {"bbox_units": "'yolo'", "width": "NULL::INT", "height": "NULL::INT"},
    "empty-in-classification": {
        "empty": "true",
        "v_task": "'classification'",
        '"class"': "NULL::VARCHAR",
        "c_class_id": "NULL::VARCHAR",
        "bbox_x": "NULL::DOUBLE",
        "bbox_y": "NULL::DOUBLE",
        "bbox_w": "NULL::DOUBLE",
        "bbox_h": "NULL::DOUBLE",
    },
    "box-not-finite": {"bbox_h": "'nan'::DOUBLE"},
    "box-not-positive": {"bbox_w": "0.0::DOUBLE"},
    "box-outside-image": {"bbox_x": "610.6::DOUBLE"},  # 610.6 + 30 > 640 + 0.5
    "box-too-small": {"bbox_w": "7.0::DOUBLE"},
    # shown square, registered 4:3: |640 * 480 - 640 * 640| = 102,400 > (640 + 640) / 2
    "box-drawn-elsewhere": {"drawn_w": "640.0::DOUBLE", "drawn_h": "640.0::DOUBLE"},
    "box-not-expected": {"v_task": "'classification'"},
    "class-several": {"v_task": "'classification'", "bbox_x": "NULL::DOUBLE", "group_size": "2"},
    "box-twice": {"group_size": "2", "box_twice": "2", "box_classes": "1"},
    "attributes-invalid": {"a_problem": "'occluded must be true or false'"},
    "training-missing": {"cov_training_id": "NULL::VARCHAR"},
    "training-too-late": {
        "cov_training_id": "NULL::VARCHAR",
        "cov_later_date": "DATE '2026-02-01'",
    },
    "created-at-unreal": {"created_at": "TIMESTAMPTZ '1970-01-02 00:00:00+00'"},
    "lead-time-negative": {"lead_time_s": "-1.0::DOUBLE"},
    "lead-time-too-long": {"lead_time_s": "2592001.0::DOUBLE"},  # 30 days and a second
    "cost-negative": {"cost": "-0.01::DOUBLE"},
    "cost-too-high": {"cost": "10000.5::DOUBLE"},
    "plan-version": ({"version": "'1.1.0'", "v_known": "'1.0.0, 1.1.0'"}, {"plan": "rp-1"}),
    "span-missing": {**NER, "span_start": "NULL::BIGINT", "span_end": "NULL::BIGINT"},
    "span-no-text": {**NER, "text_len": "NULL::BIGINT"},
    "span-not-expected": {"span_start": "0::BIGINT", "span_end": "12::BIGINT"},
    "span-outside-text": {**NER, "span_end": "44::BIGINT", "span_found": "'Ada Lovelace'"},
    # [21, 11] and [5, 5] lie inside the text: reversed and empty, not "outside the text"
    "span-reversed": {**NER, "span_start": "21::BIGINT", "span_end": "11::BIGINT"},
    "span-empty": {**NER, "span_start": "5::BIGINT", "span_end": "5::BIGINT"},
    "span-too-short": {**NER, "span_end": "1::BIGINT", "span_text": "'A'", "span_found": "'A'"},
    "span-text-differs": {**NER, "span_found": "'Ada Lovelacf'"},
}


def tripped(changes: dict[str, str], params: dict | None = None) -> list[str]:
    con = duckdb.connect()
    row = {**CLEAN, **changes}
    con.execute("create temp table j as select " + ", ".join(f"{v} as {k}" for k, v in row.items()))
    con.execute("create temp table plan_items as select 'a.jpg' as item_id")
    params = {**PARAMS, **(params or {})}
    # as validate runs them: one pass flags the rows any check finds, the checks read those
    con.execute(f"create temp table flagged as {flagging()}", _used(flagging(), params))
    found = con.execute(
        f"select check_name from ({found_by(rows='flagged')}) order by 1", params
    ).fetchall()
    every_row = con.execute(f"select check_name from ({found_by()}) order by 1", params)
    assert found == every_row.fetchall()  # flagging misses no row a check would find
    return [name for (name,) in found]


def _used(sql: str, params: dict) -> dict:
    return {k: v for k, v in params.items() if f"${k}" in sql}


def test_every_check_has_a_name_of_its_own():
    names = [c.name for c in CHECKS]
    assert len(names) == len(set(names)) == 44


def test_a_clean_row_trips_no_check():
    assert tripped({}) == []


def test_a_box_drawn_on_a_resized_copy_trips_no_check():
    # 1280 x 960 is the 640 x 480 image doubled; 641 x 481 is one pixel off each way:
    # |641 * 480 - 481 * 640| = 160 <= (641 + 481) / 2 = 561, a resize's rounding
    assert tripped({"drawn_w": "1280.0::DOUBLE", "drawn_h": "960.0::DOUBLE"}) == []
    assert tripped({"drawn_w": "641.0::DOUBLE", "drawn_h": "481.0::DOUBLE"}) == []
    # 640 x 482: |640 * 480 - 482 * 640| = 1280 > 561, not a resize
    assert tripped({"drawn_w": "640.0::DOUBLE", "drawn_h": "482.0::DOUBLE"}) == [
        "box-drawn-elsewhere"
    ]


@pytest.mark.parametrize("name", sorted(TRIPS))
def test_a_row_made_to_trip_one_check_trips_that_check_alone(name):
    changes, params = TRIPS[name] if isinstance(TRIPS[name], tuple) else (TRIPS[name], None)
    assert tripped(changes, params) == [name]


@pytest.mark.parametrize(
    ("changes", "clean"),
    [
        ({"bbox_x": "610.5::DOUBLE"}, True),  # 640.5: within the half-pixel tolerance
        ({"bbox_x": "-0.5::DOUBLE"}, True),
        ({"bbox_w": "8.0::DOUBLE"}, True),  # exactly the minimum
        ({"lead_time_s": "2592000.0::DOUBLE"}, True),  # exactly 30 days
        ({"cost": "10000.0::DOUBLE"}, True),
        ({"lead_time_s": "0.0::DOUBLE", "cost": "0.0::DOUBLE"}, True),
    ],
)
def test_the_limits_themselves_are_allowed(changes, clean):
    assert (tripped(changes) == []) is clean


@pytest.mark.parametrize(
    ("changes", "clean"),
    [
        ({}, True),
        # 2 characters: the minimum itself; 1 is one short
        ({"span_end": "2::BIGINT", "span_text": "'Ad'", "span_found": "'Ad'"}, True),
        ({"span_end": "1::BIGINT", "span_text": "'A'", "span_found": "'A'"}, False),
        ({"span_start": "31::BIGINT", "span_end": "43::BIGINT"}, True),  # ends at the text's end
        ({"span_start": "-1::BIGINT"}, False),
        ({"span_text": "NULL::VARCHAR"}, True),  # no text from the tool: nothing to compare
        # Label Studio's text of a span may lose or collapse whitespace; characters must match
        ({"span_text": "'Ada  Lovelace'"}, True),
        ({"span_text": "'Ada\nLovelace'", "span_found": "'Ada\r\nLovelace'"}, True),
        ({"span_text": "'Ada Lovelac'"}, False),
        # given but unreadable ([0.5, 12.7]): the reader said so, once, not also "required"
        (
            {"span_start": "NULL::BIGINT", "span_end": "NULL::BIGINT", "span_unreadable": "true"},
            True,
        ),
    ],
)
def test_the_span_limits_themselves_are_allowed(changes, clean):
    assert (tripped({**NER, **changes}) == []) is clean


def test_a_span_shorter_than_its_minimum_names_its_length_and_rule():
    assert _messages({**NER, "span_end": "1::BIGINT", "span_text": "'A'", "span_found": "'A'"}) == [
        "span [0, 1] is 1 character(s) long, shorter than the 2-character minimum for person "
        "(rule R1)"
    ]


def test_reversed_and_empty_spans_are_said_to_be_so():
    assert _messages({**NER, "span_start": "21::BIGINT", "span_end": "11::BIGINT"}) == [
        "span [21, 11] ends before it starts: give [start, end] with start < end"
    ]
    assert _messages({**NER, "span_start": "5::BIGINT", "span_end": "5::BIGINT"}) == [
        "span [5, 5] is empty (start = end): a span covers at least one character"
    ]


def test_a_span_whose_text_differs_shows_both_texts_escaped_and_cut():
    found = "'🎉 Pa'"
    assert _messages(
        {**NER, "span_end": "4::BIGINT", "span_found": found, "span_text": "'Google'"}
    ) == [
        'span [0, 4] covers "🎉 Pa" in the item\'s text, but the tool says it covers "Google": '
        "the offsets point at other characters than the labeler marked (was the task's text "
        "edited after labeling, or are they UTF-16 offsets from an old Label Studio, which "
        "counts an emoji as two?)"
    ]
    # 45 characters with a line break: escaped (\n counts two), then cut to 37 and "..."
    long = "'Line one.' || chr(10) || 'Angela Merkel spoke at length here.'"
    [message] = _messages({**NER, "span_end": "43::BIGINT", "span_found": long})
    assert message.startswith('span [0, 43] covers "Line one.\\nAngela Merkel spoke at len..." in')


def _messages(changes: dict[str, str]) -> list[str]:
    con = duckdb.connect()
    row = {**CLEAN, **changes}
    con.execute("create temp table j as select " + ", ".join(f"{v} as {k}" for k, v in row.items()))
    con.execute("create temp table plan_items as select 'a.jpg' as item_id")
    return [m for (m,) in con.execute(f"select message from ({found_by()})", PARAMS).fetchall()]


def test_a_label_made_before_adoption_trips_no_training_check():
    """`labels import --history`: no training covers it, and that is what it is."""
    untrained = {"cov_training_id": "NULL::VARCHAR"}
    assert tripped(untrained) == ["training-missing"]
    assert tripped({**untrained, "before_adoption": "true"}) == []
    later = {**untrained, "cov_later_date": "DATE '2026-02-01'", "before_adoption": "true"}
    assert tripped(later) == []


def test_a_box_twice_says_whether_it_is_a_repeated_row_or_two_classes():
    twice = {"group_size": "2", "box_twice": "2"}
    assert _messages({**twice, "box_classes": "1"}) == [
        "box [10.0, 20.0, 30.0, 40.0] of school_bus is given 2 times in one annotation "
        "(a repeated row?): keep one"
    ]
    assert _messages(
        {**twice, "box_classes": "2", "box_class_list": "'pickup_truck, school_bus'"}
    ) == [
        "box [10.0, 20.0, 30.0, 40.0] is given 2 classes (pickup_truck, school_bus): a box has "
        "one class; draw one box per object"
    ]


def test_one_class_twice_in_a_classification_is_a_repeated_row_not_two_answers():
    several = {"v_task": "'classification'", "bbox_x": "NULL::DOUBLE", "group_size": "2"}
    assert _messages({**several, "same_class": "2"}) == [
        "class school_bus is given 2 times in one annotation (a repeated row?): keep one"
    ]
    assert _messages({**several, "group_classes": "2"}) == [
        "one annotation has 2 labels of 2 classes; school-buses is single-label classification"
    ]
    # A, A, B: three labels, two classes (the count is of labels, the classes apart)
    assert _messages({**several, "group_size": "3", "group_classes": "2", "same_class": "2"}) == [
        "one annotation has 3 labels of 2 classes; school-buses is single-label classification"
    ]


def test_a_photo_shown_turned_a_quarter_is_named_for_its_exif_orientation():
    # 640x480 registered; the tool showed it 480x640 (upright by its EXIF tag)
    (message,) = _messages({"drawn_w": "480.0::DOUBLE", "drawn_h": "640.0::DOUBLE"})
    assert message.startswith(
        "the box was drawn on a 480x640 image, but item a.jpg is registered as 640x480, turned a "
        "quarter: the tool showed it upright by its EXIF orientation"
    )
    (message,) = _messages({"drawn_w": "640.0::DOUBLE", "drawn_h": "640.0::DOUBLE"})
    assert "another shape (cropped, padded or rotated?)" in message
