"""Bake-off reports show source names from deliveries as text: in Markdown table cells and in HTML."""

from __future__ import annotations

import re
from pathlib import Path

from labelspec.qa.report import write_report

HOSTILE = "vendor <img src=x onerror=alert(1)> | [x](javascript:alert(1)) **b**"


def test_source_names_cannot_add_markup_links_or_columns(tmp_path: Path):
    result = {"accuracy": 0.9, "accuracy_ci": [0.8, 0.95], "cost_per_label": 0.02, "lead_time_median_s": 4.0,
              "confusion": {"labels": ["a", "b"], "matrix": [[3, 1], [0, 4]]}}  # fmt: skip
    bake = {
        "dataset": "digits",
        "quality": "accuracy",
        "golden": {"name": "expert", "version": 1, "items": 8},
        "weights": {"accuracy": 1.0},
        "sources": {HOSTILE: result, "vendor-b": dict(result, confusion=None)},
        "ranking": [
            {"source": HOSTILE, "rank": 1, "score": 0.9},
            {"source": "vendor-b", "rank": 2, "score": 0.5},
        ],
    }
    paths = write_report(bake, tmp_path)
    markdown = Path(paths["markdown"]).read_text()
    rows = [line for line in markdown.splitlines() if line.startswith("| 1 ")]
    [row] = rows
    [header] = [line for line in markdown.splitlines() if line.startswith("| rank ")]
    assert len(re.split(r"(?<!\\)\|", row)) == len(re.split(r"(?<!\\)\|", header))
    assert "<img" not in markdown and "[x](javascript" not in markdown and "**b**" not in markdown
    assert (
        "&lt;img src=x onerror=alert(1)&gt; \\| \\[x\\](javascript:alert(1)) \\*\\*b\\*\\*" in row
    )
    assert "| 2 | vendor-b |" in markdown
    page = Path(paths["html"]).read_text()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
