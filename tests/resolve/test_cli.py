"""`labels resolve` and `trainset ...` through click, on the hand-written digits workspace (the
lead attaches them to `labelspec`; here they hang off a group of their own)."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from labelspec.cli import LabelspecGroup
from labelspec.cli.resolve import METHODS, resolve_command
from labelspec.cli.trainset import trainset_group
from labelspec.resolve import resolution as library
from tests.helpers import state

cli = LabelspecGroup(
    name="labelspec", commands={"resolve": resolve_command, "trainset": trainset_group}
)


@pytest.fixture
def invoke(monkeypatch):
    def run(ws, *args: str, expect: int = 0):
        monkeypatch.chdir(ws.root)
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        assert result.exit_code == expect, result.stdout + result.stderr
        return result

    return run


def test_resolve_prints_a_summary_and_writes_every_decision(
    digits_votes, copy_of, invoke, tmp_path
):
    ws = copy_of(digits_votes)
    out = tmp_path / "resolved.parquet"
    result = invoke(ws, "resolve", "digits", "--min-confidence", "0.7", "--out", str(out))
    assert "by majority: 7 label(s) on 7 of 10 item(s); 1 tie(s), 3 low-confidence" in result.stdout
    assert "To relabel (tie or below 0.7): d04.png, d06.png, d09.png" in result.stdout
    assert f"Wrote 10 decision(s) to {out}" in result.stderr
    assert pq.read_table(out).column("status").to_pylist().count("tie") == 1


def test_resolve_json_and_jsonl(digits_votes, copy_of, invoke, tmp_path):
    ws = copy_of(digits_votes)
    out = tmp_path / "resolved.jsonl"
    result = invoke(ws, "resolve", "digits", "--method", "dawid-skene", "--json", "--out", str(out))
    summary = json.loads(result.stdout)
    assert (summary["method"], summary["labels"], summary["ties"]) == ("dawid-skene", 10, 0)
    assert summary["labeler_quality"]["lab-a1"] > summary["labeler_quality"]["lab-c1"]
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(lines) == 10 and lines[4]["item_id"] == "d04.png" and lines[4]["class"] == "seven"


def test_errors_exit_non_zero_with_what_to_do(digits_votes, invoke):
    before = state(digits_votes.root)
    result = invoke(digits_votes, "resolve", "digits", "--method", "golden-first", expect=3)
    assert "Error: golden-first needs a golden set" in result.stderr
    assert "labelspec golden add" in result.stderr
    result = invoke(digits_votes, "trainset", "show", "nope", expect=3)
    assert "Error: no training set 'nope'" in result.stderr
    assert state(digits_votes.root) == before


def test_trainset_commands(digits_votes, copy_of, invoke):
    ws = copy_of(digits_votes)
    made = invoke(ws, "trainset", "create", "v1", "--dataset", "digits", "--min-confidence", "0.7",
                  "--suspect", "include")  # fmt: skip
    assert "Pinned training set v1: 7 label(s) on 7 item(s) of digits" in made.stdout
    assert "splits: train 7 item(s)" in made.stdout
    assert (
        "left out: 3 item(s): low confidence (a tie, or below --min-confidence), 1 tie(s)"
        in made.stdout
    )
    record = json.loads(
        invoke(ws, "trainset", "create", "v2", "--dataset", "digits", "--method", "dawid-skene",
               "--suspect", "include", "--json").stdout
    )  # fmt: skip
    assert (record["name"], record["rows"], record["tagged"]) == ("v2", 10, True)
    again = invoke(ws, "trainset", "create", "v1", "--dataset", "digits", "--suspect", "include",
                   expect=4)  # fmt: skip
    assert "exists already" in again.stderr
    shown = json.loads(invoke(ws, "trainset", "show", "v1", "--json").stdout)
    assert (shown["min_confidence"], shown["low_confidence"]) == (0.7, 3)
    assert "sha256" in invoke(ws, "trainset", "show", "v1").stdout
    listed = json.loads(invoke(ws, "trainset", "list", "--json").stdout)
    assert [t["name"] for t in listed] == ["v1", "v2"]
    assert "v2" in invoke(ws, "trainset", "list", "--dataset", "digits").stdout
    diff = invoke(ws, "trainset", "diff", "v1", "v2")
    # v1 left out d04, d06, d09 (0.7); v2 resolved all ten, the seven shared ones alike
    assert "7 item(s) the same, 0 changed, 0 only in v1, 3 only in v2; 0 moved split" in diff.stdout


def test_every_command_has_help_with_an_example():
    for args in (
        ["resolve"],
        ["trainset"],
        *(["trainset", c] for c in ("create", "show", "list", "diff", "export", "card")),
    ):
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0 and "Example:" in result.stdout, args


def test_the_cli_offers_the_library_methods():
    # the CLI spells them out so that `--help` does not import numpy and pyarrow
    assert METHODS == library.METHODS
