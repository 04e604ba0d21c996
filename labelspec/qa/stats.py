"""``labeler stats``: per labeler throughput, accuracy on golden items, agreement with the
consensus of the other labelers, review-based error rates, and whether their training is
current. Sources are attributed by batch, as everywhere (a relabel answer is source
``relabel``)."""

from __future__ import annotations

from typing import Any

from labelspec.workspace import Workspace


def labeler_stats(
    ws: Workspace, dataset: str, golden: str | None = None, snapshot: str | None = None
) -> list[dict[str, Any]]:
    from labelspec.labelers.coverage import status
    from labelspec.qa import reviewed
    from labelspec.qa.current import golden_at, open_scored
    from labelspec.store.datasets import dataset_guideline
    from labelspec.store.golden import load_sets

    scored = open_scored(ws, dataset, snapshot, "current")
    con = scored.con
    sets = load_sets(ws, dataset)
    if golden is None and sets:
        golden = sorted(sets)[0] if len(sets) == 1 else None
    if golden:
        table, _ = golden_at(ws, dataset, golden, scored.snapshot.commit)
        con.register("g", table)
    else:
        con.execute("""create temp table g as select * from labels where false""")
    # Consensus of the others: the majority class among other labelers of the item (ties: none).
    rows = con.execute(
        """
        with votes as (
          select a.label_id, b."class", count(*) as n from labels a join labels b
            on a.item_id = b.item_id and a.labeler_id <> b.labeler_id group by 1, 2),
        ranked as (select label_id, "class", n, count(*) over (partition by label_id, n) as tied,
                          rank() over (partition by label_id order by n desc) as r from votes),
        consensus as (select label_id, "class" from ranked where r = 1 and tied = 1),
        golden as (select item_id, min("class") as "class" from g group by 1)
        select l.labeler_id, count(*) as labels, count(distinct l.item_id) as items,
               sum(l.lead_time_s) as seconds,
               count(go.item_id) as golden_labels, count(*) filter (where go."class" = l."class") as golden_correct,
               count(c.label_id) as consensus_labels, count(*) filter (where c."class" = l."class") as consensus_agree,
               string_agg(distinct l.source, ', ' order by l.source) as source
        from labels l left join golden go on go.item_id = l.item_id left join consensus c on c.label_id = l.label_id
        group by 1 order by 1
        """
    ).fetchall()
    current = {r.labeler: r for r in status(ws, dataset_guideline(ws, dataset))}
    rates = (
        reviewed.rates(con, ["labeler_id"])
        if reviewed.register(ws, con, dataset, scored.snapshot.commit)
        else {}
    )
    out = []
    for labeler, labels, items, seconds, g_n, g_ok, c_n, c_ok, source in rows:
        state = current.get(labeler)
        out.append(
            {
                "labeler": labeler,
                "source": source,
                "labels": labels,
                "items": items,
                "labels_per_hour": round(labels / (seconds / 3600), 1) if seconds else None,
                "golden": golden,
                "golden_labels": g_n,
                "golden_accuracy": (g_ok / g_n) if g_n else None,
                "consensus_labels": c_n,
                "consensus_agreement": (c_ok / c_n) if c_n else None,
                "certified": state.certified if state else None,
                "training_current": bool(state and state.covered),
                **rates.get((labeler,), reviewed.EMPTY),
            }
        )
    return out
