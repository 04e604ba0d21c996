"""`guideline diff`: `diff_specs` on pairs of specs for every change kind, and the CLI's JSON."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from labelspec.guideline.diff import diff_specs, strongest_relabel
from labelspec.guideline.spec import Spec
from tests.helpers import edit, git

SPEC = "guidelines/digits/spec.yaml"
JSON_KEYS = {
    "from",
    "to",
    "classes",
    "rules",
    "decision_tree_changed",
    "affects",
    "affects_declared",
    "affects_detected",
    "affects_scoped",
    "relabel",
    "required_bump",
}


def base() -> dict[str, Any]:
    return {
        "guideline": "pets",
        "title": "Pets",
        "version": "1.0.0",
        "task": "detection",
        "rules": [
            {"id": "R1", "text": "Box the whole animal."},
            {"id": "R2", "text": "Ignore toys.", "applies_to": ["cat"], "min_box_px": 8},
        ],
        "classes": [
            {
                "id": "cat",
                "name": "Cat",
                "definition": "A small feline.",
                "include": ["kittens"],
                "exclude": ["lions"],
                "confusable_with": ["dog"],
                "min_box_px": 10,
                "attributes": [
                    {"id": "pose", "type": "nominal", "values": ["sitting", "lying"]},
                ],
                "examples": {
                    "positive": [{"image": "examples/cat1.png", "why": "A cat."}],
                    "counter": [{"image": "examples/fox.png", "label": "dog", "why": "Dog-like."}],
                    "borderline": [
                        {"image": "examples/lynx.png", "decision": "cat", "why": "Small enough."}
                    ],
                },
            },
            {"id": "dog", "name": "Dog", "definition": "A domestic canine."},
            {"id": "bird", "name": "Bird", "definition": "Anything with feathers."},
        ],
        "decision_tree": [{"id": "fur", "question": "Fur?", "yes": "cat", "no": "bird"}],
        "changelog": [{"version": "1.0.0", "date": "2026-01-01", "summary": "First"}],
    }


def spec(change: Callable[[dict], None] | None = None, version: str = "1.1.0") -> Spec:
    data = copy.deepcopy(base())
    if change is not None:
        data["version"] = version
        change(data)
    return Spec.model_validate(data)


def cls(data: dict, class_id: str) -> dict:
    return next(c for c in data["classes"] if c["id"] == class_id)


def cat(data: dict) -> dict:
    return cls(data, "cat")


# -- diff_specs ------------------------------------------------------------------------------------
def test_identical_specs_have_an_empty_diff():
    result = diff_specs(spec(), spec(lambda d: None))
    assert result.empty and result.affects == [] and result.required_bump()[0] == "patch"
    out = result.to_json()
    assert set(out) == JSON_KEYS
    assert (out["from"], out["to"]) == ("1.0.0", "1.1.0")
    assert out["classes"] == {"added": [], "removed": [], "renamed": [], "changed": {}}
    assert out["rules"] == {"added": [], "removed": [], "changed": {}}


def test_a_class_added_needs_minor():
    def add(d):
        d["classes"].append({"id": "fish", "name": "Fish", "definition": "Has fins."})

    result = diff_specs(spec(), spec(add))
    assert result.added == ["fish"] and result.removed == [] and result.renamed == []
    assert result.required_bump() == ("minor", "class(es) added: fish")


def test_a_class_removed_needs_major_and_is_affected():
    result = diff_specs(spec(), spec(lambda d: d["classes"].pop()))
    assert result.removed == ["bird"] and result.added == []
    assert result.affects == ["bird"]
    assert result.required_bump() == ("major", "class(es) removed: bird")


def test_a_rename_declared_with_renamed_from_keeps_the_class_changes():
    def rename(d):
        dog = cls(d, "dog")
        dog.update(id="hound", renamed_from="dog", definition="A canine.")

    result = diff_specs(spec(), spec(rename))
    assert result.renamed == [{"from": "dog", "to": "hound"}]
    assert result.added == [] and result.removed == []
    assert result.changed["hound"] == [
        {"field": "definition", "from": "A domestic canine.", "to": "A canine."}
    ]
    assert result.affects == ["dog", "hound"]
    assert result.required_bump() == ("major", "class(es) renamed: dog -> hound")


def test_a_rename_is_recognised_by_its_unchanged_definition():
    result = diff_specs(spec(), spec(lambda d: cls(d, "bird").update(id="avian")))
    assert result.renamed == [{"from": "bird", "to": "avian"}]
    assert result.added == [] and result.removed == [] and "avian" not in result.changed


def test_a_new_class_with_a_new_definition_is_no_rename():
    def swap(d):
        cls(d, "bird").update(id="fish", name="Fish", definition="Has fins.")

    result = diff_specs(spec(), spec(swap))
    assert result.renamed == [] and result.added == ["fish"] and result.removed == ["bird"]


# (change to the new spec, the expected change entry of class cat, semantic?, smallest bump)
CLASS_CHANGES: dict[str, tuple[Callable[[dict], None], dict, bool, str]] = {
    "definition": (
        lambda d: cat(d).update(definition="A small feline, domestic."),
        {"field": "definition", "from": "A small feline.", "to": "A small feline, domestic."},
        True,
        "minor",
    ),
    "name": (
        lambda d: cat(d).update(name="House cat"),
        {"field": "name", "from": "Cat", "to": "House cat"},
        False,
        "patch",
    ),
    "include": (
        lambda d: cat(d).update(include=["kittens", "cats in boxes"]),
        {"field": "include", "added": ["cats in boxes"], "removed": []},
        True,
        "minor",
    ),
    "exclude": (
        lambda d: cat(d).update(exclude=[]),
        {"field": "exclude", "added": [], "removed": ["lions"]},
        True,
        "minor",
    ),
    "synonyms": (
        lambda d: cat(d).update(synonyms=["kitty"]),
        {"field": "synonyms", "added": ["kitty"], "removed": []},
        False,
        "patch",
    ),
    "threshold": (
        lambda d: cat(d).update(min_box_px=16),
        {"field": "min_box_px", "from": 10, "to": 16},
        True,
        "minor",
    ),
    "confusable_with": (
        lambda d: cat(d).update(confusable_with=["dog", "bird"]),
        {"field": "confusable_with", "added": ["bird"], "removed": []},
        True,
        "minor",
    ),
    "attribute added": (
        lambda d: cat(d)["attributes"].append({"id": "indoor", "type": "boolean"}),
        {
            "field": "attributes",
            "added": ["indoor"],
            "removed": [],
            "changed": {},
            "required_added": [],
        },
        True,
        "minor",
    ),
    "attribute removed": (
        lambda d: cat(d).update(attributes=[]),
        {
            "field": "attributes",
            "added": [],
            "removed": ["pose"],
            "changed": {},
            "required_added": [],
        },
        True,
        "minor",
    ),
    "attribute made required": (
        lambda d: cat(d)["attributes"][0].update(required=True),
        {
            "field": "attributes",
            "added": [],
            "removed": [],
            "changed": {"pose": {"required": {"from": False, "to": True}}},
            "required_added": ["pose"],
        },
        True,
        "minor",
    ),
    "positive example added": (
        lambda d: cat(d)["examples"]["positive"].append({"image": "examples/cat2.png", "why": "x"}),
        {
            "field": "examples.positive",
            "added": ["examples/cat2.png"],
            "removed": [],
            "changed": [],
        },
        False,
        "patch",
    ),
    "counter example removed": (
        lambda d: cat(d)["examples"].update(counter=[]),
        {"field": "examples.counter", "added": [], "removed": ["examples/fox.png"], "changed": []},
        True,
        "minor",
    ),
    "counter example relabelled": (
        lambda d: cat(d)["examples"]["counter"][0].update(label="bird"),
        {"field": "examples.counter", "added": [], "removed": [], "changed": ["examples/fox.png"]},
        True,
        "minor",
    ),
    "borderline example added": (
        lambda d: cat(d)["examples"]["borderline"].append(
            {"image": "examples/toy.png", "decision": "dog", "rule": "R2", "why": "x"}
        ),
        {
            "field": "examples.borderline",
            "added": ["examples/toy.png"],
            "removed": [],
            "changed": [],
        },
        True,
        "minor",
    ),
}


@pytest.mark.parametrize("kind", list(CLASS_CHANGES))
def test_each_kind_of_class_change(kind):
    change, expected, semantic, bump = CLASS_CHANGES[kind]
    result = diff_specs(spec(), spec(change))
    assert result.changed == {"cat": [expected]}
    assert result.added == result.removed == result.renamed == []
    assert result.detected_affects == (["cat"] if semantic else [])
    assert result.required_bump()[0] == bump
    assert not result.empty


def test_a_new_required_attribute_is_reported_as_such():
    def add(d):
        cat(d)["attributes"].append({"id": "collar", "type": "boolean", "required": True})

    result = diff_specs(spec(), spec(add))
    assert result.changed["cat"][0]["required_added"] == ["collar"]
    assert result.required_bump() == ("minor", "cat: new required attribute(s)")


def test_rule_changes_scoped_and_global():
    def rules(d):
        d["rules"][0]["text"] = "Box the whole animal, tail included."
        d["rules"][1]["min_box_px"] = 12
        d["rules"].append({"id": "R3", "text": "Skip blurred frames."})

    result = diff_specs(spec(), spec(rules))
    assert result.rules["added"] == ["R3"] and result.rules["removed"] == []
    assert result.rules["changed"] == {
        "R1": {
            "fields": {
                "text": {
                    "from": "Box the whole animal.",
                    "to": "Box the whole animal, tail included.",
                }
            },
            "classes": [],
        },
        "R2": {"fields": {"min_box_px": {"from": 8, "to": 12}}, "classes": ["cat"]},
    }
    assert result.changed == {}
    # A rule scoped with applies_to touches its classes; a global one is left to `affects`.
    assert result.detected_affects == ["cat"]
    assert result.required_bump() == ("minor", "rules changed")


def test_a_rule_removed_needs_minor():
    result = diff_specs(spec(), spec(lambda d: d["rules"].pop(0)))
    assert result.rules["removed"] == ["R1"] and result.required_bump()[0] == "minor"


def test_a_decision_tree_change_needs_minor():
    result = diff_specs(spec(), spec(lambda d: d["decision_tree"][0].update(no="dog")))
    assert result.decision_tree_changed and result.to_json()["decision_tree_changed"] is True
    assert result.required_bump() == ("minor", "the decision tree changed")


def test_a_task_change_needs_major():
    result = diff_specs(spec(), spec(lambda d: d.update(task="classification")))
    assert result.required_bump() == ("major", "the task type changed")


def test_affects_is_the_union_of_declared_and_detected():
    new = spec(lambda d: cat(d).update(definition="A feline."))
    result = diff_specs(spec(), new, ["dog", "dog"], "required")
    out = result.to_json()
    assert out["affects_declared"] == ["dog"]
    assert out["affects_detected"] == ["cat"]
    assert out["affects"] == ["cat", "dog"]
    assert out["relabel"] == "required"


def test_the_strongest_relabel_policy_wins():
    assert strongest_relabel(["none", "required", "recommended"]) == "required"
    assert strongest_relabel(["none", "recommended"]) == "recommended"
    assert strongest_relabel([]) == "none"


# -- the CLI on a real workspace --------------------------------------------------------------------


def add_pending(root: Path, summary: str, affects: tuple[str, ...] = (), relabel="none") -> None:
    entry = (
        f"  - version: unreleased\n    summary: {summary}\n"
        f"    affects: [{', '.join(affects)}]\n    relabel: {relabel}\n"
    )
    edit(root, ("\n\nquality:", f"\n{entry}\nquality:"))


def release_many_changes(root: Path, run) -> None:
    """1.1.0: one change of most kinds, and a declared-only `affects: [four]`."""
    edit(
        root,
        (
            "definition: A horizontal top bar joined to a diagonal stroke.",
            "definition: A top bar joined to a diagonal stroke.",
        ),
        (
            "include: [Ones with a base serif, Ones with a short flag]",
            "include: [Ones with a serif]",
        ),
        ("confusable_with: [three]\n", "confusable_with: [three, nine]\n"),
        (
            "      - {id: crossbar, type: boolean, required: false}\n",
            "      - {id: crossbar, type: boolean, required: true}\n",
        ),
        (
            '        - {image: examples/two_like_seven.png, label: two, why: "It has a base stroke."}\n',
            "",
        ),
        (
            '        - {image: examples/two_typical_2.png, why: "A rounder top, same three parts."}\n',
            '        - {image: examples/two_typical_2.png, why: "A rounder top, same three parts."}\n'
            '        - {image: examples/seven_typical_2.png, why: "Not a two; a test."}\n',
        ),
        ("text: Label the digit the writer intended", "text: Label the digit the writer meant"),
    )
    add_pending(root, "Many clarifications", ("four",), "required")
    git(root, "commit", "-q", "-am", "many clarifications")
    run("guideline", "release", "digits", "--bump", "minor", cwd=root)


def test_diff_json_between_two_releases(workspace: Path, run):
    release_many_changes(workspace, run)
    out = json.loads(
        run("guideline", "diff", "digits", "1.0.0", "v1.1.0", "--json", cwd=workspace).stdout
    )

    assert set(out) == JSON_KEYS
    assert (out["from"], out["to"]) == ("1.0.0", "1.1.0")
    classes = out["classes"]
    assert classes["added"] == classes["removed"] == classes["renamed"] == []
    changed = classes["changed"]
    assert set(changed) == {"one", "two", "seven", "eight"}
    assert changed["one"] == [
        {
            "field": "include",
            "added": ["Ones with a serif"],
            "removed": ["Ones with a base serif", "Ones with a short flag"],
        }
    ]
    assert changed["two"] == [
        {
            "field": "examples.positive",
            "added": ["examples/seven_typical_2.png"],
            "removed": [],
            "changed": [],
        }
    ]
    assert changed["eight"] == [{"field": "confusable_with", "added": ["nine"], "removed": []}]
    by_field = {c["field"]: c for c in changed["seven"]}
    assert by_field["definition"]["to"] == "A top bar joined to a diagonal stroke."
    assert by_field["attributes"]["required_added"] == ["crossbar"]
    assert by_field["examples.counter"]["removed"] == ["examples/two_like_seven.png"]
    assert list(out["rules"]["changed"]) == ["R1"]
    assert out["rules"]["changed"]["R1"]["fields"]["text"]["to"].endswith(
        "writer meant, not the closest shape."
    )
    assert out["affects_declared"] == ["four"]
    assert out["affects_detected"] == ["eight", "one", "seven"]
    assert out["affects"] == ["eight", "four", "one", "seven"]
    assert out["relabel"] == "required" and out["required_bump"] == "minor"


def test_diff_against_the_working_tree_includes_uncommitted_edits(workspace: Path, run):
    release_many_changes(workspace, run)
    edit(workspace, ("definition: A single closed oval", "definition: One closed oval"))
    add_pending(workspace, "Zero wording", ("zero",), "recommended")

    out = json.loads(run("guideline", "diff", "digits", "1.1.0", "--json", cwd=workspace).stdout)
    assert (out["from"], out["to"]) == ("1.1.0", "working tree")
    assert list(out["classes"]["changed"]) == ["zero"]
    assert out["affects"] == ["zero"] and out["relabel"] == "recommended"

    since_first = json.loads(
        run("guideline", "diff", "digits", "1.0.0", "--json", cwd=workspace).stdout
    )
    assert since_first["affects"] == ["eight", "four", "one", "seven", "zero"]
    assert since_first["relabel"] == "required"


def test_diff_in_words(workspace: Path, run):
    release_many_changes(workspace, run)
    out = run("guideline", "diff", "digits", "1.0.0", "1.1.0", cwd=workspace).stdout
    assert out.startswith("digits: 1.0.0 -> 1.1.0\n")
    assert "  class seven:\n" in out
    assert "    examples.counter: - examples/two_like_seven.png" in out
    assert "  rule R1: text changed" in out
    assert "affects: eight, four, one, seven (declared: four)" in out
    assert "relabel: required; smallest allowed bump: minor" in out

    same = run("guideline", "diff", "digits", "1.1.0", cwd=workspace).stdout
    assert "no changes to classes, rules or the decision tree" in same


def test_diff_with_an_unknown_version_names_the_released_ones(workspace: Path, run):
    result = run("guideline", "diff", "digits", "0.9.0", "1.0.0", cwd=workspace, expect=3)
    assert "guideline 'digits' has no release 0.9.0 (released: 1.0.0)" in result.stderr


# -- a positive example's drawn answer (QA 36) -----------------------------------------------------
TIGHT = {"class": "cat", "x": 10, "y": 10, "w": 50, "h": 40}
LOOSE = {"class": "cat", "x": 0, "y": 0, "w": 80, "h": 70}


def drawn(boxes: list, wrong: list, extra: list | None = None) -> Callable[[dict], None]:
    def change(d: dict) -> None:
        positive = cat(d)["examples"]["positive"][0]
        positive.update(boxes=boxes + (extra or []), wrong_boxes=wrong)

    return change


def test_a_positive_example_whose_answer_swaps_tight_and_loose_needs_minor_and_affects_it():
    old = spec(drawn([TIGHT], [LOOSE]), version="1.0.0")
    result = diff_specs(old, spec(drawn([LOOSE], [TIGHT])))
    assert result.changed == {
        "cat": [
            {
                "field": "examples.positive",
                "added": [],
                "removed": [],
                "changed": ["examples/cat1.png"],
                "answer_changed": ["examples/cat1.png"],
            }
        ]
    }
    assert result.detected_affects == ["cat"] and result.whole_affects == ["cat"]
    assert result.required_bump() == (
        "minor",
        "the drawn answer of a positive example changed for: cat",
    )


def test_a_redrawn_box_of_another_class_affects_that_class_too():
    dog = {"class": "dog", "x": 100, "y": 5, "w": 30, "h": 30}
    moved = {**dog, "x": 90}
    old = spec(drawn([TIGHT], [], [dog]), version="1.0.0")
    result = diff_specs(old, spec(drawn([TIGHT], [], [moved])))
    # cat: the example is cat's; dog: its box moved. bird: untouched.
    assert result.detected_affects == ["cat", "dog"]
    assert result.required_bump()[0] == "minor"


def test_the_same_boxes_listed_in_another_order_are_the_same_answer():
    dog = {"class": "dog", "x": 100, "y": 5, "w": 30, "h": 30}
    old = spec(drawn([TIGHT], [], [dog]), version="1.0.0")
    result = diff_specs(old, spec(drawn([dog], [], [TIGHT])))
    assert result.detected_affects == [] and result.required_bump()[0] == "patch"


def test_a_drawing_added_to_an_undrawn_positive_example_is_an_answer_change():
    result = diff_specs(spec(), spec(drawn([TIGHT], [])))
    assert result.detected_affects == ["cat"] and result.required_bump()[0] == "minor"


def test_a_positive_example_with_the_same_drawing_and_a_new_why_stays_a_patch():
    old = spec(drawn([TIGHT], [LOOSE]), version="1.0.0")

    def reworded(d: dict) -> None:
        drawn([TIGHT], [LOOSE])(d)
        cat(d)["examples"]["positive"][0]["why"] = "A cat, boxed tight."

    result = diff_specs(old, spec(reworded))
    assert "answer_changed" not in result.changed["cat"][0]
    assert result.detected_affects == [] and result.required_bump()[0] == "patch"


def test_a_ner_span_relabelled_on_a_positive_example_affects_both_classes():
    def spans(label: str) -> Callable[[dict], None]:
        def change(d: dict) -> None:
            d["task"] = "ner"
            cat(d)["examples"]["positive"] = [
                {
                    "text": "Tom the cat.",
                    "spans": [{"start": 8, "end": 11, "label": label}],
                    "why": "x",
                }
            ]

        return change

    result = diff_specs(spec(spans("cat"), version="1.0.0"), spec(spans("dog")))
    assert result.detected_affects == ["cat", "dog"]
    assert result.required_bump()[0] == "minor"
