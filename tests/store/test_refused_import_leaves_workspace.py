"""A refused `labels import`, whatever refused it, leaves HEAD, the git index, the working tree,
the DVC cache and the tags exactly as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, state
from tests.store.conftest import digit_rows, write_jsonl


def everything(root: Path) -> dict:
    """HEAD, tags, status and every file's bytes (``state``), plus the index entries, every
    path (folders too) and the DVC cache listing named on their own. Left out, as ``state``
    does: .git itself, .dvc/tmp (DVC's scratch) and .labelspec/ (the lock and a read cache of
    records, derived from git objects)."""
    cache = root / ".dvc" / "cache"
    skip = (".git", ".labelspec", ".dvc/tmp")
    return {
        **state(root),
        "index": git(root, "ls-files", "--stage"),
        "tree": sorted(
            rel
            for p in root.rglob("*")
            if not any(
                (rel := p.relative_to(root).as_posix()) == s or rel.startswith(f"{s}/")
                for s in skip
            )
        ),
        "cache": sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*") if p.is_file()),
    }


def box(item: str, bbox: list[float]) -> dict:
    return {"item_id": item, "labeler": "vA-01", "class": "circle", "bbox": bbox,
            "attributes": {"occluded": False}}  # fmt: skip


GOOD = digit_rows([0, 1])  # two good labels before each bad one
# kind -> (store, guideline, the rows of the file or its raw text, what the refusal says)
REFUSALS = {
    "unknown-class": ("digits-labeled", "digits@1.0.0", [*GOOD, *digit_rows([2], **{"class": "seven-ish"})],
                      ":3: class: unknown class seven-ish"),
    "unknown-item": ("digits-labeled", "digits@1.0.0", [*GOOD, {**digit_rows([2])[0], "item_id": "d99.png"}],
                     ":3: item: item d99.png is not registered"),
    "unknown-labeler": ("digits-labeled", "digits@1.0.0", [*GOOD, *digit_rows([2], labeler="vZ-09")],
                        ":3: labeler: unknown labeler vZ-09"),
    "untrained-labeler": ("digits-labeled", "digits@1.0.0", [*GOOD, *digit_rows([2], labeler="vB-01")],
                          ":3: training: labeler vB-01 holds no passing training record"),
    "unreleased-version": ("digits-labeled", "digits@9.9.9", GOOD,
                           "guideline 'digits' has no release 9.9.9"),
    "box-outside-image": ("shapes", "shapes@1.0.0", [box("circle_big.png", [100, 100, 50, 50])],
                          ":1: bbox: box [100.0, 100.0, 50.0, 50.0] is outside the 128x128 image"),
    "box-not-four-numbers": ("shapes", "shapes@1.0.0", [box("circle_big.png", [24, 24, 80])],
                             ":1: bbox: must be [x, y, w, h]"),
    "malformed-file": ("digits-labeled", "digits@1.0.0", '{"item_id": "d00.png", "labeler": "vA-01"\n',
                       ":1: invalid JSON"),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(REFUSALS))
def test_a_refused_import_leaves_head_index_tree_cache_and_tags_as_they_were(
    make_store, run, tmp_path, kind
):
    store, guideline, content, says = REFUSALS[kind]
    root = make_store(store)
    source = tmp_path / "delivery.jsonl"
    if isinstance(content, str):
        source.write_text(content)
    else:
        write_jsonl(source, content)
    before = everything(root)
    assert before["cache"]  # the store's items (and, labeled, its first batch) are cached

    result = run(
        "labels", "import", store.split("-")[0],
        str(source), "--format", "jsonl", "--guideline", guideline, "--source", "vendor-a",
        cwd=root, expect=None,
    )  # fmt: skip

    assert result.exit_code == (3 if kind == "unreleased-version" else 1), result.stderr
    assert result.stderr.startswith("Error: ") and says in result.stderr, result.stderr
    assert everything(root) == before
