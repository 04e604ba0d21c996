"""Guideline gaps: the class pairs labelers confuse most, held against what the guideline says
about them, with concrete suggestions for the guideline's authors."""

from __future__ import annotations

from typing import Any

from labelspec.guideline.spec import Spec
from labelspec.workspace import Workspace


def _golden_confusions(bake: dict[str, Any]) -> dict[tuple[str, str], dict[str, dict[str, int]]]:
    """(truth, labeled) -> source -> {count, truth_total} from the bake-off's confusion matrices."""
    found: dict[tuple[str, str], dict[str, dict[str, int]]] = {}
    for source, result in bake["sources"].items():
        confusion = result.get("confusion")
        if not confusion:
            continue
        labels, matrix = confusion["labels"], confusion["matrix"]
        for i, truth in enumerate(labels):
            row_total = sum(matrix[i])
            for j, given in enumerate(labels):
                if i != j and matrix[i][j]:
                    found.setdefault((truth, given), {})[source] = {
                        "count": matrix[i][j],
                        "of": row_total,
                    }
    return found


def _labeler_disagreements(con) -> dict[tuple[str, str], int]:
    """Unordered class pairs two labelers gave the same item (classification), counted once per pair."""
    rows = con.execute(
        """select least(a."class", b."class"), greatest(a."class", b."class"), count(*)
           from labels a join labels b on a.item_id = b.item_id and a.labeler_id < b.labeler_id
           where a."class" <> b."class" group by 1, 2"""
    ).fetchall()
    return {(a, b): n for a, b, n in rows}


def _decides(spec: Spec, rule_id: str | None, a: str, b: str) -> bool:
    """A rule decides between a and b when it is scoped to both or names both; a general rule
    ("label what the writer meant") does not."""
    rule = spec.get_rule(rule_id) if rule_id else None
    if rule is None:
        return False
    if a in rule.applies_to and b in rule.applies_to:
        return True
    text = rule.text.lower()
    return all(
        cls.id in text or cls.name.lower() in text
        for cls in (spec.get_class(a), spec.get_class(b))
        if cls
    )


def _deciders(spec: Spec, a: str, b: str) -> list[str]:
    """What in the guideline decides between a and b: a rule scoped to (or naming) both,
    borderline examples decided by such a rule, a decision-tree node that splits them."""
    found = [f"rule {r.id}" for r in spec.rules if _decides(spec, r.id, a, b)]
    for owner in (a, b):
        cls = spec.get_class(owner)
        for ex in cls.examples.borderline if cls else []:
            if ex.decision in (a, b) and _decides(spec, ex.rule, a, b):
                found.append(f"borderline example on {owner} decided by rule {ex.rule}")
    found += [f"decision tree node {n.id}" for n in spec.decision_tree if {n.yes, n.no} == {a, b}]
    return found


def _counter(spec: Spec, page: str, label: str) -> bool:
    cls = spec.get_class(page)
    return bool(cls) and any(ex.label == label for ex in cls.examples.counter)


def gaps(
    ws: Workspace, dataset: str, golden: str = "golden", top: int = 5, snapshot: str | None = None
) -> dict[str, Any]:
    from labelspec.guideline.releases import releases, spec_at
    from labelspec.qa.bakeoff import bakeoff
    from labelspec.store.datasets import dataset_guideline
    from labelspec.store.query import connect

    guideline = dataset_guideline(ws, dataset)
    spec = spec_at(ws, guideline, releases(ws, guideline)[-1].version)
    bake = bakeoff(ws, dataset, golden, snapshot=snapshot, boot=200)
    directed = _golden_confusions(bake)
    between = _labeler_disagreements(connect(ws, dataset, snapshot))
    pairs: dict[tuple[str, str], dict[str, Any]] = {}
    for (truth, given), per_source in directed.items():
        key = tuple(sorted((truth, given)))
        entry = pairs.setdefault(key, {"golden": {}, "labelers": 0})
        entry["golden"][f"{truth}->{given}"] = per_source
    for key, n in between.items():
        pairs.setdefault(key, {"golden": {}, "labelers": 0})["labelers"] = n

    def weight(item) -> int:
        (_, info) = item
        return (
            sum(v["count"] for d in info["golden"].values() for v in d.values()) + info["labelers"]
        )

    ranked = sorted(pairs.items(), key=lambda item: (-weight(item), item[0]))[:top]
    out_pairs, suggestions = [], []
    for (a, b), info in ranked:
        if spec.get_class(a) is None or spec.get_class(b) is None:
            continue
        state = {
            f"{a}_lists_{b}": b in spec.get_class(a).confusable_with,
            f"{b}_lists_{a}": a in spec.get_class(b).confusable_with,
            f"counterexample_of_{b}_on_{a}": _counter(spec, a, b),
            f"counterexample_of_{a}_on_{b}": _counter(spec, b, a),
            "deciding_rules": _deciders(spec, a, b),
        }
        mine = []
        for truth, given in ((a, b), (b, a)):
            worst = max(
                info["golden"].get(f"{truth}->{given}", {}).items(),
                key=lambda kv: kv[1]["count"] / max(kv[1]["of"], 1),
                default=None,
            )
            evidence = (
                f"{worst[0]} labeled {worst[1]['count']} of {worst[1]['of']} golden {truth}s as {given}"
                if worst
                else None
            )
            if given not in spec.get_class(truth).confusable_with:
                mine.append(
                    f"list `{given}` in `{truth}`'s confusable_with"
                    + (f": {evidence}" if evidence else "")
                )
            if evidence and not _counter(spec, given, truth):
                mine.append(
                    f"add to `{given}` a counterexample labeled `{truth}` (a {truth} that looks like a {given}): {evidence}"
                )
        if not state["deciding_rules"]:
            mine.append(
                f"add a rule (with borderline examples) that decides between `{a}` and `{b}`"
            )
        suggestions += mine
        out_pairs.append(
            {
                "classes": [a, b],
                "golden_confusions": info["golden"],
                "labeler_disagreements": info["labelers"],
                "guideline": state,
                "suggestions": mine,
            }
        )
    return {
        "dataset": dataset,
        "guideline": guideline,
        "version": spec.version,
        "golden": bake["golden"],
        "pairs": out_pairs,
        "suggestions": suggestions,
    }
