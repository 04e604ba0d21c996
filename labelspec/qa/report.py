"""Bake-off reports: ``metrics.json`` (for ``dvc metrics show``), Markdown, HTML, PNG plots and
drill-down pages.

The HTML says what was judged (snapshot, golden set and the guideline version it was made
under, the labels' guideline versions, delivered or current labels, the date), then a verdict in
plain words (whether the 95 % intervals of the ranking score and of the quality overlap), the
ranking with its bootstrap interval, every figure (accuracy or F1 with CIs, kappa, macro-F1,
per-class precision / recall / F1, speed, cost, review-based error rates), a per-vendor trend
over deliveries, and each confusion matrix as a table whose off-diagonal cells link to a page of
the items behind them (``drill/``, ``labelspec.qa.drill``). Figures show 3 significant digits.

Nothing is loaded from other hosts: the plots sit beside the page as files, the drill-down
pages embed their images, and every string (source names come from deliveries) is escaped.
"""

from __future__ import annotations

import json
import math
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from labelspec.progress import progress
from labelspec.qa.agreement import NothingToAgreeOn, agreement
from labelspec.qa.drill import page
from labelspec.repo import Repo
from labelspec.site.safe import md_cell, md_text
from labelspec.yamlio import atomic_write_text

METRIC_KEYS = (
    "n",
    "items",
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
    "review_error_rate",
)


def sig(value: Any, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits, as people read figures: 0.933, 0.0400,
    567 (not 566.995), 1235 (whole numbers of 4+ digits stay whole); '-' for None."""
    if value is None:
        return "-"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    value = float(value)
    if math.isnan(value):
        return "-"
    if value == 0:
        return "0"
    if abs(value) >= 10 ** (digits - 1):
        return f"{value:.0f}"
    text = f"{value:#.{digits}g}"
    return text.rstrip(".") if "e" not in text else f"{value:.{digits}g}"


def _interval(ci: list[float] | None) -> str:
    return f"{sig(ci[0])} to {sig(ci[1])}" if ci else "-"


def _plt():
    import matplotlib  # lazy: 0.5 s, only for charts

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt  # lazy: see above

    return plt


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


# -- plots -----------------------------------------------------------------------------------------
def plot_quality_vs_cost(bake: dict[str, Any], out: Path) -> tuple[Path, str]:
    from matplotlib.ticker import FuncFormatter, MaxNLocator  # lazy: see above

    plt = _plt()
    key = bake["quality"]
    fig, ax = plt.subplots(figsize=(6.5, 4.2), dpi=120)
    for source, result in bake["sources"].items():
        value, ci = result.get(key), result.get(f"{key}_ci")
        if value is None:
            continue
        cost = result.get("cost_per_label")
        x = cost if cost is not None else 0.0
        yerr = [[max(0.0, value - ci[0])], [max(0.0, ci[1] - value)]] if ci else None
        ax.errorbar([x], [value], yerr=yerr, fmt="o", capsize=4)
        ax.annotate(
            source + ("" if cost is not None else " (no cost)"),
            (x, value),
            textcoords="offset points",
            xytext=(6, 6),
        )
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"${sig(v)}"))
    ax.margins(x=0.25, y=0.15)
    ax.set_xlabel("cost per label (USD)")
    ax.set_ylabel(f"{key} (95 % CI)")
    ax.set_title(f"{key} against cost per label")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = out / "quality_vs_cost.png"
    fig.savefig(path)
    plt.close(fig)
    golden = bake["golden"]
    caption = (
        f"{key.capitalize()} of each vendor on golden set {golden['name']} v{golden['version']} "
        "against its cost per label; the bars are 95 % bootstrap intervals. Up and to the left "
        "is better."
    )
    return path, caption


def plot_scores(bake: dict[str, Any], out: Path) -> tuple[Path, str]:
    plt = _plt()
    ranking = bake["ranking"]
    fig, ax = plt.subplots(figsize=(6.5, 0.6 * len(ranking) + 1.4), dpi=120)
    for place, entry in enumerate(reversed(ranking)):
        ci = entry.get("score_ci")
        # a percentile interval need not contain the point estimate: draw what lies either side
        xerr = (
            [[max(0.0, entry["score"] - ci[0])], [max(0.0, ci[1] - entry["score"])]] if ci else None
        )
        ax.errorbar([entry["score"]], [place], xerr=xerr, fmt="o", capsize=4, color="#3949ab")
    ax.set_yticks(range(len(ranking)), [e["source"] for e in reversed(ranking)])
    ax.set_xlim(-0.05, 1.05)
    ax.set_xlabel("ranking score (0 = worst on every axis, 1 = best)")
    ax.set_title("ranking score with its 95 % bootstrap interval")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    path = out / "ranking_score.png"
    fig.savefig(path)
    plt.close(fig)
    weights = ", ".join(f"{k} {sig(v)}" for k, v in bake["weights"].items())
    caption = (
        f"Each vendor's ranking score (weights: {weights}) with the 95 % interval of "
        f"{bake['boot']} bootstrap resamples of its annotations; overlapping bars mean the "
        "order could flip."
    )
    return path, caption


def plot_trend(bake: dict[str, Any], out: Path) -> tuple[Path, str] | None:
    key = bake["quality"]
    series = {s: r.get("trend") or [] for s, r in bake["sources"].items()}
    if not any(series.values()):
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.8), dpi=120)
    for source, points in series.items():
        values = [p.get(key) for p in points]
        ax.plot(range(1, len(points) + 1), values, marker="o", label=source)
    ax.set_xlabel("delivery (oldest first)")
    ax.set_ylabel(key)
    ax.set_title(f"{key} per delivery")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = out / "trend.png"
    fig.savefig(path)
    plt.close(fig)
    caption = f"{key.capitalize()} of each vendor on the golden items of each of its deliveries, oldest first."
    return path, caption


def plot_confusions(bake: dict[str, Any], out: Path) -> list[tuple[Path, str]]:
    plt = _plt()
    made = []
    for source, result in bake["sources"].items():
        confusion = result.get("confusion")
        if not confusion:
            continue
        labels, matrix = confusion["labels"], confusion["matrix"]
        fig, ax = plt.subplots(figsize=(6, 5), dpi=120)
        image = ax.imshow(matrix, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
        ax.set_yticks(range(len(labels)), labels)
        ax.set_xlabel(f"class labeled by {source}")
        ax.set_ylabel("golden class")
        top = max(map(max, matrix)) or 1
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
                        color="white" if value > top / 2 else "black",
                    )
        fig.colorbar(image, ax=ax, shrink=0.8, label="labels")
        ax.set_title(f"confusion matrix of {source}")
        fig.tight_layout()
        path = out / f"confusion_{_safe(source)}.png"
        fig.savefig(path)
        plt.close(fig)
        made.append(
            (
                path,
                f"What {source} labeled (columns) for each golden class (rows); off the "
                "diagonal are its mistakes.",
            )
        )
    return made


def plot_agreement(agreement: dict[str, Any], out: Path) -> tuple[Path, str] | None:
    per_class = agreement.get("per_class") or {}
    values = {
        c: v.get("specific_agreement")
        for c, v in per_class.items()
        if v.get("specific_agreement") is not None
    }
    if not values:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.5), dpi=120)
    ax.bar(list(values), list(values.values()), color="#5c6bc0")
    ax.set_ylim(0, 1)
    ax.set_ylabel("specific agreement")
    ax.set_title("agreement between labelers, by class")
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    path = out / "agreement_by_class.png"
    fig.savefig(path)
    plt.close(fig)
    return path, (
        "How often two labelers of the same item agree when one of them chose the class "
        "(specific agreement); low bars are classes the guideline leaves open."
    )


# -- drill-down pages ----------------------------------------------------------------------------------
def drill_pages(ws: Repo | None, bake: dict[str, Any], out: Path) -> dict[str, dict]:
    """One page per non-empty off-diagonal confusion cell; source -> {(golden, labeled): file}."""

    folder = out / "drill"
    made: dict[str, dict] = {}
    about = _about_text(bake)
    for number, (source, result) in enumerate(bake["sources"].items()):
        cells: dict[tuple[str, str], list[dict]] = {}
        for row in result.get("errors") or []:
            cells.setdefault((row["golden"], row["labeled"]), []).append({**row, "source": source})
        labels = (result.get("confusion") or {}).get("labels") or []
        if not labels and result.get("errors"):  # boxes: one page of the imperfect annotations
            folder.mkdir(parents=True, exist_ok=True)
            rows = [{**row, "source": source} for row in result["errors"]]
            name = f"{number}-{_safe(source)}-boxes.html"
            title = f"{source}: {len(rows)} annotation(s) with missed, extra or misplaced boxes"
            atomic_write_text(folder / name, page(ws, title, about, rows, back="../report.html"))
            made.setdefault(source, {})[BOXES] = f"drill/{name}"
            continue
        code = {c: i for i, c in enumerate(labels)}
        for (golden, labeled), rows in cells.items():
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{number}-{_safe(source)}-{code.get(golden, 'x')}-{code.get(labeled, 'x')}.html"
            count = _cell(result, golden, labeled)
            shown = f" ({len(rows)} shown)" if count and count > len(rows) else ""
            title = (
                f"{source}: golden {golden} labeled {labeled} ({count or len(rows)} labels{shown})"
            )
            atomic_write_text(folder / name, page(ws, title, about, rows, back="../report.html"))
            made.setdefault(source, {})[(golden, labeled)] = f"drill/{name}"
    return made


BOXES = ("*", "boxes")  # the key of a detection source's drill-down page


def _cell(result: dict[str, Any], golden: str, labeled: str) -> int | None:
    confusion = result.get("confusion") or {}
    labels = confusion.get("labels") or []
    if golden in labels and labeled in labels:
        return confusion["matrix"][labels.index(golden)][labels.index(labeled)]
    return None


# -- the pages ---------------------------------------------------------------------------------------
REPORT_DEFAULTS: dict[str, Any] = {
    "snapshot": {"name": "-", "commit": "-", "date": "-"},
    "guideline": {"name": "-", "versions": []},
    "labels": "delivered",
    "generated": "-",
    "boot": 0,
    "verdict": {"score": "no verdict", "quality": "no verdict"},
    "warnings": [],
    "notes": [],
}


def _about_text(bake: dict[str, Any]) -> str:
    snap, golden, guideline = bake["snapshot"], bake["golden"], bake["guideline"]
    return (
        f"Snapshot {snap['name']} (commit {snap['commit'][:10]}, {snap['date']}); golden set "
        f"{golden['name']} v{golden['version']} ({golden['items']} items, made under "
        f"{guideline['name']} {golden.get('guideline_version', '-')}); labels made under "
        f"{guideline['name']} {', '.join(guideline['versions']) or '-'}; "
        f"{'each vendor judged on the labels it delivered' if bake['labels'] == 'delivered' else 'the current labels judged'}; "
        f"generated {bake['generated']}."
    )


def _rows(bake: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    key = bake["quality"]
    header = [
        "rank",
        "source",
        "score",
        "score 95% CI",
        "items",
        "labels",
        key,
        f"{key} 95% CI",
        "kappa",
        "macro-F1",
        "$/label",
        "$/correct",
        "median s",
        "p90 s",
        "labels/h",
        "review errors",
    ]
    rows = []
    for entry in bake["ranking"]:
        r = bake["sources"][entry["source"]]
        rows.append(
            [
                entry["rank"],
                entry["source"],
                sig(entry["score"]),
                _interval(entry.get("score_ci")),
                r.get("items"),
                r.get("n"),
                sig(r.get(key)),
                _interval(r.get(f"{key}_ci")),
                sig(r.get("kappa")),
                sig(r.get("macro_f1")),
                sig(r.get("cost_per_label")),
                sig(r.get("cost_per_correct_label")),
                sig(r.get("lead_time_median_s")),
                sig(r.get("lead_time_p90_s")),
                sig(r.get("labels_per_labeler_hour")),
                f"{sig(r.get('review_error_rate'))} ({r['rejected']}/{r['reviewed']})"
                if r.get("reviewed")
                else "-",
            ]
        )
    return header, rows


def _html_table(header: list[str], rows: list[list[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape('-' if v is None else str(v))}</td>" for v in row) + "</tr>"
        for row in rows
    )
    return f'<table class="{cls}"><tr>{head}</tr>{body}</table>'


def _confusion_html(source: str, result: dict[str, Any], links: dict) -> str:
    confusion = result.get("confusion")
    if not confusion:
        link = links.get(BOXES)
        return (
            f'<p><a href="{escape(quote(link))}">The items where {escape(source)} missed, added '
            "or misplaced boxes</a></p>"
            if link
            else ""
        )
    labels, matrix = confusion["labels"], confusion["matrix"]
    head = "<th>golden \\ labeled</th>" + "".join(f"<th>{escape(c)}</th>" for c in labels)
    body = []
    for i, row in enumerate(matrix):
        cells = []
        for j, value in enumerate(row):
            link = links.get((labels[i], labels[j]))
            text = str(value) if value else ""
            if link and value:
                title = f"golden {labels[i]} labeled {labels[j]}: see the items"
                text = f'<a href="{escape(quote(link))}" title="{escape(title)}">{value}</a>'
            cls = "diag" if i == j else ("err" if value else "")
            cells.append(f'<td class="{cls}">{text}</td>')
        body.append(f"<tr><th>{escape(labels[i])}</th>{''.join(cells)}</tr>")
    return (
        f"<h3>Confusion matrix of {escape(source)}</h3><p>Rows are golden classes, columns what "
        f"{escape(source)} labeled. Click a red cell to see its items.</p>"
        f'<table class="confusion"><tr>{head}</tr>{"".join(body)}</table>'
    )


def boxes_sentence(result: dict[str, Any]) -> str | None:
    """Detection: what became of every golden and labeled box (``qa.objects``), in words; ner:
    how the golden negatives were answered."""
    boxes, empty = result.get("boxes"), result.get("golden_empty")
    if not boxes:
        if not (empty and empty["annotations"]):
            return None
        return (
            f"On golden items with no entities, {empty['answered_empty']} of "
            f"{empty['annotations']} annotations said so; {empty['extra_spans']} extra span(s) "
            "were marked there."
        )
    text = (
        f"Of {boxes['golden']} golden boxes, {boxes['hit']} were hit, {boxes['confused']} "
        f"boxed with another class, {boxes['mislocated']} mislocated (IoU from "
        f"{boxes['mislocated_iou']} to the match threshold) and {boxes['missed']} missed; "
        f"{boxes['extra']} of {boxes['labeled']} labeled boxes are extra."
    )
    if empty and empty["annotations"]:
        text += (
            f" On golden items with no objects, {empty['answered_empty']} of "
            f"{empty['annotations']} annotations said so; {empty['extra_boxes']} extra box(es) "
            "were drawn there."
        )
    return text


def _per_class_html(source: str, result: dict[str, Any]) -> str:
    sentence = boxes_sentence(result)
    boxes = f"<p>{escape(sentence)}</p>" if sentence else ""
    per_class = result.get("per_class") or {}
    rows = [
        [c, sig(v["precision"]), sig(v["recall"]), sig(v["f1"]), v["support"]]
        for c, v in per_class.items()
    ]
    return (
        boxes
        + f"<h3>Per class: {escape(source)}</h3>"
        + _html_table(["class", "precision", "recall", "F1", "golden support"], rows, "per-class")
    )


def _trend_html(bake: dict[str, Any]) -> str:
    key = bake["quality"]
    rows = [
        [source, n, point["batch"], point.get("created"), point["annotations"], sig(point.get(key))]
        for source, r in bake["sources"].items()
        for n, point in enumerate(r.get("trend") or [], 1)
    ]
    return _html_table(["source", "delivery", "batch", "created", "annotations", key], rows)


def _split_html(bake: dict[str, Any]) -> str:
    key = bake["quality"]
    rows = [
        [source, part, ", ".join(v["classes"]), v["n"], sig(v.get(key))]
        for source, r in bake["sources"].items()
        for part, v in (r.get("split") or {}).items()
    ]
    if not rows:
        return ""
    return "<h2>Split by guideline change</h2>" + _html_table(
        ["source", "classes affected?", "classes", "golden labels", key], rows
    )


STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}"
    "table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}"
    "th{background:#f3f3f3;text-align:center}table.ranking td:nth-child(2){text-align:left;white-space:nowrap}"
    "table.costs td:first-child,table.per-class td:first-child{text-align:left;white-space:nowrap}"
    "table.confusion td{min-width:2rem;text-align:center}table.confusion td.diag{background:#e3ecfa}"
    "table.confusion td.err{background:#fde2e2}table.confusion td.err a{color:#b00020;font-weight:600}"
    ".verdict{font-size:1.15rem;background:#fff8e1;border-left:4px solid #f9a825;padding:.6rem 1rem}"
    ".warning{background:#fdecea;border-left:4px solid #c62828;padding:.5rem 1rem}"
    ".about{color:#555}figure{margin:1rem 0}img{max-width:100%}figcaption{color:#444;font-size:.95rem}"
)


def bakeoff_report(ws: Repo, dataset: str, bake: dict[str, Any], out: Path) -> dict[str, Any]:
    """The bake-off's report in ``out``, with the labelers' agreement on the same snapshot when
    there is any to measure (two or more labelers on an item)."""
    try:
        agreed = agreement(ws, dataset, bake["snapshot"]["commit"])
    except NothingToAgreeOn:
        agreed = None
    return write_report(bake, out, agreed, ws=ws)


def write_report(
    bake: dict[str, Any],
    out: Path,
    agreement: dict[str, Any] | None = None,
    ws: Repo | None = None,
) -> dict[str, Any]:
    """Write metrics.json, report.md, report.html, the plots and the drill-down pages (their
    pictures come from ``ws``; without one the cards say the image is not there)."""

    bake = {**REPORT_DEFAULTS, **bake}
    out.mkdir(parents=True, exist_ok=True)
    with progress("writing the report", total=3) as advance:
        metrics: dict[str, Any] = {
            source: {k: r.get(k) for k in METRIC_KEYS if r.get(k) is not None}
            for source, r in bake["sources"].items()
        }
        for entry in bake["ranking"]:
            metrics[entry["source"]]["score"] = entry["score"]
        if agreement:
            metrics["agreement"] = {
                k: agreement.get(k)
                for k in ("krippendorff_alpha", "fleiss_kappa", "items")
                if agreement.get(k) is not None
            }
        atomic_write_text(
            out / "metrics.json", json.dumps(metrics, indent=2, sort_keys=True) + "\n"
        )
        plots = [plot_scores(bake, out), plot_quality_vs_cost(bake, out)]
        trend = plot_trend(bake, out)
        plots += [trend] if trend else []
        plots += plot_confusions(bake, out)
        if agreement:
            agreement_plot = plot_agreement(agreement, out)
            plots += [agreement_plot] if agreement_plot else []
        advance(1)
        links = drill_pages(ws, bake, out)
        advance(1)
        header, rows = _rows(bake)
        golden = bake["golden"]
        title = (
            f"Bake-off on {bake['dataset']}: golden set {golden['name']} v{golden['version']} "
            f"({golden['items']} items)"
        )
        weights = ", ".join(f"{k} {sig(v)}" for k, v in bake["weights"].items())
        verdict = bake["verdict"]
        about = _about_text(bake)
        _markdown(bake, out, title, about, weights, header, rows, plots)
        notes = "".join(f'<p class="note">Note: {escape(n)}</p>' for n in bake["notes"])
        warnings = "".join(f'<p class="warning">{escape(w)}</p>' for w in bake["warnings"])
        details = "".join(
            _confusion_html(s, r, links.get(s, {})) + _per_class_html(s, r)
            for s, r in bake["sources"].items()
        )
        images = "".join(
            f'<figure><img src="{escape(quote(p.name))}" alt="{escape(caption)}">'
            f"<figcaption>{escape(caption)}</figcaption></figure>"
            for p, caption in plots
        )
        html_page = (
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f'<h1>{escape(title)}</h1><p class="about">{escape(about)}</p>'
            f'<p class="verdict" id="verdict">{escape(_sentence(verdict["score"]))} '
            f"On {escape(bake['quality'])} alone: {escape(_sentence(verdict['quality']))}</p>"
            f"{warnings}<h2>Ranking</h2><p>Ranking weights: {escape(weights)}. Each axis is "
            "scaled from the worst vendor (0) to the best (1): higher quality, lower cost per "
            "label and shorter median lead time rank higher.</p>"
            + _html_table(header[:10], [row[:10] for row in rows], "ranking")
            + "<h3>Speed and cost</h3>"
            + _html_table(header[1:2] + header[10:], [row[1:2] + row[10:] for row in rows], "costs")
            + notes
            + f"{images}<h2>Trend over deliveries</h2>{_trend_html(bake)}{_split_html(bake)}"
            + f"<h2>Per vendor</h2>{details}</body></html>\n"
        )
        atomic_write_text(out / "report.html", html_page)
        advance(1)
    return {
        "metrics": str(out / "metrics.json"),
        "markdown": str(out / "report.md"),
        "html": str(out / "report.html"),
        "plots": [str(p) for p, _ in plots],
        "drill_down": sorted(str(out / f) for cells in links.values() for f in cells.values()),
    }


def _sentence(text: str) -> str:
    return text + "."  # not capitalised: it starts with a source name


def _markdown(bake, out, title, about, weights, header, rows, plots) -> None:
    # Source names come from deliveries: every cell is escaped, so a name cannot add HTML,
    # links or columns to a report that is read on GitHub or in DVC Studio.
    md = [
        f"# {md_text(title)}",
        "",
        md_text(about),
        "",
        f"**Verdict:** {md_text(_sentence(bake['verdict']['score']))}",
        "",
        f"Ranking weights: {md_text(weights)}.",
        "",
        "| " + " | ".join(md_cell(h) for h in header) + " |",
        "|" + " --- |" * len(header),
    ]
    md += [
        "| " + " | ".join(md_cell("-" if v is None else str(v)) for v in row) + " |" for row in rows
    ]
    md += ["", *[f"> {md_text(w)}" for w in bake["warnings"]], ""]
    md += [
        f"![{md_text(caption)}]({quote(p.name)})\n\n{md_text(caption)}\n" for p, caption in plots
    ]
    atomic_write_text(out / "report.md", "\n".join(md))
