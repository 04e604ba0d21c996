"""What a change to a rule with a scope (``where``) affects, read off the diff (lineage rule 7):
the classes it applies to, only within its `where`; a `where` added to a rule states what it
always covered, a `where` removed widens the rule to its classes."""

from __future__ import annotations

from typing import Any

from labelspec.guideline.diff import Scope, diff_specs
from labelspec.guideline.spec import Selector, Spec

BORDER = {"touches_border": True}


def spec(
    rules: list[dict[str, Any]],
    borderline_rule: str | None = None,
    why: str = "x",
    bus: str = "A bus.",
) -> Spec:
    borderline = (
        [{"image": "examples/cut.png", "decision": "bus", "rule": borderline_rule, "why": why}]
        if borderline_rule
        else []
    )
    return Spec.model_validate(
        {
            "guideline": "buses",
            "title": "Buses",
            "version": "1.0.0",
            "task": "detection",
            "rules": rules,
            "classes": [
                {
                    "id": "bus",
                    "name": "Bus",
                    "definition": bus,
                    "confusable_with": ["van"],
                    "examples": {"borderline": borderline},
                },
                {"id": "van", "name": "Van", "definition": "A van."},
                {"id": "car", "name": "Car", "definition": "A car."},
            ],
        }
    )


def r2(text: str = "Box a cut bus up to the border.", **fields: Any) -> dict[str, Any]:
    return {"id": "R2", "text": text, "applies_to": ["bus"], "where": BORDER, **fields}


def scopes(old: Spec, new: Spec, declared: list[str] | None = None) -> dict:
    found = diff_specs(old, new, declared).scopes()
    return {c: None if s is None else [(x.rule, x.where.model_dump(exclude_defaults=True)) for x in s]
            for c, s in found.items()}  # fmt: skip


def test_an_edited_scoped_rule_affects_its_classes_within_its_where():
    change = diff_specs(spec([r2()]), spec([r2("Box a cut bus if a third shows.")]))

    assert change.scopes() == {"bus": [Scope("bus", "R2", Selector(touches_border=True))]}
    assert change.affects == ["bus"]  # training coverage still counts the class
    assert change.whole_affects == []
    assert change.to_json()["affects_scoped"] == {"bus": [{"rule": "R2", "where": BORDER}]}
    assert change.required_bump()[0] == "minor"


def test_a_where_added_to_a_rule_changes_no_label():
    plain = {k: v for k, v in r2().items() if k != "where"}
    change = diff_specs(spec([plain]), spec([r2()]))

    assert change.rules["changed"]["R2"] == {
        "fields": {"where": {"from": None, "to": BORDER}},
        "classes": [],
    }
    assert (change.affects, change.scopes()) == ([], {})


def test_a_where_added_with_new_text_scopes_both_sides():
    plain = {k: v for k, v in r2().items() if k != "where"}
    assert scopes(spec([plain]), spec([r2("Box a cut bus if a third shows.")])) == {
        "bus": [("R2", BORDER)]
    }


def test_a_where_removed_widens_the_rule_to_its_whole_classes():
    plain = {k: v for k, v in r2().items() if k != "where"}
    assert scopes(spec([r2()]), spec([plain])) == {"bus": None}


def test_a_where_edited_affects_both_scopes():
    wide = {"touches_border": True, "relative_area": {"max": 0.5}}
    assert scopes(spec([r2()]), spec([r2(where=wide)])) == {"bus": [("R2", BORDER), ("R2", wide)]}


def test_classes_moved_in_applies_to_keep_their_side_of_the_scope():
    assert scopes(spec([r2()]), spec([r2(applies_to=["van"])])) == {
        "bus": [("R2", BORDER)],
        "van": [("R2", BORDER)],
    }


def test_a_rule_without_applies_to_but_with_a_where_scopes_every_class():
    rule = {"id": "R9", "text": "Lima streets.", "where": {"items": {"city": "lima"}}}
    city = {"items": {"city": ["lima"]}}
    assert scopes(spec([]), spec([rule])) == {c: [("R9", city)] for c in ("bus", "van", "car")}


def test_a_global_rule_without_a_where_is_left_to_the_declaration():
    rule = {"id": "G1", "text": "Look twice."}
    assert scopes(spec([]), spec([rule])) == {}
    assert scopes(spec([]), spec([rule]), ["car"]) == {"car": None}


def test_a_declared_class_is_affected_as_a_whole():
    assert scopes(spec([r2()]), spec([r2("Box a cut bus if a third shows.")]), ["bus"]) == {
        "bus": None
    }


def test_a_borderline_example_citing_a_scoped_rule_affects_that_scope():
    old = spec([r2()], borderline_rule="R2")
    new = spec([r2()], borderline_rule="R2", why="Boxed up to the border.")
    assert scopes(old, new) == {"bus": [("R2", BORDER)]}


def test_a_borderline_example_citing_an_unscoped_rule_affects_its_class():
    plain = {"id": "R1", "text": "Tight boxes.", "applies_to": ["bus"]}
    old = spec([plain], borderline_rule="R1")
    new = spec([plain], borderline_rule="R1", why="Boxed up to the border.")
    assert scopes(old, new) == {"bus": None}


def test_a_class_changed_as_a_whole_absorbs_its_scopes():
    old = spec([r2()])
    new = spec([r2("Box a cut bus if a third shows.")], bus="A long bus.")
    assert scopes(old, new) == {"bus": None}


def test_a_changed_global_rule_with_nothing_declared_is_warned_about():
    # QA 36 L10: G1 edited, G2 added, R2 (scoped) edited: only the global ones are named
    g1 = {"id": "G1", "text": "Label half of it."}
    old = spec([g1, r2()])
    new = spec([{**g1, "text": "Label a third of it."}, {"id": "G2", "text": "x"}, r2("Box it.")])
    change = diff_specs(old, new)
    assert change.global_rules == ["G1", "G2"]
    assert change.global_rule_warning() == (
        "global rule G1, G2 changed and `affects` is empty: no labeler will be retrained and no "
        "label is suspect; list the classes it changes under `affects` in the `unreleased` entry "
        "(or give the rule `applies_to`)"
    )
    assert diff_specs(old, new, ["bus"]).global_rule_warning() is None
    # a global rule that gained applies_to is scoped now: nothing to warn about
    scoped = spec([{**g1, "applies_to": ["car"]}])
    assert diff_specs(spec([g1]), scoped).global_rules == []
