"""The spec models and cross-reference checks: each error message a user can meet."""

from __future__ import annotations

import copy

import pytest

from labelspec import yamlio
from labelspec.guideline.check import validate_data
from labelspec.guideline.spec import known_ids

BASE = {
    "guideline": "digits",
    "title": "Digits",
    "version": "1.1.0",
    "task": "classification",
    "rules": [{"id": "R1", "text": "Label what the writer meant."}],
    "classes": [
        {
            "id": "one",
            "name": "One",
            "definition": "A stroke.",
            "confusable_with": ["seven"],
            "examples": {
                "positive": [{"image": "examples/one.png", "why": "Typical."}],
                "counter": [{"image": "examples/seven.png", "label": "seven", "why": "Long bar."}],
                "borderline": [
                    {
                        "image": "examples/b.png",
                        "decision": "one",
                        "rule": "R1",
                        "why": "Short flag.",
                    }
                ],
            },
        },
        {
            "id": "seven",
            "name": "Seven",
            "definition": "A bar and a diagonal.",
            "confusable_with": ["one"],
        },
    ],
    "decision_tree": [{"id": "bar", "question": "Long top bar?", "yes": "seven", "no": "one"}],
    "changelog": [
        {"version": "1.0.0", "date": "2026-01-15", "summary": "First release"},
        {
            "version": "1.1.0",
            "date": "2026-02-01",
            "summary": "Clarify",
            "affects": ["one"],
            "relabel": "required",
        },
    ],
}


def messages(data: dict) -> list[tuple[str, str]]:
    raw = yamlio.parse(yamlio.dumps(data))
    result = validate_data(raw, "spec.yaml")
    return [(p.path, p.message) for p in result.errors]


def edited(**changes) -> dict:
    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        node = data
        parts = [int(p) if p.isdigit() else p for p in dotted.split("__")]
        for part in parts[:-1]:
            node = node[part]
        if value is KeyError:
            del node[parts[-1]]
        else:
            node[parts[-1]] = value
    return data


def test_a_valid_spec_has_no_errors():
    assert messages(BASE) == []


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        (
            {"classes__0__defintion": "x"},
            "classes[0].defintion",
            "unknown key 'defintion' (did you mean 'definition'?)",
        ),
        ({"classes__0__definition": KeyError}, "classes[0].definition", "required key is missing"),
        ({"version": "1.1"}, "version", "must be a semantic version like 1.2.0, not '1.1'"),
        (
            {"guideline": "Digits Set"},
            "guideline",
            "String should match pattern '^[a-z0-9][a-z0-9_-]*$' (got 'Digits Set')",
        ),
        (
            {"task": "segmentation"},
            "task",
            "Input should be 'classification', 'multilabel', 'detection' or 'ner' (got 'segmentation')",
        ),
        ({"classes__1__id": "one"}, "classes[0].id", "duplicate id 'one' (ids must be unique)"),
        (
            {"classes__0__confusable_with": ["siete"]},
            "classes[0].confusable_with[0]",
            "confusable_with 'siete' is not a class id (known: one, seven)",
        ),
        (
            {"classes__0__confusable_with": ["one"]},
            "classes[0].confusable_with[0]",
            "a class cannot be confusable with itself",
        ),
        (
            {"classes__0__examples__counter__0__label": "eight"},
            "classes[0].examples.counter[0].label",
            "label 'eight' is not a class id (known: one, seven)",
        ),
        (
            {"classes__0__examples__counter__0__label": "one"},
            "classes[0].examples.counter[0].label",
            "a counterexample of 'one' cannot be labeled 'one'",
        ),
        (
            {"classes__0__examples__borderline__0__decision": "nine"},
            "classes[0].examples.borderline[0].decision",
            "decision 'nine' is not a class id (known: one, seven)",
        ),
        (
            {"classes__0__examples__borderline__0__rule": "R9"},
            "classes[0].examples.borderline[0].rule",
            "rule 'R9' is not defined in `rules`",
        ),
        (
            {"classes__0__examples__positive__0__text": "also text"},
            "classes[0].examples.positive[0]",
            "an example has exactly one of `image` or `text`",
        ),
        (
            {"decision_tree__0__yes": "eight"},
            "decision_tree[0].yes",
            "'eight' is neither a node nor a class id",
        ),
        (
            {"decision_tree__0__id": "one"},
            "decision_tree[0].id",
            "node id 'one' clashes with a class id",
        ),
        (
            {"changelog__1__version": "0.9.0", "version": "0.9.0"},
            "changelog[1].version",
            "0.9.0 does not follow 1.0.0 (oldest first)",
        ),
        (
            {"version": "1.2.0"},
            "changelog[1].version",
            "newest entry is 1.1.0 but `version` is 1.2.0",
        ),
        (
            {"changelog__0__date": KeyError},
            "changelog[0].date",
            "a released entry needs its `date`",
        ),
        (
            {"changelog__1__relabel": "maybe"},
            "changelog[1].relabel",
            "Input should be 'required', 'recommended' or 'none' (got 'maybe')",
        ),
        (
            {"classes__0__attributes": [{"id": "kind", "type": "nominal"}]},
            "classes[0].attributes[0]",
            "a nominal attribute needs its allowed `values`",
        ),
        (
            {"classes__0__attributes": [{"id": "ok", "type": "boolean", "values": ["y"]}]},
            "classes[0].attributes[0]",
            "a boolean attribute takes no `values`",
        ),
    ],
)
def test_each_mistake_has_its_message(changes, path, message):
    assert (path, message) in messages(edited(**changes))


def test_decision_tree_loops_are_found():
    data = edited(
        decision_tree=[
            {"id": "a", "question": "A?", "yes": "b", "no": "one"},
            {"id": "b", "question": "B?", "yes": "a", "no": "seven"},
        ]
    )
    assert ("decision_tree[1].yes", "'a' leads back into a loop") in messages(data)


def test_pending_entry_must_be_last_and_single():
    data = edited()
    data["changelog"].insert(0, {"version": "unreleased", "summary": "Next"})
    data["changelog"].append({"version": "unreleased", "summary": "Again"})
    found = messages(data)
    assert ("changelog[0].version", "the `unreleased` entry must come last") in found
    assert ("changelog[3].version", "only one `unreleased` entry is allowed") in found


def test_ner_examples_carry_text_with_spans_inside_it():
    data = edited(task="ner")
    data["classes"][0]["examples"] = {
        "positive": [
            {"text": "Ada wrote", "spans": [{"start": 0, "end": 30, "label": "one"}], "why": "x"}
        ],
        "counter": [{"image": "a.png", "why": "x"}],
    }
    found = messages(data)
    assert ("classes[0].examples.positive[0]", "span 0-30 ends past the text (9 chars)") in found
    assert (
        "classes[0].examples.counter[0].image",
        "an ner guideline's examples carry `text`, not `image`",
    ) in found


def test_shape_errors_do_not_hide_reference_errors():
    data = edited(
        version="1.x", classes__1__definition=KeyError, classes__0__confusable_with=["siete"]
    )
    found = messages(data)
    assert ("version", "must be a semantic version like 1.2.0, not '1.x'") in found
    assert ("classes[1].definition", "required key is missing") in found
    assert (
        "classes[0].confusable_with[0]",
        "confusable_with 'siete' is not a class id (known: one, seven)",
    ) in found
    # the class cut out for its own error is still known by id: no false alarm about 'seven'
    assert not any("'seven' is not a class id" in m for _, m in found)


def test_unknown_affects_is_only_a_warning():
    data = edited(changelog__1__affects=["eleven"])
    raw = yamlio.parse(yamlio.dumps(data))
    result = validate_data(raw, "spec.yaml")
    assert result.errors == []
    assert [w.message for w in result.warnings] == [
        "'eleven' is not a current class (fine if it was removed)"
    ]


def test_min_box_px_takes_the_strictest_rule():
    from labelspec.guideline.spec import Spec

    data = edited(task="detection")
    data["rules"] = [
        {"id": "R1", "text": "x", "min_box_px": 8},
        {"id": "R2", "text": "y", "min_box_px": 20, "applies_to": ["seven"]},
    ]
    data["classes"][0]["examples"] = {}
    spec = Spec.model_validate(data)
    assert spec.min_box_px("one") == 8
    assert spec.min_box_px("seven") == 20


def test_min_span_chars_takes_the_strictest_rule_and_names_it():
    from labelspec.guideline.spec import Spec

    data = edited(task="ner")
    data["rules"] = [
        {"id": "R1", "text": "x", "min_span_chars": 2},
        {"id": "R2", "text": "y", "min_span_chars": 5, "applies_to": ["seven"]},
        {"id": "R3", "text": "z"},
    ]
    data["classes"][0]["examples"] = {}
    spec = Spec.model_validate(data)
    assert spec.min_span_chars("one") == (2, "R1")
    assert spec.min_span_chars("seven") == (5, "R2")
    data["rules"] = [{"id": "R3", "text": "z"}]
    assert Spec.model_validate(data).min_span_chars("one") is None


def test_an_example_span_shorter_than_its_class_minimum_is_an_error():
    """R1 sets 2 characters: "Al" (0-2) is the minimum itself, "A" (0-1) one short."""
    data = edited(task="ner")
    data["rules"] = [{"id": "R1", "text": "x", "min_span_chars": 2}]
    text = "Al met Bo."
    data["classes"][0]["examples"] = {
        "positive": [
            {"text": text, "spans": [{"start": 0, "end": 2, "label": "one"}], "why": "Two."},
            {"text": text, "spans": [{"start": 0, "end": 1, "label": "one"}], "why": "One."},
        ]
    }
    assert messages(data) == [
        (
            "classes[0].examples.positive[1].spans[0]",
            "span 0-1 is 1 character(s) long, shorter than the 2-character minimum for one "
            "(rule R1; a labeler could not submit it)",
        )
    ]


def test_an_unknown_class_id_lists_every_id_of_a_small_spec_and_a_guess_in_a_large_one():
    small = [f"c{i}" for i in range(12)]
    assert known_ids(small, "x") == f"known: {', '.join(small)}"
    large = [f"class-{i:04d}" for i in range(2000)]
    assert known_ids(large, "class-0007x") == (
        "did you mean 'class-0007'? known: class-0000, class-0001, class-0002, class-0003, "
        "class-0004, class-0005, class-0006, class-0007, class-0008, class-0009 and 1990 more"
    )
    assert known_ids(large, "zebra").startswith("known: class-0000, ")
