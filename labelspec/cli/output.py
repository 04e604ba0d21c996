"""Rendering helpers: JSON for scripts on stdout, rich tables for people, notes on stderr."""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON for scripts on stdout."
)


def write_json(data: Any) -> None:
    """``--json``: a verb's result as its ``to_json()`` says (plain data as it is)."""
    if hasattr(data, "to_json"):
        data = data.to_json()
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def note(message: str) -> None:
    """A line for people, on stderr so that stdout stays clean for pipes."""
    click.echo(message, err=True)


def console():
    from rich.console import Console  # lazy: rich (~40 ms), only for what prints a table

    width = None if sys.stdout.isatty() else max(shutil.get_terminal_size((120, 24)).columns, 120)
    return Console(file=sys.stdout, width=width, highlight=False)


# control characters but line breaks and tabs: shown as escapes, never sent to the terminal
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def cell(value: Any) -> str:
    """A table cell's text: control characters escaped (a summary holding ESC [31m would
    restyle the terminal)."""
    text = "" if value is None else str(value)
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table  # lazy: see console()
    from rich.text import Text  # lazy: as above

    grid = Table(title=title, title_justify="left", show_edge=False, header_style="bold")
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        # Text, not str: rich reads a str as markup, so a summary "[/red]" crashed the table and
        # "[b]" vanished; what labelers and tools wrote is shown as written
        grid.add_row(*[Text(cell(v)) for v in row])
    console().print(grid)
