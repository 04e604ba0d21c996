"""QA benchmarks (issue 7): ``qa bakeoff`` and ``qa agreement`` on 1M labels, each beside a
numpy / DuckDB baseline computing the same figures in the same run (target <= 2x)."""

from __future__ import annotations

import json

import numpy as np

from benchmarks.common import (
    CLASSES,
    OUT,
    SOURCES,
    add_items,
    add_labelers,
    best_of,
    fresh_workspace,
    history,
    save,
    scaled,
)

N_ITEMS, BATCHES, PER_BATCH = scaled(100_000, 100), scaled(100, 3), scaled(10_000, 50)


def _setup():
    from labelspec.store.golden import add_golden
    from labelspec.workspace import Workspace

    root = fresh_workspace(OUT / "ws-qa")
    training = add_labelers(root)
    add_items(root, N_ITEMS)
    history(root, BATCHES, PER_BATCH, N_ITEMS, training, seed=7)
    rng = np.random.default_rng(3)
    golden = OUT / "golden-100k.jsonl"
    with golden.open("w") as handle:
        for i, c in enumerate(rng.integers(0, 10, N_ITEMS)):
            handle.write(json.dumps({"item_id": f"item-{i:07d}", "class": CLASSES[c]}) + "\n")
    ws = Workspace(root)
    add_golden(ws, "digits", golden, "jsonl", "golden")
    return ws


def bakeoff_baseline(ws) -> dict:
    from labelspec.qa import metrics
    from labelspec.store.golden import golden_labels
    from labelspec.store.query import connect

    gold, _ = golden_labels(ws, "digits", "golden")
    con = connect(ws, "digits")
    con.register("g", gold)
    con.register("codes", __import__("pyarrow").table({"class": CLASSES, "code": list(range(10))}))
    out = {}
    for (source,) in con.execute("select distinct source from labels").fetchall():
        data = con.execute(
            """select tc.code, pc.code from labels l join g using (item_id)
               join codes tc on tc."class" = g."class" join codes pc on pc."class" = l."class" where l.source = ?""",
            [source],
        ).fetchnumpy()
        truth, pred = (np.asarray(v, dtype=np.int64) for v in data.values())
        report = metrics.classification_report(truth, pred, 10)
        out[source] = {
            "accuracy": report["accuracy"],
            "kappa": metrics.cohen_kappa(truth, pred, 10),
            "ci": metrics.bootstrap_ci(truth == pred, n=2000),
            "speed": con.execute(
                """select median(lead_time_s), quantile_cont(lead_time_s, 0.9), sum(cost), min(created_at), max(created_at)
                   from labels where source = ? and item_id in (select item_id from g)""",
                [source],
            ).fetchall(),
        }
    return out


def agreement_baseline(ws) -> dict:
    from labelspec.qa import metrics
    from labelspec.store.query import connect

    con = connect(ws, "digits")
    con.register("codes", __import__("pyarrow").table({"class": CLASSES, "code": list(range(10))}))
    rows = con.execute(
        """with latest as (select item_id, labeler_id,
                  arg_max("class", {'t': epoch_us(created_at), 'b': batch_id, 'a': annotation_id}) as cls
                  from labels group by 1, 2),
                shared as (select item_id from latest group by 1 having count(*) > 1)
           select dense_rank() over (order by labeler_id) - 1, dense_rank() over (order by item_id) - 1, c.code
           from latest join shared using (item_id) join codes c on c."class" = latest.cls"""
    ).fetchnumpy()
    rater, unit, code = (np.asarray(v, dtype=np.int64) for v in rows.values())
    matrix = np.full((rater.max() + 1, unit.max() + 1), np.nan)
    matrix[rater, unit] = code
    counts = np.zeros((unit.max() + 1, 10))
    np.add.at(counts, (unit, code), 1)
    per_item = counts.sum(1)
    modal = np.bincount(per_item.astype(int)).argmax()
    labels = np.where(np.isnan(matrix), -1, matrix).astype(np.int64)
    return {
        "alpha": metrics.krippendorff_alpha(matrix, "nominal"),
        "fleiss": metrics.fleiss_kappa(counts[per_item == modal]),
        "pairwise": metrics.pairwise_cohen_kappa(labels, 10),
    }


def run() -> dict:
    from labelspec.qa.agreement import agreement
    from labelspec.qa.bakeoff import bakeoff

    ws = _setup()
    # the history's batches each hold all three vendors' rows (recorded as source "bench"), so
    # the vendors are named: a bake-off ranks the sources batches deliver by default
    ours_bake = bakeoff(ws, "digits", "golden", sources=SOURCES)
    base_bake = bakeoff_baseline(ws)
    for source, figures in base_bake.items():
        assert abs(ours_bake["sources"][source]["accuracy"] - figures["accuracy"]) < 1e-12
    ours_agree = agreement(ws, "digits")
    base_agree = agreement_baseline(ws)
    assert abs(ours_agree["krippendorff_alpha"] - base_agree["alpha"]) < 1e-9
    t_bake = best_of(lambda: bakeoff(ws, "digits", "golden", sources=SOURCES))
    t_bake_base = best_of(lambda: bakeoff_baseline(ws))
    t_agree = best_of(lambda: agreement(ws, "digits"))
    t_agree_base = best_of(lambda: agreement_baseline(ws))
    result = {
        "labels": ours_agree.get("items") and BATCHES * PER_BATCH,
        "bakeoff": {
            "labelspec_s": round(t_bake, 3),
            "baseline_s": round(t_bake_base, 3),
            "ratio": round(t_bake / t_bake_base, 2),
            "target_ratio": 2.0,
        },
        "agreement": {
            "items": ours_agree["items"],
            "labelspec_s": round(t_agree, 3),
            "baseline_s": round(t_agree_base, 3),
            "ratio": round(t_agree / t_agree_base, 2),
            "target_ratio": 2.0,
        },
    }
    save("qa", result)
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
