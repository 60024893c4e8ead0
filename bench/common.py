"""Shared helpers for benchmarks: timing, a results row, the table printer."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def timed(fn, *args, repeat: int = 1, **kwargs):
    """Best wall time of ``repeat`` runs and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t0)
    return best, out


@dataclass
class Row:
    benchmark: str
    baseline: str  # what the baseline is and its measurement
    ours: str
    ratio: float  # ours / baseline (lower is better) unless stated
    target: str
    passed: bool
    note: str = ""


def print_table(rows: list[Row]) -> str:
    head = ["benchmark", "baseline", "ours", "ratio", "target", "result"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        lines.append(
            f"| {r.benchmark} | {r.baseline} | {r.ours} | {r.ratio:.3g} | {r.target} | "
            f"{'pass' if r.passed else 'FAIL'} |"
        )
    text = "\n".join(lines)
    print(text)
    for r in rows:
        if r.note:
            print(f"- {r.benchmark}: {r.note}")
    return text


def machine() -> str:
    import platform

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
