"""Bake-off reports: ``metrics.json`` (for ``dvc metrics show``), Markdown, HTML and PNG plots.

The HTML embeds nothing from other hosts: the plots sit beside it as files and every string is
escaped.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from labelspec.site.safe import md_cell, md_text
from labelspec.yamlio import atomic_write_text

METRIC_KEYS = (
    "n",
    "accuracy",
    "macro_f1",
    "kappa",
    "precision",
    "recall",
    "f1",
    "mean_iou",
    "lead_time_median_s",
    "lead_time_p90_s",
    "labels_per_labeler_hour",
    "cost_per_label",
    "cost_per_correct_label",
)


def _plt():
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def _quality(result: dict[str, Any], key: str) -> tuple[float | None, list[float] | None]:
    return result.get(key), result.get(f"{key}_ci")


def plot_quality_vs_cost(bake: dict[str, Any], out: Path) -> Path:
    plt = _plt()
    key = bake["quality"]
    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for source, result in bake["sources"].items():
        value, ci = _quality(result, key)
        cost = result.get("cost_per_label")
        if value is None:
            continue
        x = cost if cost is not None else 0.0
        yerr = [[value - ci[0]], [ci[1] - value]] if ci else None
        ax.errorbar([x], [value], yerr=yerr, fmt="o", capsize=4, label=source)
        ax.annotate(
            source + ("" if cost is not None else " (no cost)"),
            (x, value),
            textcoords="offset points",
            xytext=(6, 6),
        )
    ax.set_xlabel("cost per label")
    ax.set_ylabel(f"{key} on golden set {bake['golden']['name']} (95% CI)")
    ax.set_title(f"{key} vs cost per vendor")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = out / "quality_vs_cost.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_confusions(bake: dict[str, Any], out: Path) -> list[Path]:
    plt = _plt()
    paths = []
    for source, result in bake["sources"].items():
        confusion = result.get("confusion")
        if not confusion:
            continue
        labels, matrix = confusion["labels"], confusion["matrix"]
        fig, ax = plt.subplots(figsize=(6, 5), dpi=120)
        image = ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel(f"labeled by {source}")
        ax.set_ylabel("golden")
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                if value:
                    ax.text(
                        j,
                        i,
                        str(value),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if value > max(map(max, matrix)) / 2 else "black",
                    )
        fig.colorbar(image, ax=ax, shrink=0.8)
        ax.set_title(f"confusion: {source}")
        fig.tight_layout()
        path = out / f"confusion_{_safe(source)}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths


def plot_agreement(agreement: dict[str, Any], out: Path) -> Path | None:
    per_class = agreement.get("per_class") or {}
    values = {
        c: v.get("specific_agreement")
        for c, v in per_class.items()
        if v.get("specific_agreement") is not None
    }
    if not values:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=120)
    ax.bar(list(values), list(values.values()), color="#5c6bc0")
    ax.set_ylim(0, 1)
    ax.set_ylabel("specific agreement")
    ax.set_title("agreement between labelers, by class")
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    path = out / "agreement_by_class.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def write_report(
    bake: dict[str, Any], out: Path, agreement: dict[str, Any] | None = None
) -> dict[str, str]:
    """Write metrics.json, report.md, report.html and the plots into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    metrics = {
        source: {k: r.get(k) for k in METRIC_KEYS if r.get(k) is not None}
        for source, r in bake["sources"].items()
    }
    if agreement:
        metrics["agreement"] = {
            k: agreement.get(k)
            for k in ("krippendorff_alpha", "fleiss_kappa", "items")
            if agreement.get(k) is not None
        }
    atomic_write_text(out / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    plots = [plot_quality_vs_cost(bake, out), *plot_confusions(bake, out)]
    if agreement:
        agreement_plot = plot_agreement(agreement, out)
        if agreement_plot:
            plots.append(agreement_plot)
    key = bake["quality"]
    header = [
        "rank",
        "source",
        "score",
        key,
        "95% CI",
        "cost/label",
        "cost/correct",
        "median s",
        "labels/h",
    ]
    rows = []
    for entry in bake["ranking"]:
        r = bake["sources"][entry["source"]]
        ci = r.get(f"{key}_ci")
        rows.append(
            [
                entry["rank"],
                entry["source"],
                entry["score"],
                r.get(key),
                f"{ci[0]:.3f}-{ci[1]:.3f}" if ci else "-",
                r.get("cost_per_label"),
                r.get("cost_per_correct_label"),
                r.get("lead_time_median_s"),
                r.get("labels_per_labeler_hour"),
            ]
        )
    golden = bake["golden"]
    title = f"Bake-off on {bake['dataset']}: golden set {golden['name']} v{golden['version']} ({golden['items']} items)"
    weights = ", ".join(f"{k} {v:.2f}" for k, v in bake["weights"].items())
    # Source names come from deliveries: every cell is escaped, so a name cannot add HTML,
    # links or columns to a report that is read on GitHub or in DVC Studio.
    md = [
        f"# {md_text(title)}",
        "",
        f"Ranking weights: {md_text(weights)}.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + " --- |" * len(header),
    ]
    md += ["| " + " | ".join(md_cell(_fmt(v)) for v in row) + " |" for row in rows]
    md += ["", *[f"![{md_text(p.stem)}]({quote(p.name)})" for p in plots], ""]
    atomic_write_text(out / "report.md", "\n".join(md))
    esc = html.escape
    table = "".join(
        "<tr>" + "".join(f"<td>{esc(_fmt(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    images = "".join(
        f'<figure><img src="{esc(p.name)}" alt="{esc(p.stem)}"><figcaption>{esc(p.stem)}</figcaption></figure>'
        for p in plots
    )
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem}img{max-width:100%}</style></head>"
        f"<body><h1>{esc(title)}</h1><p>Ranking weights: {esc(weights)}.</p><table><tr>"
        + "".join(f"<th>{esc(h)}</th>" for h in header)
        + f"</tr>{table}</table>{images}</body></html>\n"
    )
    atomic_write_text(out / "report.html", page)
    return {
        "metrics": str(out / "metrics.json"),
        "markdown": str(out / "report.md"),
        "html": str(out / "report.html"),
        "plots": [str(p) for p in plots],
    }
