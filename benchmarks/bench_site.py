"""Site benchmark (issue 6): ``labelspec site build`` of a guideline with 100 classes and 2,000
example images vs a plain ``mkdocs build`` of the same rendered pages (target <= 1.3x)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np

from benchmarks.common import OUT, repeats, run_child, save, scaled

CLASSES, EXAMPLES = scaled(100, 2), 20


def _guideline(root) -> None:
    from PIL import Image

    from labelspec.guideline.release import tag_current
    from labelspec.init import init
    from labelspec.workspace import Workspace

    if root.exists():
        shutil.rmtree(root)
    init(root, template="classification")
    folder = root / "guidelines/digits"
    rng = np.random.default_rng(0)
    (folder / "examples").mkdir(exist_ok=True)
    lines = [
        "guideline: digits",
        "title: Many classes",
        "version: 1.0.0",
        "task: classification",
        "rules:",
        "  - {id: R1, text: Label what you see.}",
        "classes:",
    ]
    for c in range(CLASSES):
        lines += [
            f"  - id: c{c:03d}",
            f"    name: Class {c}",
            f"    definition: The definition of class {c}.",
            f"    confusable_with: [c{(c + 1) % CLASSES:03d}]",
            "    examples:",
        ]
        for kind, count in (("positive", 10), ("counter", 5), ("borderline", 5)):
            lines.append(f"      {kind}:")
            for e in range(count):
                name = f"examples/c{c:03d}_{kind}_{e}.png"
                Image.fromarray(rng.integers(0, 255, (48, 48), dtype=np.uint8)).save(folder / name)
                extra = {
                    "positive": "",
                    "counter": f", label: c{(c + 1) % CLASSES:03d}",
                    "borderline": f", decision: c{c:03d}, rule: R1",
                }[kind]
                lines.append(f"        - {{image: {name}, why: Example {e}{extra}}}")
    lines += ["changelog:", "  - {version: 1.0.0, date: 2026-01-15, summary: First release}"]
    (folder / "spec.yaml").write_text("\n".join(lines) + "\n")
    for old in (folder / "examples").glob("*_typical_*"):
        old.unlink()
    for old in list((folder / "examples").iterdir()):
        if not old.name.startswith("c"):
            old.unlink()
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "bench guideline"], cwd=root, check=True)
    # this spec is the guideline's 1.0.0, not an edit of the template's: committed content that
    # differs from its release is an error (a release of the edit would list the template's
    # decision tree as removed, on a page the site links to a tree it no longer has)
    subprocess.run(
        ["git", "tag", "-d", "guideline/digits/v1.0.0"], cwd=root, check=True, capture_output=True
    )
    tag_current(Workspace(root), "digits")


def _plain_copy(root, plain) -> None:
    """The same pages, rendered once by labelspec, as an ordinary mkdocs project (no plugin)."""
    from labelspec import yamlio
    from labelspec.site.plugin import LabelspecPlugin
    from labelspec.workspace import Workspace

    if plain.exists():
        shutil.rmtree(plain)
    docs = plain / "docs"
    plugin = LabelspecPlugin()
    plugin.load_config({})
    plugin.ws = Workspace(root)
    plugin.sources = plugin._load()
    for uri, content in plugin._pages().items():
        target = docs / uri
        target.parent.mkdir(parents=True, exist_ok=True)
        if hasattr(content, "read_bytes"):
            shutil.copyfile(content, target)
        else:
            target.write_bytes(content.encode() if isinstance(content, str) else content)
    css = docs / "assets/labelspec.css"
    css.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(
        __import__("labelspec.site", fromlist=["x"]).__path__[0] + "/assets/labelspec.css", css
    )
    config = yamlio.to_plain(yamlio.load_plain(root / "mkdocs.yml"))
    config["docs_dir"] = "docs"
    config["plugins"] = [p for p in config["plugins"] if p != "labelspec"]
    config["extra_css"] = ["assets/labelspec.css"]
    config["nav"] = plugin._nav()
    (plain / "mkdocs.yml").write_text(yamlio.dumps(config))


def run() -> dict:
    root = OUT / "ws-site"
    _guideline(root)
    plain = OUT / "plain-mkdocs"
    _plain_copy(root, plain)
    ours = min(
        run_child(
            f"import subprocess, sys; subprocess.run([sys.executable, '-m', 'labelspec.cli', 'site', 'build', '--out', {str(OUT / 'site-ours')!r}], check=True, cwd={str(root)!r})"
        ).seconds
        for _ in range(repeats(3))
    )
    base = min(
        run_child(
            f"import subprocess, sys; subprocess.run([sys.executable, '-m', 'mkdocs', 'build', '-q', '--site-dir', {str(OUT / 'site-plain')!r}], check=True, cwd={str(plain)!r})"
        ).seconds
        for _ in range(repeats(3))
    )
    result = {
        "classes": CLASSES,
        "images": CLASSES * EXAMPLES,
        "labelspec_site_build_s": round(ours, 2),
        "plain_mkdocs_build_s": round(base, 2),
        "ratio": round(ours / base, 2),
        "target_ratio": 1.3,
    }
    save("site", result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
