"""A model card stub for a pinned training set: what a model trained on it was trained on.

Markdown, from the set's record (revision, method, parameters, split, what was left out and
why, guideline versions, labelers and vendors, counts per split and class) and from a bake-off
of the vendors whose labels went in, on the golden set as it was at the set's revision
(``labelspec.qa.bakeoff``, without intervals). Every figure is the record's or the bake-off's:
nothing is recomputed from labels the set did not use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelspec.errors import LabelspecError
from labelspec.labelers.roster import list_labelers
from labelspec.qa.bakeoff import bakeoff
from labelspec.repo import Repo
from labelspec.store.golden import load_sets
from labelspec.store.trainsets import EMPTY_ITEMS, Trainset, get_trainset
from labelspec.yamlio import atomic_write_text

REASONS = {
    "low_confidence": "low confidence: a tie, or below --min-confidence {floor}",
    "suspect": "suspect under guideline {release} (--suspect exclude)",
    "not_suspect": "not suspect under guideline {release} (--suspect only)",
    "golden_duplicate": "the same content (sha256) as a golden item of the eval split",
}


def trainset_card(ws: Repo, name: str, out: Path | str | None = None) -> str:
    """The card of training set ``name`` as Markdown (also written to ``out`` when given)."""

    record = get_trainset(ws, name)
    vendors = {labeler.id: labeler.vendor for labeler in list_labelers(ws)}
    parts = [
        _header(record),
        _splits(record),
        _left_out(record),
        _versions(record),
        _labelers(record, vendors),
        _bakeoff(ws, record),
        _loading(record),
    ]
    text = "\n".join(part for part in parts if part)
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(Path(out), text)
    return text


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def _header(t: Trainset) -> str:
    parameters = ", ".join(f"{k}={v}" for k, v in t.parameters.items()) or "none"
    split = t.split
    if split.get("by") == "ratio":
        shares = ", ".join(f"{k} {v:g}" for k, v in split["ratios"])
        how = f"by a hash of the item id (seed {split['seed']}): {shares}"
    elif split.get("by") == "column":
        how = f"by the item column `{split['column']}`"
    else:
        how = "none: every item in train"
    golden = (
        f"golden set `{t.golden_set}`: its {t.golden_items} items are the `eval` split, never "
        "trained on"
        if t.golden_into == "eval" and t.golden_set
        else "golden items trained on like the others (--golden-into train)"
        if t.golden_into == "train"
        else "no golden set at the revision: no eval split"
    )
    copies = (
        f"; {t.duplicate_items} item(s) with the content of a smaller id follow its split"
        if t.duplicate_items
        else ""
    )
    return f"""# Training set `{t.name}`

Labels of dataset `{t.dataset}` (guideline `{t.guideline}`, {t.task}), resolved and pinned by
labelspec. Cite it by its tag `trainset/{t.name}` or its sha256.

- **Revision**: `{t.revision}` (asked for: {t.snapshot}); pinned {t.created}
- **File**: `{t.file}`, sha256 `{t.sha256}`
- **Method**: {t.method} ({parameters}); minimum confidence {t.min_confidence}
- **Split**: {how}{copies}
- **Golden items**: {golden}
- **Classes** (`class_index` order): {", ".join(f"`{c}`" for c in t.classes) or "-"}
{_geometry(t.task)}"""


def _geometry(task: str) -> str:
    if task == "detection":
        return "- **Boxes**: pixels, top-left x, y, width, height (COCO's convention)\n"
    if task == "ner":
        return "- **Spans**: character offsets, start inclusive, end exclusive\n"
    return ""


def _splits(t: Trainset) -> str:
    classes = t.classes or sorted(t.by_class)
    rows = [
        [f"`{name}`", s["items"], s.get("background", 0), s["labels"]]
        + [s["by_class"].get(c, 0) for c in classes]
        for name, s in t.ordered_splits()
    ]
    if not rows:
        return ""
    empty = EMPTY_ITEMS.get(t.task)
    if empty is None:  # classification: every item has its one class
        rows = [row[:2] + row[3:] for row in rows]
    header = ["split", "items", *([empty] if empty else []), "labels", *classes]
    return "## Splits\n\n" + _table(header, rows)


def _left_out(t: Trainset) -> str:
    rows = []
    # sets pinned before splits counted only the low-confidence items
    left_out = t.left_out or ({"low_confidence": t.low_confidence} if t.low_confidence else {})
    for reason, count in left_out.items():
        if not count:
            continue
        text = REASONS.get(reason, reason).format(
            floor=t.min_confidence, release=t.suspect_release or "-"
        )
        examples = ", ".join(t.left_out_examples.get(reason, [])[:5])
        more = " ..." if count > 5 else ""
        rows.append([text, count, (examples + more) or "-"])
    note = (
        f"\n{t.unlabeled_items} registered item(s) have no label and are not in the set.\n"
        if t.unlabeled_items
        else ""
    )
    if t.suspect_kept:
        note += (
            f"\n{t.suspect_kept} item(s) suspect under guideline {t.suspect_release} were kept "
            f"(--suspect {t.suspect_policy}): their rows say `suspect: true`.\n"
        )
    if not rows:
        return "## Left out\n\nNothing was left out.\n" + note
    return "## Left out\n\n" + _table(["why", "items", "e.g."], rows) + note


def _versions(t: Trainset) -> str:
    total = sum(t.guideline_versions.values())
    rows = [[f"`{v}`", n, _share(n, total)] for v, n in t.guideline_versions.items()]
    if not rows:
        return ""
    newest = f"; newest release at pinning: {t.suspect_release}" if t.suspect_release else ""
    return (
        "## Guideline versions\n\nThe versions the labels behind the set were made under (a "
        f"resolved label says the newest of its votes{newest}).\n\n"
        + _table(["version", "labels", "share"], rows)
    )


def _labelers(t: Trainset, vendors: dict[str, str]) -> str:
    total = sum(t.labelers.values())
    rows = [
        [f"`{labeler}`", vendors.get(labeler, "(golden set)"), n, _share(n, total)]
        for labeler, n in sorted(t.labelers.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    if not rows:
        return ""
    return "## Labelers and vendors\n\n" + _table(["labeler", "vendor", "labels", "share"], rows)


def _bakeoff(ws: Repo, t: Trainset) -> str:
    sets = load_sets(ws, t.dataset, rev=t.revision)
    golden = t.golden_set or (next(iter(sets)) if len(sets) == 1 else None)
    title = "## Vendors on the golden set\n\n"
    if golden is None:
        return (
            title
            + "No bake-off: "
            + (
                "no golden set at the revision.\n"
                if not sets
                else "several golden sets; none chosen.\n"
            )
        )
    try:
        found = bakeoff(ws, t.dataset, golden=golden, snapshot=t.revision, boot=0)
    except LabelspecError as exc:
        return title + f"No bake-off: {exc}.\n"
    key = found["quality"]
    sources = [s for s in found["sources"] if s in t.sources]
    rows = [
        [f"`{s}`", _figure(found["sources"][s].get(key)), *_detail(found["sources"][s], key),
         found["sources"][s]["items"]]
        for s in sources
    ]  # fmt: skip
    unjudged = sorted(s for s in t.sources if s not in sources and not s.startswith("golden:"))
    missing = (
        f"\nNot judged (no delivered labels on the golden set): {', '.join(unjudged)}.\n"
        if unjudged
        else ""
    )
    if not rows:
        return title + f"No vendor whose labels went in has labels on golden set `{golden}`.\n"
    header = ["vendor", key, *(["precision", "recall"] if key == "f1" else []), "golden items"]
    return (
        title
        + f"The bake-off of the vendors whose labels went in, on golden set `{golden}` at the "
        "set's revision (each vendor judged on the labels it delivered).\n\n"
        + _table(header, rows)
        + missing
    )


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _detail(figures: dict[str, Any], key: str) -> list[str]:
    if key != "f1":
        return []
    return [_figure(figures.get("precision")), _figure(figures.get("recall"))]


def _loading(t: Trainset) -> str:
    return f"""## Loading it

```python
import labelspec

ts = labelspec.open_trainset("<repository URL>", "{t.name}")
ts.to_hf()                    # datasets.DatasetDict by split
ts.torch_dataset("train")     # map-style (image, target) for torchvision
```
"""
