from __future__ import annotations

import tempfile
from pathlib import Path

import click

from labelspec.cli.options import BoundedInt, current_repo, version_option
from labelspec.cli.output import json_option, note, write_json
from labelspec.errors import NotFoundError


@click.group("site")
def site_group() -> None:
    """The instruction site for labelers: build, publish one version per release, serve.

    \b
    Example:
      labelspec site build
      labelspec site publish digits --folder site-versions
      labelspec site serve
      labelspec site pdf digits --out digits.pdf
    """


labelers_option = click.option(
    "--labelers",
    metavar="all|VENDOR",
    help="Add the Labelers page (who is trained on which version): for every vendor, or for "
    "one vendor only [default: as mkdocs.yml says; none unless it opts in].",
)


@site_group.command("build")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder [default: site/]; emptied first, so a folder of the workspace is refused.",
)
@labelers_option
@click.option(
    "--force",
    is_flag=True,
    help="Replace the contents of a non-empty --out folder that is not a previous site build.",
)
@json_option
def build_command(out, labelers, force, as_json) -> None:
    """Build the site from the working tree (strict: a broken link or spec error fails).

    Pages of unreleased edits say they are a draft. For live editing, run `mkdocs serve` in the
    workspace instead: it reloads on every save.

    \b
    Example:
      labelspec site build --out build/site
      labelspec site build --labelers vendor-a --out build/site-vendor-a
    """
    from labelspec.site.build import build  # lazy: loaded when it runs

    result = build(current_repo(), out, labelers, force)
    if as_json:
        write_json(result.to_json())
    else:
        click.echo(f"Built {result.pages} page(s) into {result.out}")


@site_group.command("publish")
@click.argument("name")
@version_option("--version", help="Released version [default: the newest].")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Deploy into this folder (mike layout).",
)
@click.option(
    "--branch",
    default="gh-pages",
    show_default=True,
    help="Commit the deployed tree to this branch.",
)
@click.option("--no-branch", is_flag=True, help="Only deploy to --folder.")
@labelers_option
@json_option
def publish_command(name, version, folder, branch, no_branch, labelers, as_json) -> None:
    """Build guideline NAME as released at --version (from its git tag) and deploy it.

    Versions sit side by side in the mike layout (versions.json, a `latest` alias, the Material
    version selector), in a folder and/or on a branch for static hosting.

    \b
    Example:
      labelspec site publish digits --version 1.0.0 --folder site-versions --no-branch
      labelspec site publish digits                   # newest release -> gh-pages
    """
    from labelspec.site.build import publish  # lazy: loaded when it runs

    result = publish(current_repo(), name, version, folder, None if no_branch else branch, labelers)
    if as_json:
        write_json(result.to_json())
        return
    where = " and ".join(
        x
        for x in (
            str(result.folder) if result.folder else "",
            f"branch {result.branch} ({result.commit[:10]})" if result.branch else "",
        )
        if x
    )
    click.echo(f"Published {name} {result.version} to {where}")

    def listing(versions: list[dict]) -> str:
        return ", ".join(
            f"{v['version']}{' (latest)' if 'latest' in v['aliases'] else ''}" for v in versions
        )

    if result.branch:
        click.echo(f"  on {result.branch}: {listing(result.versions)}")
        if result.started_from:
            click.echo(
                f"  continued from {result.started_from} (the versions already published); "
                f"push with `git push {result.started_from.split('/')[0]} {result.branch}`"
            )
    if result.folder:
        click.echo(f"  in {result.folder}: {listing(result.folder_versions)}")


@site_group.command("pdf")
@click.argument("name")
@version_option("--version", help="Released version [default: the working tree, as a draft].")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The PDF file to write.",
)
@json_option
def pdf_command(name, version, out, as_json) -> None:
    """Guideline NAME as one printable PDF, for vendors who want the instructions as a document.

    It is the site's "Print or PDF" page printed by headless Chromium (Debian's `chromium`, or
    Google Chrome, on PATH). Without Chromium, open that page of a built site and print it.

    \b
    Example:
      labelspec site pdf digits --version 1.1.0 --out digits-1.1.0.pdf
    """
    from labelspec.site.build import pdf  # lazy: loaded when it runs

    result = pdf(current_repo(), name, out, version)
    if as_json:
        write_json(result.to_json())
    else:
        what = f"{name} {result.version}" if result.version else f"{name} (working tree, draft)"
        click.echo(f"Wrote {result.out}: {what}, {result.bytes:,} bytes")


@site_group.command("serve")
@click.option(
    "--folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="A published folder [default: the gh-pages branch].",
)
@click.option("--branch", default="gh-pages", show_default=True)
@click.option("--port", type=BoundedInt(0, 65535), default=8000, show_default=True)
def serve_command(folder, branch, port) -> None:
    """Serve every published version locally (the version selector needs HTTP, not file://).

    \b
    Example:
      labelspec site serve --port 8000
    """
    from labelspec.site.build import serve  # lazy: loaded when it runs
    from labelspec.vcs import extract_branch  # lazy: loaded when it runs

    ws = current_repo()
    with tempfile.TemporaryDirectory(prefix="labelspec-serve-") as tmp:
        if folder is None:
            if not extract_branch(ws.root, branch, Path(tmp), diverged_ok=True):
                raise NotFoundError(
                    f"no branch {branch!r}: publish first (`labelspec site publish NAME`) or pass --folder"
                )
            folder = Path(tmp)
        server = serve(folder, port=port)
        note(f"Serving {folder} at http://127.0.0.1:{port}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
