from __future__ import annotations

import click

from labelspec.cli.output import write_json


@click.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of spec.yaml, for editor completion and validation.

    \b
    Example:
      labelspec schema > spec.schema.json
      # then in spec.yaml: # yaml-language-server: $schema=spec.schema.json
    """
    from labelspec.guideline.spec import json_schema  # lazy: loaded when it runs

    write_json(json_schema())
