"""Run the benchmarks: ``python -m benchmarks.run [store] [trace] [import] [site] [qa] [resolve]
[boxes] [engines] [items]`` (all by default; ``engines`` needs pyspark and Java 17).

Workspaces are generated under $LABELSPEC_BENCH_DIR (default: the system temp folder); results
land in benchmarks/results/*.json. ``trace`` and ``import`` reuse the 10M-label workspace ``store`` builds.
Not part of the test suite: timings belong beside their baselines, measured in the same run.
"""

from __future__ import annotations

import json
import sys

ALL = ["store", "trace", "import", "site", "qa", "resolve", "boxes", "engines", "items"]


def main(parts: list[str]) -> None:
    import importlib

    for name in parts or ALL:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(json.dumps(module.run(), indent=2), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
