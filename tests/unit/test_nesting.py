"""Bounded nesting: every JSON and YAML reader refuses documents nested deeper than MAX_DEPTH
with an error naming the file, never a RecursionError."""

from __future__ import annotations

import pytest

from labelspec import nesting, yamlio
from labelspec.errors import InputError, SpecError
from labelspec.nesting import MAX_DEPTH, json_too_deep, value_too_deep


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("[" * MAX_DEPTH + "]" * MAX_DEPTH, False),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), True),
        ('{"a": ' * 50_000 + "1" + "}" * 50_000, True),
        ("[" * 50_000, True),  # never closed: a truncated file still nests that deep
        ('["' + "[" * 1000 + '", "\\"[{"]', False),  # brackets inside strings do not count
        ('{"a": [1, 2, {"b": []}], "c": "]]]]"}', False),
    ],
)
def test_json_depth_counts_brackets_outside_strings(text, deep):
    assert json_too_deep(text) is deep


def test_loads_refuses_deep_json_naming_the_source():
    with pytest.raises(InputError, match=r"^reviews/r\.json: JSON nested deeper than 64 levels"):
        nesting.loads("[" * 5000 + "]" * 5000, "reviews/r.json")
    assert nesting.loads(b'\xef\xbb\xbf{"a": [1]}', "x") == {"a": [1]}


def test_a_value_walk_survives_cycles_and_shared_nodes():
    cycle: list = []
    cycle.append(cycle)
    assert value_too_deep(cycle)
    shared: list = [1]
    for _ in range(40):  # 2**40 paths, 41 nodes: each node is walked a bounded number of times
        shared = [shared, shared]
    assert value_too_deep(shared) is False
    assert value_too_deep({"a": [{"b": [1]}]}) is False


YAML = {
    "20,000 flow brackets": "names: " + "[" * 20_000 + "]" * 20_000 + "\n",
    "nested flow mappings": "a: " + "{b: " * 1000 + "1" + "}" * 1000 + "\n",
    "nested block mappings": "a:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(200)),
    "65 levels": "x: " + "[" * 65 + "]" * 65 + "\n",
}


@pytest.mark.parametrize("case", list(YAML))
@pytest.mark.parametrize("reader", [yamlio.parse, yamlio.fast_load])
def test_deep_yaml_is_a_spec_error_naming_the_file(reader, case):
    with pytest.raises(SpecError, match=r"^data\.yaml: YAML nested deeper than 64 levels"):
        reader(YAML[case], "data.yaml")


def test_a_yaml_alias_that_contains_itself_is_refused_not_walked_forever():
    with pytest.raises(SpecError, match="nested deeper than 64 levels"):
        yamlio.fast_load("a: &a [*a]\n", "data.yaml")  # PyYAML builds the cycle


def test_yaml_as_deep_as_allowed_still_loads():
    text = "x: " + "[" * 63 + "]" * 63 + "\n"
    assert yamlio.fast_load(text, "x.yaml") == yamlio.to_plain(yamlio.parse(text, "x.yaml"))
