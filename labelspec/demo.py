"""``labelspec demo``: build a fresh workspace and run the main flows end to end, narrating.

Every step is a real ``labelspec`` command run in-process, echoed as the user would type it, so
the demo doubles as a tour of the CLI.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

import click

from labelspec import yamlio

BROKEN_EDITS = {
    "confusable_with: [seven]": "confusable_with: [seven, siete]",
    "- {image: examples/one_typical_2.png,": "- {image: examples/one_typical_3.png,",
    "version: 1.0.0\nowners": "version: 1.0\nowners",
    "definition: Two closed loops stacked, touching": "defintion: Two closed loops stacked,",
}


class Demo:
    def __init__(self, out: Path, echo: Callable[[str], None] = click.echo):
        self.out = out.resolve()
        self.ws = self.out / "workspace"
        self.echo = echo

    def say(self, text: str) -> None:
        self.echo(click.style(f"\n## {text}", bold=True))

    def run(self, command: str, expect_fail: bool = False, cwd: Path | None = None) -> int:
        from labelspec.cli import cli

        self.echo(click.style(f"$ labelspec {command}", fg="cyan"))
        previous = Path.cwd()
        os.chdir(cwd or self.ws)
        try:
            cli.main(args=shlex.split(command), prog_name="labelspec", standalone_mode=False)
            code = 0
        except click.ClickException as exc:
            exc.show()
            code = exc.exit_code
        finally:
            os.chdir(previous)
        if bool(code) != expect_fail:
            raise click.ClickException(
                f"demo step `labelspec {command}` exited {code}, expected the opposite"
            )
        return code

    def fresh(self) -> None:
        for path in (self.ws, self.out / "workspace.dvc-storage"):
            if path.exists():
                shutil.rmtree(path)
        self.out.mkdir(parents=True, exist_ok=True)

    def step_init(self) -> None:
        self.say("1. Create a workspace: git + DVC + the digits guideline, in one commit")
        self.run(f"init {shlex.quote(str(self.ws))}", cwd=self.out)
        self.run("check")

    def step_broken_spec(self) -> None:
        self.say("2. A spec with mistakes: `check` lists every one with its line, and exits 1")
        spec = self.ws / "guidelines/digits/spec.yaml"
        original = spec.read_text()
        broken = original
        for old, new in BROKEN_EDITS.items():
            broken = broken.replace(old, new, 1)
        yamlio.atomic_write_text(spec, broken)
        try:
            self.run("check", expect_fail=True)
        finally:
            yamlio.atomic_write_text(spec, original)
        self.run("check")

    def main(self) -> None:
        self.fresh()
        self.step_init()
        self.step_broken_spec()
        self.say("Done")
        self.echo(f"The workspace is in {self.ws}; try `cd {self.ws} && labelspec --help`.")


def run_demo(out: Path | str) -> Path:
    demo = Demo(Path(out))
    demo.main()
    return demo.ws
