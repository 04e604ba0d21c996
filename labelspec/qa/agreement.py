"""Inter-annotator agreement on the current labels of a dataset snapshot.

Only items with current labels from 2+ labelers count; a labeler's rating of an item is their
latest annotation of it (``labelspec.qa.ratings``). What is compared depends on the task:

classification  each rating's class: Krippendorff's alpha (nominal), Fleiss' kappa, Cohen's kappa
                of every labeler pair and class-specific agreement.
multilabel      each class as a yes/no question per item: alpha, Fleiss' and Cohen's kappa per
                class, averaged over the classes where they are defined (said in ``note``).
detection       boxes matched one-to-one at IoU >= 0.5, same class first, then across classes
                (``boxes``: agreement, the class pairs raters confused, empty answers; no
                alpha).
ner             exact spans (``spans``: pairwise span F1; no alpha).

Attributes (nominal, ordinal, boolean; text is skipped) get Krippendorff's alpha over the values
raters gave the same thing: an item (classification), an (item, class) both gave (multilabel), a
matched box or span pair (detection, ner). A rater whose class does not declare the attribute,
or who left it empty, has no value. Coefficients that are undefined (nothing pairable, no
disagreement possible) are None.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labelspec.errors import InputError
from labelspec.guideline.spec import Spec
from labelspec.qa import metrics, regions
from labelspec.qa.current import Current, number, open_current, share
from labelspec.qa.ratings import Ratings, build_latest, build_majority, load
from labelspec.repo import Repo


class NothingToAgreeOn(InputError):
    """No item has current labels from two or more labelers: agreement is not defined."""


BY = ("class", "labeler", "source")

NOTES = {
    "multilabel": (
        "multilabel: every class is a yes/no rating of each item; krippendorff_alpha, fleiss_kappa "
        "and pairwise_cohen_kappa are per-class binary coefficients averaged over the classes "
        "where they are defined (per_class has each class's alpha)"
    ),
    "detection": (
        "detection: agreement is measured on boxes matched one-to-one at IoU >= 0.5, same class "
        "first (see boxes: confusions are objects two labelers boxed with different classes; "
        "both_empty and one_empty count explicit 'no objects here' answers); alpha and kappa on "
        "classes do not apply"
    ),
    "ner": (
        "ner: agreement is the exact-span F1 between every two labelers (see spans); alpha and "
        "kappa on classes do not apply"
    ),
}


def agreement(
    ws: Repo, dataset: str, snapshot: str | int | None = None, by: str | None = None
) -> dict[str, Any]:
    """How much labelers agree on the items they labeled in common (see the module docstring).

    ``by``: 'class' (the per-class table), 'labeler' (each labeler against the others) or
    'source' (vendors as raters, a vendor's label on an item being its labelers' majority).
    """
    if by is not None and by not in BY:
        raise InputError(f"by must be one of {', '.join(BY)}, not {by!r}")
    current = open_current(ws, dataset, snapshot)
    task = current.task
    build_latest(current.con, "labeler", "labeler_id", current.task)
    ratings = load(current.con, "labeler", len(current.class_ids))
    if ratings.n_items == 0:
        raise NothingToAgreeOn(
            f"no item of dataset {dataset!r} in {current.snapshot} has current labels from 2 or "
            "more labelers, so there is no agreement to measure: have several labelers label "
            "the same items and import their labels"
        )
    figures = _figures(current, ratings, "labelers")
    result: dict[str, Any] = {
        "dataset": dataset,
        "snapshot": current.snapshot,
        "commit": current.commit,
        "task": task,
        # the releases the labels were made under (the newest names the classes)
        "guideline": current.guideline,
        "versions": current.versions,
        "items": ratings.n_items,
        "labelers": ratings.raters,
        **{k: v for k, v in figures.items() if k != "groups"},
        "attributes": _attributes(current, "labeler"),
        "note": NOTES.get(task),
        "by": None,
    }
    if by == "class":
        result["by"] = {"by": "class", "groups": figures["per_class"]}
    elif by == "labeler":
        result["by"] = {"by": "labeler", "groups": figures["groups"]}
    elif by == "source":
        result["by"] = _by_source(current)
    return result


def _figures(current: Current, ratings: Ratings, raters_key: str) -> dict[str, Any]:
    """The coefficients for one kind of rater (labelers or sources), with per-rater groups."""
    task = current.task
    if task in ("detection", "ner"):
        compared = regions.compare(
            current.con, ratings.table, ratings.raters, ratings.k, current.task
        )
        return {
            "krippendorff_alpha": None,
            "fleiss_kappa": None,
            "fleiss_items": None,
            "fleiss_raters": None,
            "pairwise_cohen_kappa": None,
            "per_class": regions.per_class(compared, current.class_ids),
            "boxes" if task == "detection" else "spans": {
                **regions.summary(compared, task, raters_key),
                **(
                    {
                        "confusions": [
                            {"classes": list(pair), "objects": n}
                            for pair, n in regions.confusions(compared, current.class_ids).items()
                        ]
                    }
                    if task == "detection"
                    else {}
                ),
            },
            "groups": regions.per_rater(compared, ratings.items_per_rater),
        }
    if task == "multilabel":
        figures = _multilabel(ratings, current.class_ids)
    else:
        figures = _classification(ratings, current.class_ids)
    kappa = figures.pop("kappa")
    figures["pairwise_cohen_kappa"] = {
        raters_key: ratings.raters,
        "matrix": [
            [number(v) if i != j else None for j, v in enumerate(row)]
            for i, row in enumerate(kappa)
        ],
    }
    figures["groups"] = _class_groups(current, ratings, kappa)
    return figures


def _classification(r: Ratings, class_ids: list[str]) -> dict[str, Any]:
    """Nominal alpha, Fleiss' kappa and pairwise Cohen's kappa on each rating's class code.

    Alpha ignores who rated, so the reliability matrix is packed: row s holds each item's s-th
    rating (as many rows as the most raters any item had, not one per labeler).
    """
    per_item = r.per_item
    counts = _counts(r, r.label_code)
    packed = np.full((int(per_item.max()), r.n_items), np.nan)
    packed[r.slot(r.label_item, r.label_rater), r.label_item] = r.label_code
    raters = np.full((len(r.raters), r.n_items), -1, dtype=_code_type(r.k))
    raters[r.label_rater, r.label_item] = r.label_code
    modal = _modal(per_item)
    return {
        "krippendorff_alpha": number(metrics.krippendorff_alpha(packed, "nominal")),
        "fleiss_kappa": number(metrics.fleiss_kappa(counts[per_item == modal])),
        "fleiss_items": int((per_item == modal).sum()),
        "fleiss_raters": modal,
        "kappa": metrics.pairwise_cohen_kappa(raters, r.k),
        "per_class": _specific(counts, per_item, class_ids),
    }


def _multilabel(r: Ratings, class_ids: list[str]) -> dict[str, Any]:
    """Per class c, each rating says yes (c among its classes) or no: binary alpha, Fleiss'
    kappa and pairwise Cohen's kappa per class, then their mean over the classes where defined."""
    per_item = r.per_item
    counts = _counts(r, r.label_code)
    modal = _modal(per_item)
    rated_slot = r.slot(r.rated_item, r.rated_rater)
    label_slot = r.slot(r.label_item, r.label_rater)
    alphas, fleiss, kappas = [], [], []
    per_class = _specific(counts, per_item, class_ids)
    for code in np.unique(r.label_code):  # a class nobody gave has no defined coefficient
        class_id = class_ids[code]
        says = r.label_code == code
        packed = np.full((int(per_item.max()), r.n_items), np.nan)
        packed[rated_slot, r.rated_item] = 0
        packed[label_slot[says], r.label_item[says]] = 1
        alphas.append(metrics.krippendorff_alpha(packed, "nominal"))
        yes = counts[per_item == modal, code]
        fleiss.append(metrics.fleiss_kappa(np.column_stack([modal - yes, yes])))
        binary = np.full((len(r.raters), r.n_items), -1, dtype=np.int8)
        binary[r.rated_rater, r.rated_item] = 0
        binary[r.label_rater[says], r.label_item[says]] = 1
        kappas.append(metrics.pairwise_cohen_kappa(binary, 2))
        if class_id in per_class:
            per_class[class_id]["krippendorff_alpha"] = number(alphas[-1])
    size = len(r.raters)
    stacked = np.stack(kappas) if kappas else np.full((1, size, size), np.nan)
    defined = ~np.isnan(stacked)
    kappa = np.divide(
        np.where(defined, stacked, 0).sum(axis=0),
        defined.sum(axis=0),
        out=np.full(stacked.shape[1:], np.nan),
        where=defined.any(axis=0),
    )
    return {
        "krippendorff_alpha": _mean_defined(alphas),
        "fleiss_kappa": _mean_defined(fleiss),
        "fleiss_items": int((per_item == modal).sum()),
        "fleiss_raters": modal,
        "kappa": kappa,
        "per_class": per_class,
    }


def _counts(r: Ratings, codes: np.ndarray) -> np.ndarray:
    """n[i, c]: how many raters of item i gave class c."""
    flat = np.bincount(r.label_item * r.k + codes, minlength=r.n_items * r.k)
    return flat.reshape(r.n_items, r.k)


def _code_type(k: int) -> type:
    """The smallest integer type for codes 0..k-1 and -1 (a raters x items matrix stays small)."""
    return np.int8 if k < 2**7 else np.int16 if k < 2**15 else np.int32


def _modal(per_item: np.ndarray) -> int:
    """The most common number of raters per item (the larger one on a tie): Fleiss' kappa
    needs the same number of ratings on every item, so it uses the items with this many."""
    values, freq = np.unique(per_item, return_counts=True)
    return int(values[freq == freq.max()].max())


def _specific(counts: np.ndarray, per_item: np.ndarray, class_ids: list[str]) -> dict:
    """Class-specific agreement over all rater pairs on the same item (Fleiss 1971; Uebersax):
    2 * (pairs where both said c) / (pairs where the first said c + pairs where the second did)
    = sum_i n_ic (n_ic - 1) / sum_i n_ic (m_i - 1). ``pairs``: rater pairs where at least one
    said c; ``agreeing_pairs``: where both did. Classes nobody gave on a shared item are left out.
    """
    m = per_item[:, None].astype(float)
    agree = (counts * (counts - 1) / 2).sum(axis=0)
    said = (counts * (m - 1)).sum(axis=0)
    pairs = agree + (counts * (m - counts)).sum(axis=0)
    return {
        class_ids[c]: {
            "specific_agreement": share(2 * agree[c], said[c]),
            "pairs": int(pairs[c]),
            "agreeing_pairs": int(agree[c]),
        }
        for c in np.flatnonzero(said)
    }


def _class_groups(current: Current, r: Ratings, kappa: np.ndarray) -> dict[str, dict]:
    """Per rater: ``items`` rated, ``pairs`` (item, other rater), ``agreement_with_others`` the
    share of those pairs with the same class (multilabel: the same set of classes), and
    ``mean_kappa`` the mean of the rater's defined pairwise Cohen's kappas."""
    size = len(r.raters)
    items = r.items_per_rater
    pairs = np.bincount(r.rated_rater, weights=r.per_item[r.rated_item] - 1, minlength=size)
    if current.task == "classification":
        # a rating of class c on item i agrees with the n_ic - 1 other raters who also gave c
        counts = _counts(r, r.label_code)
        same = counts[r.label_item, r.label_code] - 1
        agreeing = np.bincount(r.label_rater, weights=same, minlength=size)
    else:
        agreeing = _same_sets(current, r.table, size)
    groups = {}
    for i, name in enumerate(r.raters):
        others = np.delete(kappa[i], i)
        others = others[~np.isnan(others)]
        groups[name] = {
            "items": int(items[i]),
            "pairs": int(pairs[i]),
            "agreement_with_others": share(agreeing[i], pairs[i]),
            "mean_kappa": number(others.mean()) if others.size else None,
        }
    return groups


def _same_sets(current: Current, t: str, size: int) -> np.ndarray:
    """Per rater: pairs (item, other rater) where both gave exactly the same set of classes."""
    rows = current.con.execute(
        f"""
        with sets as (
          select r.item_idx, r.rater_idx, list_sort(list(l.code) filter (l.code is not null)) as codes
          from {t}_rated r left join {t}_labels l using (item_idx, rater_idx)
          group by r.item_idx, r.rater_idx
        )
        select a.rater_idx, count(*)
        from sets a join sets b
          on a.item_idx = b.item_idx and a.rater_idx <> b.rater_idx and a.codes = b.codes
        group by 1
        """
    ).fetchall()
    agreeing = np.zeros(size)
    for rater, n in rows:  # one row per rater
        agreeing[rater] = n
    return agreeing


def _by_source(current: Current) -> dict[str, Any]:
    """The same coefficients with sources (vendors) as raters."""
    if current.task in ("classification", "multilabel"):
        build_majority(current.con, "source", current.task)
        how = "a source's label on an item is the majority of its labelers' latest labels"
    else:
        build_latest(current.con, "source", "source", current.task)
        how = "a source's regions on an item are those of its latest annotation there"
    ratings = load(current.con, "source", len(current.class_ids))
    if ratings.n_items == 0:
        raise InputError(
            f"no item of dataset {current.dataset!r} in {current.snapshot} has labels from 2 or "
            "more sources, so sources cannot be compared: send some items to several vendors"
        )
    figures = _figures(current, ratings, "sources")
    return {
        "by": "source",
        "note": how,
        "items": ratings.n_items,
        "sources": ratings.raters,
        **figures,
    }


def _attributes(current: Current, t: str) -> dict[str, dict]:
    """Krippendorff's alpha per nominal, ordinal or boolean attribute of the spec.

    Ordinal values are ranked in their ``values`` order: alpha at level ordinal and interval
    (on the rank). Nominal and boolean: nominal alpha. ``items``: units with 2+ values, where
    a unit is what ``unit`` names.
    """
    unit, units = {
        "classification": (
            "item",
            f'select item_idx as unit, rater_idx as slot, "class", attributes from {t}_labels',
        ),
        "multilabel": (
            "item and class",
            f'select item_idx * {len(current.class_ids)} + code as unit, rater_idx as slot, "class", attributes from {t}_labels',
        ),
        "detection": (
            "matched box pair",
            f'select m.unit, m.slot, l."class", l.attributes from {t}_matched m join {t}_labels l using (label_id)',
        ),
        "ner": (
            "matched span pair",
            f'select m.unit, m.slot, l."class", l.attributes from {t}_matched m join {t}_labels l using (label_id)',
        ),
    }[current.task]
    result = {}
    for attr_id, (kind, values, classes) in _declared(current.spec).items():
        found = current.con.execute(
            f"""
            select dense_rank() over (order by unit) - 1 as u,
                   row_number() over (partition by unit order by slot) - 1 as s,
                   list_position($values, json_extract_string(attributes, $path)) - 1 as v
            from ({units}) x
            where list_contains($classes, "class")
              and list_position($values, json_extract_string(attributes, $path)) is not null
            """,
            {"values": values, "classes": classes, "path": f'$."{attr_id}"'},
        ).fetchnumpy()
        u, s, v = (np.asarray(found[c], dtype=np.int64) for c in ("u", "s", "v"))
        pairable = int((np.bincount(u) >= 2).sum()) if u.size else 0
        levels = ("ordinal", "interval") if kind == "ordinal" else ("nominal",)
        alphas = dict.fromkeys(levels)
        if pairable:
            packed = np.full((int(s.max()) + 1, int(u.max()) + 1), np.nan)
            packed[s, u] = v
            alphas = {level: number(metrics.krippendorff_alpha(packed, level)) for level in levels}
        result[attr_id] = {
            "type": kind,
            "krippendorff_alpha": alphas,
            "items": pairable,
            "unit": unit,
        }
    return result


def _declared(spec: Spec) -> dict[str, tuple[str, list[str], list[str]]]:
    """attribute id -> (type, values in rank order, classes declaring it the same way)."""
    declared: dict[str, tuple[str, list[str], list[str]]] = {}
    for cls in spec.classes:
        for attr in cls.attributes:
            if attr.type == "text":
                continue
            values = ["false", "true"] if attr.type == "boolean" else list(attr.values)
            kind, known, classes = declared.setdefault(attr.id, (attr.type, values, []))
            if (kind, known) == (attr.type, values):
                classes.append(cls.id)
    return declared


def _mean_defined(values: list[float]) -> float | None:
    defined = [v for v in values if not np.isnan(v)]
    return float(np.mean(defined)) if defined else None
