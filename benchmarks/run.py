"""Run the benchmarks: ``python -m benchmarks.run [store] [trace] [import] [site] [qa] [resolve]
[boxes] [gitcalls] [verify] [items] [engines]`` (all by default; ``engines`` needs pyspark and Java 17).

Workspaces are generated under $LABELSPEC_BENCH_DIR (default: the system temp folder); results
land in benchmarks/results/*.json ($LABELSPEC_BENCH_RESULTS). ``trace`` and ``import`` reuse the
10M-label workspace ``store`` builds. ``LABELSPEC_BENCH_SCALE`` multiplies every size (default 1):
the test suite runs the whole harness at a tiny scale, only to check that it runs; the timings
themselves are not part of it (they belong beside their baselines, measured in the same run).
"""

from __future__ import annotations

import json
import sys

PARTS = [
    "store", "trace", "import", "site", "qa", "resolve", "boxes", "gitcalls", "verify", "items",
    "engines",
]  # fmt: skip


def main(parts: list[str]) -> None:
    import importlib

    for name in parts or PARTS:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(json.dumps(module.run(), indent=2), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
