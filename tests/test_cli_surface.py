"""The CLI as a whole: help with examples everywhere, light startup, one error path."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from labelspec.cli import COMMANDS, cli


def all_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


@pytest.mark.parametrize(
    ("path", "command"),
    list(all_commands()),
    ids=lambda v: " ".join(v) if isinstance(v, tuple) else "",
)
def test_every_command_has_help_with_an_example(path, command, run):
    result = run(*path, "--help")
    assert "Example:" in result.stdout, f"`labelspec {' '.join(path)} --help` shows no example"
    assert command.get_short_help_str()


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_help_line_of_a_command_is_its_own(name):
    """`labelspec --help` lists commands from the registry, without importing them: the lines
    must be the commands' own first help lines."""
    command = cli.get_command(click.Context(cli), name)
    assert COMMANDS[name][1] == command.get_short_help_str(limit=120)


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys, json\n"
        "from labelspec.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('dvc', 'duckdb', 'mkdocs', 'pyarrow'))), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stderr.strip().splitlines()[-1]) == []
    assert "Commands:" in result.stdout


def test_version(run):
    from labelspec import __version__

    assert run("--version").stdout.strip() == f"labelspec, version {__version__}"


def test_errors_show_a_traceback_only_with_verbose(tmp_path, run):
    quiet = run("check", cwd=tmp_path, expect=1)
    assert "Traceback" not in quiet.stderr and quiet.stderr.startswith("Error: ")
    loud = run("-v", "check", cwd=tmp_path, expect=1)
    assert "Traceback" in loud.stderr and "WorkspaceError" in loud.stderr


def test_schema_is_a_json_schema_for_spec_yaml(run):
    schema = json.loads(run("schema").stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert {"guideline", "version", "classes", "changelog"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
