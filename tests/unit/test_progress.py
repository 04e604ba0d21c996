"""Progress bars: drawn on stderr when it is a terminal, silent otherwise and under --quiet."""

from __future__ import annotations

import io
import sys

import pytest

from labelspec import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch) -> Terminal:
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    yield screen
    progress.set_quiet(False)


def test_a_bar_is_drawn_on_a_terminal(capsys, monkeypatch):
    with capsys.disabled():  # rich draws nothing while pytest captures the process's output
        screen = Terminal()
        monkeypatch.setattr(sys, "stderr", screen)
        with progress.progress("hashing items", total=3) as advance:
            advance(1)
            with progress.progress("nested step", total=1) as inner:  # one display, two lines
                inner(1)
            advance(2)
        monkeypatch.undo()
    assert "hashing items" in screen.getvalue() and "3/3" in screen.getvalue()


def test_quiet_draws_nothing(terminal):
    progress.set_quiet(True)
    assert list(progress.track([1, 2, 3], "copying")) == [1, 2, 3]
    assert terminal.getvalue() == ""


def test_nothing_is_drawn_off_a_terminal(monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    assert not progress.enabled()
    with progress.progress("pushing", total=None) as advance:
        advance(1)
    assert pipe.getvalue() == ""


def test_a_bar_shows_its_rate(capsys, monkeypatch):
    import time

    with capsys.disabled():
        screen = Terminal()
        monkeypatch.setattr(sys, "stderr", screen)
        with progress.progress("writing labels", total=50_000) as advance:
            for _ in range(5):
                advance(10_000)
                time.sleep(0.05)
        monkeypatch.undo()
    assert "writing labels" in screen.getvalue() and "/s" in screen.getvalue()
