"""Progress bars for long work (hashing items, imports, push and pull, site builds, bootstraps).

    with progress("hashing items", total=len(files)) as advance:
        for file in files:
            ...
            advance(1)

Bars go to stderr, so stdout stays clean for ``--json`` and pipes, and they vanish when done.
They are silent when stderr is not a terminal (CI logs, scripts) or after ``set_quiet(True)``
(the CLI's global ``--quiet``). Nested calls add a bar to the display already shown. ``rich`` is
imported only when a bar is actually drawn, so importing this module costs nothing.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

_quiet = False
_live: list[Any] = []  # the rich Progress on screen, while one is


def set_quiet(quiet: bool) -> None:
    """Turn every progress bar off (``--quiet``) or back on."""
    global _quiet
    _quiet = quiet


def enabled() -> bool:
    """Whether bars are drawn: not quiet, and stderr is a terminal."""
    isatty = getattr(sys.stderr, "isatty", None)
    return not _quiet and bool(isatty and isatty())


def _nothing(_steps: float = 1) -> None:
    return None


@contextlib.contextmanager
def progress(description: str, total: float | None = None) -> Iterator[Callable[[float], None]]:
    """A bar for ``description`` (a spinner when ``total`` is unknown); yields ``advance``."""
    if not enabled():
        yield _nothing
        return
    if _live:  # inside another bar: one display, one more line
        bars = _live[-1]
        task = bars.add_task(description, total=total)
        try:
            yield lambda steps=1: bars.advance(task, steps)
        finally:
            bars.remove_task(task)
        return
    # lazy: rich's progress and live display (~30 ms), only when a bar is drawn
    from rich.console import Console  # lazy: see above
    from rich.progress import (  # lazy: see above
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text  # lazy: see above

    class Rate(ProgressColumn):
        """Steps per second (rows, files), once there is a rate to show."""

        def render(self, task) -> Text:
            return Text(f"{task.speed:,.0f}/s" if task.speed else "")

    bars = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        Rate(),
        TimeElapsedColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    task = bars.add_task(description, total=total)
    _live.append(bars)
    try:
        with bars:
            yield lambda steps=1: bars.advance(task, steps)
    finally:
        _live.pop()


def track(items: Iterable[T], description: str, total: float | None = None) -> Iterator[T]:
    """``items``, one step of a bar each (``total`` defaults to ``len(items)`` when known)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with progress(description, total) as advance:
        for item in items:
            yield item
            advance(1)
