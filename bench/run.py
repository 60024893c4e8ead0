"""Run every benchmark and print one table: benchmark, baseline, ours, ratio, target, pass/fail.

python bench/run.py            # full sizes (a few minutes on 2 cores)
python bench/run.py --quick    # smaller inputs, for a smoke test
"""

from __future__ import annotations

import importlib
import sys
import time
from datetime import date

from common import machine, print_table

BENCHMARKS = [
    "bench_attention",
    "bench_motifs",
    "bench_cli",
    "bench_mutations",
    "bench_long_records",
    "bench_attributions",
    "bench_mlm",
    "bench_variants",
]


def main() -> int:
    quick = "--quick" in sys.argv
    rows = []
    t0 = time.time()
    for name in BENCHMARKS:
        rows += importlib.import_module(name).run(quick=quick)
    print(f"# dnalens benchmarks, {date.today()}, {machine()}, {time.time() - t0:.0f} s\n")
    print_table(rows)
    return 0 if all(r.passed for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
