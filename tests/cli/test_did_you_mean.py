"""A typo gets the name that was meant: commands (lazy ones included), guidelines."""

from __future__ import annotations


def test_an_unknown_command_suggests_the_close_one(run):
    result = run("lables", expect=2)
    assert "No such command 'lables'. Did you mean 'labels'?" in result.stderr


def test_an_unknown_guideline_suggests_the_close_one(make_workspace, run):
    root = make_workspace()
    result = run("trace", "impact", "digits", "--guideline", "digts", cwd=root, expect=None)
    assert result.exit_code != 0
    assert "did you mean 'digits'?" in result.stderr
