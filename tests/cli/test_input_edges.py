"""Input edges at the command line: every numeric option is a finite number within the bounds
the same field has in a file (bad input, exit 1, naming the option), and names that reach
commit messages are one line of printable text."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from labelspec import names
from labelspec.cli import cli
from labelspec.cli.options import _Bounded
from labelspec.errors import InputError
from labelspec.repo import open_repo
from labelspec.transaction import transaction
from tests.helpers import state

REPO_ROOT = Path(__file__).resolve().parents[2]


def _options(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from _options(command, (*prefix, name))
        else:
            for param in command.params:
                yield " ".join((*prefix, name)), param


NUMERIC = [
    (command, param)
    for command, param in _options()
    if isinstance(param.type, click.types.IntParamType | click.types.FloatParamType)
]


def test_every_numeric_option_is_bounded():
    loose = [f"{c} {p.opts[0]}" for c, p in NUMERIC if not isinstance(p.type, _Bounded)]
    assert loose == []
    assert len(NUMERIC) >= 20  # cost, score, iou, seeds, counts, port ...


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400", "1e999999"])
@pytest.mark.parametrize(
    ("command", "param"), NUMERIC, ids=[f"{c} {p.opts[0]}" for c, p in NUMERIC]
)
def test_no_numeric_option_takes_a_number_that_is_not_finite(command, param, value):
    with pytest.raises(InputError, match=f"^{param.opts[0]}"):
        param.type.convert(value, param, None)


def test_an_option_out_of_range_is_bad_input_naming_it(workspace: Path, run):
    """README: `--iou 2` is bad input, exit 1 (click's own ranges exit 2 and let NaN in)."""
    result = run("qa", "bakeoff", "digits", "--iou", "2", cwd=workspace, expect=1)
    assert result.stderr == "Error: --iou must be at most 1 (got 2)\n"
    result = run("qa", "bakeoff", "digits", "--iou", "0", cwd=workspace, expect=1)
    assert result.stderr == "Error: --iou must be above 0 (got 0)\n"
    result = run("items", "list", "digits", "--limit", "2.5", cwd=workspace, expect=1)
    assert result.stderr == "Error: --limit '2.5': not an integer\n"
    result = run("relabel", "plan", "digits", "--limit", "0", "--out", "x", cwd=workspace, expect=1)
    assert result.stderr == "Error: --limit must be at least 1 (got 0)\n"


@pytest.mark.parametrize("weights", ["accuracy=nan", "accuracy=inf,cost=1", "speed=1e400"])
def test_bakeoff_weights_must_be_finite(workspace: Path, run, weights):
    result = run("qa", "bakeoff", "digits", "--weights", weights, cwd=workspace, expect=1)
    assert result.stderr.startswith(f"Error: --weights {weights!r}: give finite, non-negative")


# -- control characters in names that reach commit messages ---------------------------------------
REFUSED = {
    "a vendor with a newline": (
        ["labeler", "add", "vz-01", "--vendor", "vendor-z\nInjected"],
        "--vendor 'vendor-z\\nInjected' contains a control character (a line break, \\n)",
    ),
    "a team with an escape": (
        ["labeler", "add", "vz-01", "--vendor", "vendor-z", "--team", "night\x1b[2J"],
        "--team 'night\\x1b[2J' contains a control character (U+001B)",
    ),
    # `$` in a Python pattern also matches before a final newline: ids are matched whole
    "a labeler id ending in a newline": (["labeler", "add", "vz-01\n", "--vendor", "v"], "vz-01"),
    "a dataset name ending in a newline": (["dataset", "add", "pets\n"], "dataset name 'pets\\n'"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_name_with_a_control_character_is_refused(workspace: Path, run, case):
    args, fragment = REFUSED[case]
    before = state(workspace)

    result = run(*args, cwd=workspace, expect=1)

    assert result.stderr.startswith("Error: ") and fragment in result.stderr, result.stderr
    assert state(workspace) == before


def test_a_note_may_span_lines_but_holds_no_other_control_character():
    assert names.note("for the spring model\n\tv2 boxes", "--message")
    with pytest.raises(InputError, match=r"--message .* \(a carriage return, \\r\)"):
        names.note("spring\r\nmodel", "--message")


def test_no_commit_message_with_a_control_character_is_written(workspace: Path):
    ws = open_repo(workspace)
    before = state(workspace)
    with (
        pytest.raises(InputError, match="the commit message"),
        transaction(ws, "add labeler \x1b[31mred"),
    ):
        raise AssertionError("refused before the lock")  # pragma: no cover
    with (
        pytest.raises(InputError, match="the commit message"),
        transaction(ws, "a plain subject") as tx,
    ):
        tx.write_text(workspace / "labelers" / "note.txt", "x\n")
        tx.journal.message = "reworded\x00"
    assert state(workspace) == before


def test_the_docs_and_help_agree_that_relabel_answers_keep_source_relabel(run):
    decisions = (REPO_ROOT / "docs/decisions.md").read_text()
    assert "take their `source` from the labeler's vendor" not in decisions
    assert "record source `relabel` on their answers" in decisions
    assert "answers' source is `relabel`" in " ".join(
        run("relabel", "merge", "--help").stdout.split()
    )
