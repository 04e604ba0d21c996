"""How a training set's items are split: by ratio, by an item segment column, or not at all.

By ratio (``--split train=0.8,val=0.1,test=0.1 --seed N``) each item gets a number in [0, 1)
from its id alone, ``int(md5(f"{seed}:{item_id}").hexdigest()[:13], 16) / 16**13``, and falls in
the split whose share of [0, 1) holds it, in the order given. It depends on nothing but the seed
and the id, so an item keeps its split when items arrive: every training set made with the same
ratios and seed puts it in the same place. By column (``--split-by COLUMN``) the split is the
item's value in that segment column of the item manifests. Without either, every item is
``train``. ``eval`` is kept for the golden items (``labelspec.resolve.trainset``).

Items with the same content (sha256) under different ids go where the smallest of their ids
goes (its draw, its column value), so no copy of an image is trained on while another is
validated on; an item with no copy keeps the split its own id gives. A copy whose smallest id
has no column value is refused with it, whatever its own value.

Checks happen before anything is resolved or pinned: a spec that does not parse, shares that do
not sum to 1, an unknown or incomplete column, and (``check_filled``) a split left empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from labelspec.errors import InputError
from labelspec.store.schema import ITEM_BASE_COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa  # lazy: annotations; check_values imports what it runs

EVAL = "eval"  # the golden items' split
TRAIN = "train"
ORDER = ("train", "val", "test", EVAL)  # how splits are listed; others follow by name
SPLIT_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
DIGITS = 13  # hex digits of the md5 a ratio split reads: 52 bits, exact in a double
TOLERANCE = 1e-9


@dataclass(frozen=True)
class SplitPlan:
    by: str = "none"  # none | ratio | column
    ratios: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    column: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.by == "ratio":
            # pairs, in order: the order places the items, and records keep JSON keys sorted
            return {"by": "ratio", "ratios": [[k, v] for k, v in self.ratios.items()],
                    "seed": self.seed}  # fmt: skip
        if self.by == "column":
            return {"by": "column", "column": self.column}
        return {"by": "none"}


def ordered(names) -> list[str]:
    """Split names as they are listed: train, val, test, eval, then the others by name."""
    found = set(names)
    return [s for s in ORDER if s in found] + sorted(found - set(ORDER))


def plan(split: str | None = None, seed: int = 0, split_by: str | None = None) -> SplitPlan:
    """The plan ``--split``, ``--seed`` and ``--split-by`` describe; every problem at once."""
    if split and split_by:
        raise InputError(
            "give --split (shares) or --split-by (a column), not both: --split-by takes the "
            "split from the items, --split draws it from their ids"
        )
    if split_by:
        return SplitPlan(by="column", column=split_by)
    if not split:
        return SplitPlan()
    problems, ratios = [], {}
    for part in split.split(","):
        name, sep, value = (s.strip() for s in part.partition("="))
        try:
            share = float(value) if sep else None
        except ValueError:
            share = None
        if share is None:
            problems.append(f"{part.strip()!r} is not NAME=SHARE")
        elif not SPLIT_NAME.fullmatch(name):
            problems.append(f"{name!r} is not a split name (lower-case letters, digits, - and _)")
        elif name == EVAL:
            problems.append("'eval' is the golden items' split (--golden-into); name yours val")
        elif name in ratios:
            problems.append(f"{name!r} is given twice")
        elif not 0.0 < share <= 1.0:
            problems.append(f"{name}={value}: a share is above 0 and at most 1")
        else:
            ratios[name] = share
    total = sum(ratios.values())
    if not problems and abs(total - 1.0) > TOLERANCE:
        problems.append(f"the shares sum to {total:g}, not 1")
    if problems:
        raise InputError(
            f"--split {split}: "
            + "; ".join(problems)
            + " (e.g. --split train=0.8,val=0.1,test=0.1)"
        )
    return SplitPlan(by="ratio", ratios=ratios, seed=seed)


def check_column(plan_: SplitPlan, item_columns: list[str]) -> None:
    """Refuse a ``--split-by`` column the item manifests lack (or a base column)."""
    if plan_.by != "column":
        return
    segments = [c for c in item_columns if c not in ITEM_BASE_COLUMNS]
    if plan_.column not in segments:
        known = ", ".join(segments) or "none"
        raise InputError(
            f"--split-by {plan_.column}: no such item segment column (the items have: {known}); "
            "give the items a split column with `labelspec items add` and a manifest, or use "
            "--split train=0.8,val=0.2"
        )


def assign_sql(plan_: SplitPlan, column: str = "segment", key: str = "item_id") -> str:
    """A DuckDB expression for the split of an item whose split column value is ``column``, drawn
    (by ratio) from the item id ``key`` (the smallest id of the items with its content)."""
    if plan_.by == "column":
        return f"{column}::VARCHAR"
    if plan_.by != "ratio":
        return f"'{TRAIN}'"
    draw = f"('0x' || left(md5('{int(plan_.seed)}:' || {key}), {DIGITS}))::UBIGINT / {16**DIGITS}.0"
    cases, upper = [], 0.0
    names = list(plan_.ratios)
    for name in names[:-1]:
        upper += plan_.ratios[name]
        cases.append(f"when {draw} < {upper!r} then '{name}'")
    # the last split takes the rest of [0, 1), whatever the rounding of the sums above
    return f"case {' '.join(cases)} else '{names[-1]}' end" if cases else f"'{names[-1]}'"


def check_values(
    plan_: SplitPlan,
    values: pa.ChunkedArray,
    item_ids: pa.ChunkedArray,
    leaders: pa.ChunkedArray | None = None,
) -> None:
    """Refuse items with no value in the ``--split-by`` column, and a value ``eval``. ``values``
    are those of each item's ``leaders`` (the smallest id with its content): a copy whose
    leader has no value is refused naming the leader, whatever its own value."""

    if plan_.by != "column":
        return
    import pyarrow as pa  # lazy: trace item reaches this module without splitting anything
    import pyarrow.compute as pc  # lazy: as above

    leaders = item_ids if leaders is None else leaders
    absent = pc.is_null(values)
    missing = pc.unique(leaders.filter(absent)).sort()
    if len(missing):
        copies = pc.unique(item_ids.filter(pc.and_(absent, pc.not_equal(item_ids, leaders))))
        follow = (
            f" ({_shown(copies.sort())} have the content of one of them and take its split)"
            if len(copies)
            else ""
        )
        raise InputError(
            f"--split-by {plan_.column}: {len(missing)} item(s) have no {plan_.column} "
            f"({_shown(missing)}); give every item one in its manifest{follow}"
        )
    text = values.cast(pa.string())
    odd = pc.unique(text.filter(pc.invert(pc.match_substring_regex(text, SPLIT_NAME.pattern))))
    if len(odd):
        raise InputError(
            f"--split-by {plan_.column}: values {', '.join(map(repr, odd.to_pylist()[:5]))} are "
            "not split names (lower-case letters, digits, - and _, starting with a letter; "
            "they name files of the exports): fix them in the manifest"
        )
    named_eval = item_ids.filter(pc.equal(text, EVAL))
    if len(named_eval):
        raise InputError(
            f"--split-by {plan_.column}: {len(named_eval)} item(s) say 'eval' "
            f"({', '.join(named_eval.to_pylist()[:5])}), the golden items' split: rename it "
            "(val, test) in the manifest"
        )


def check_filled(plan_: SplitPlan, counts: dict[str, int], total: int) -> None:
    """Refuse a ratio split that got no item (too few items for its share)."""
    if plan_.by != "ratio":
        return
    empty = [name for name in plan_.ratios if not counts.get(name)]
    if empty:
        raise InputError(
            f"--split {', '.join(f'{k}={v:g}' for k, v in plan_.ratios.items())}: split "
            f"{', '.join(empty)} got no item of the {total} (raise its share, try another "
            "--seed, or label more items)"
        )


def _shown(ids: pa.Array) -> str:
    return ", ".join(ids.to_pylist()[:5]) + (" ..." if len(ids) > 5 else "")
