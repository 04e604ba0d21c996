"""Guideline gaps: the class pairs labelers confuse most, held against what the guideline says
about them, with concrete suggestions for the guideline's authors."""

from __future__ import annotations

from html import escape
from typing import Any

import pyarrow as pa

from labelspec.guideline.releases import releases, spec_at
from labelspec.guideline.spec import Spec
from labelspec.qa import regions
from labelspec.qa.bakeoff import bakeoff
from labelspec.qa.current import open_current
from labelspec.qa.drill import PAGE_STYLE, card
from labelspec.qa.ratings import build_latest, load
from labelspec.qa.scoring import BACKGROUND
from labelspec.repo import Repo
from labelspec.store.datasets import dataset_guideline
from labelspec.store.query import connect


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
                # a missed or an extra box (the background row and column) is no class confusion
                if i != j and matrix[i][j] and BACKGROUND not in (truth, given):
                    found.setdefault((truth, given), {})[source] = {
                        "count": matrix[i][j],
                        "of": row_total,
                    }
    return found


EXAMPLES = 24  # items shown per pair and kind on the HTML page


def _disagreeing_items(con, a: str, b: str) -> list[dict[str, Any]]:
    """Items two labelers labeled ``a`` and ``b``, with every label of theirs on the item."""
    return (
        con.sql(
            """with pairs as (
                 select distinct x.item_id from labels x join labels y
                   on x.item_id = y.item_id and x.labeler_id < y.labeler_id
                 where least(x."class", y."class") = $a and greatest(x."class", y."class") = $b
                 order by 1 limit $n)
               select p.item_id, any_value(i.path) as path,
                      string_agg(l."class" || ' (' || l.labeler_id || ')', ', '
                                 order by l.labeler_id) as labeled,
                      string_agg(distinct l.source, ', ') as source,
                      string_agg(distinct l.guideline_version, ', ') as guideline_version
               from pairs p join labels l using (item_id) left join items i using (item_id)
               group by 1 order by 1""",
            params={"a": min(a, b), "b": max(a, b), "n": EXAMPLES},
        )
        .to_arrow_table()
        .to_pylist()
    )


def _labeler_disagreements(con) -> dict[tuple[str, str], int]:
    """Unordered class pairs two labelers gave the same item (classification), counted once per pair."""
    rows = con.execute(
        """select least(a."class", b."class"), greatest(a."class", b."class"), count(*)
           from labels a join labels b on a.item_id = b.item_id and a.labeler_id < b.labeler_id
           where a."class" <> b."class" group by 1, 2"""
    ).fetchall()
    return {(a, b): n for a, b, n in rows}


_BOX_ITEMS = """
with confused as (
  select p.item_idx, least(ca.class_a, ca.class_b) as a, greatest(ca.class_a, ca.class_b) as b
  from confused_arrow ca join labeler_pairs p using (pair)
),
chosen as (
  select r.item_idx, x.item_id, x.rater, x."class", x.bbox
  from labeler_chosen x join labeler_rated r using (item_id, rater)
)
select c.a, c.b, x.item_id, any_value(i.path) as path,
       string_agg(distinct x."class" || ' (' || x.rater || ')', ', ') as labeled,
       list({'class': x."class", 'bbox': x.bbox} order by x.rater, x."class")
         filter (where x.bbox is not null) as boxes
from (select distinct * from confused) c join chosen x using (item_idx)
left join items i on i.item_id = x.item_id
group by c.a, c.b, x.item_id order by c.a, c.b, x.item_id
"""


def _box_disagreements(ws: Repo, dataset: str, commit: str):
    """Detection: objects two labelers boxed with different classes (boxes matched as everywhere,
    ``qa.objects``), counted per unordered class pair, with the items (and their boxes)."""
    current = open_current(ws, dataset, commit)
    con = current.con
    build_latest(con, "labeler", "labeler_id", "detection")
    ratings = load(con, "labeler", len(current.class_ids))
    if ratings.n_items == 0:
        return {}, {}
    compared = regions.compare(con, "labeler", ratings.raters, ratings.k, "detection")
    counts = regions.confusions(compared, current.class_ids)
    names = pa.array(current.class_ids)
    con.register(
        "confused_arrow",
        pa.table(
            {
                "pair": compared.confused_pair,
                "class_a": names.take(pa.array(compared.confused_a)),
                "class_b": names.take(pa.array(compared.confused_b)),
            }
        ),
    )
    items: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in con.sql(_BOX_ITEMS).to_arrow_table().to_pylist():
        found = items.setdefault((row.pop("a"), row.pop("b")), [])
        if len(found) < EXAMPLES:
            found.append(row)
    return counts, items


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
    ws: Repo, dataset: str, golden: str = "golden", top: int = 5, snapshot: str | None = None
) -> dict[str, Any]:

    guideline = dataset_guideline(ws, dataset)
    spec = spec_at(ws, guideline, releases(ws, guideline)[-1].version)
    bake = bakeoff(ws, dataset, golden, snapshot=snapshot, boot=200)
    directed = _golden_confusions(bake)
    con = connect(ws, dataset, bake["snapshot"]["commit"])
    if bake["task"] == "detection":
        between, box_items = _box_disagreements(ws, dataset, bake["snapshot"]["commit"])
    else:
        between, box_items = _labeler_disagreements(con), None
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
        examples = [
            {**row, "source": source}
            for source, result in bake["sources"].items()
            for row in result.get("errors") or []
            if {row["golden"], row["labeled"]} == {a, b}
        ][:EXAMPLES]
        out_pairs.append(
            {
                "classes": [a, b],
                "golden_examples": examples,
                "disagreement_examples": box_items.get((a, b), [])
                if box_items is not None
                else _disagreeing_items(con, a, b),
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
        "snapshot": bake["snapshot"],
        "pairs": out_pairs,
        "suggestions": suggestions,
    }


def gaps_html(ws: Repo, result: dict[str, Any]) -> str:
    """``qa gaps`` as one offline page: per pair, what the guideline says, the suggestions, and
    pictures of the golden items vendors got wrong and of the items labelers disagree on."""

    snap, golden = result["snapshot"], result["golden"]
    about = (
        f"Guideline {result['guideline']} {result['version']}; golden set {golden['name']} "
        f"v{golden['version']} ({golden['items']} items); snapshot {snap['name']} "
        f"({snap['commit'][:10]}, {snap['date']})"
    )
    sections = []
    for pair in result["pairs"]:
        a, b = pair["classes"]
        confusions = "; ".join(
            f"{direction}: " + ", ".join(f"{s} {v['count']} of {v['of']}" for s, v in per.items())
            for direction, per in pair["golden_confusions"].items()
        )
        rules = ", ".join(pair["guideline"]["deciding_rules"]) or "nothing"
        tips = "".join(f"<li>{escape(t)}</li>" for t in pair["suggestions"])
        wrong = "".join(card(ws, row) for row in pair["golden_examples"])
        split = "".join(card(ws, row) for row in pair["disagreement_examples"])
        sections.append(
            f'<section class="pair"><h2>{escape(a)} / {escape(b)}</h2>'
            f"<p>Golden confusions: {escape(confusions or 'none')}. Labelers disagree on "
            f"{pair['labeler_disagreements']} pair(s) of labels. What decides between them in "
            f"the guideline: {escape(rules)}.</p>"
            + (f"<h3>Add to the guideline</h3><ul>{tips}</ul>" if tips else "")
            + (f"<h3>Golden items labeled wrong</h3><main>{wrong}</main>" if wrong else "")
            + (f"<h3>Items labelers disagree on</h3><main>{split}</main>" if split else "")
            + "</section>"
        )
    title = f"Guideline gaps in {result['dataset']}"
    body = "".join(sections) or "<p>No confused class pairs.</p>"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{PAGE_STYLE}"
        ".pair{background:#fff;margin:16px 20px;padding:4px 16px;border:1px solid #ddd}"
        ".pair main{padding:8px 0}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><div>{escape(about)}</div></header>{body}</body></html>\n"
    )
