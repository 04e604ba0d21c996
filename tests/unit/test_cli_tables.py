"""CLI tables show what labelers and tools wrote as written: no rich markup read into it (a
changelog summary "[/red]" crashed the table, "[b]" vanished), no control character sent to the
terminal (ESC [31m would restyle it)."""

from __future__ import annotations

from labelspec.cli.output import table


def test_cells_are_shown_as_written_with_control_characters_escaped(capsys):
    table(None, ["version", "summary"], [("1.1.0", "see [/red] and [b]x[/b]"),
                                         ("1.2.0", "bell\x07 \x1b[31mred"), ("1.3.0", None)])  # fmt: skip
    lines = [line.split("│")[1].strip() for line in capsys.readouterr().out.splitlines()[2:]]
    assert lines == ["see [/red] and [b]x[/b]", "bell\\x07 \\x1b[31mred", ""]
