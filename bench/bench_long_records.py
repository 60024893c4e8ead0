"""Peak memory of one long FASTA record: `dnalens attention` (Parquet) and `dnalens tracks --orientation both`
(CSV) on one 100-kb record against one 10-Mb record (quick: 1 Mb), each run in a fresh process (``ru_maxrss`` of
that child, from ``os.wait4``).

A long record is not gathered: its windows run batch by batch while the attention lens stitches them into a
disk-backed track (core/io/ondisk.py) and the table writer takes that track in pieces, so memory is bounded by the
window and batch size plus one byte per base for the record's bases. Target: ratio <= 1.2.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from common import ROOT, Row


def _fasta(path: str, length: int, seed: int) -> None:
    """One record of ``length`` random bases, 60 per line (written in pieces: the generator stays small too)."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"ACGT", dtype="S1")
    with open(path, "w") as fh:
        fh.write(f">chr_{length}\n")
        for a in range(0, length, 600_000):
            n = min(600_000, length - a)
            block = letters[rng.integers(0, 4, n)].tobytes().decode()
            fh.write("\n".join(block[i : i + 60] for i in range(0, n, 60)) + "\n")


def _peak_kib(args: list[str]) -> tuple[int, float]:
    """Peak resident memory (KiB) and wall time of one ``dnalens`` run in a fresh process."""
    exe = os.path.join(os.path.dirname(sys.executable), "dnalens")
    t0 = time.time()
    proc = subprocess.Popen([exe, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"dnalens {' '.join(args[:1])} failed in the long-record benchmark: {err[-500:]}")
    return usage.ru_maxrss, time.time() - t0


def run(quick: bool = False) -> list[Row]:
    small, big = 100_000, (1_000_000 if quick else 10_000_000)
    commands = [("attention", "parquet", [])]
    if not quick:
        commands.append(("tracks", "csv", ["--orientation", "both"]))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for length in (small, big):
            _fasta(os.path.join(tmp, f"{length}.fa"), length, seed=length % 97)
        for cmd, fmt, extra in commands:
            measured = {}
            for length in (small, big):
                out = os.path.join(tmp, f"{cmd}_{length}.{fmt}")
                fa = os.path.join(tmp, f"{length}.fa")
                measured[length] = _peak_kib([cmd, fa, "--out", out, "--device", "cpu", *extra])
                os.remove(out)
            (a, ta), (b, tb) = measured[small], measured[big]
            rows.append(
                Row(
                    f"peak RSS, dnalens {cmd}{' ' + ' '.join(extra) if extra else ''}, one {big:,}-bp vs one "
                    f"{small:,}-bp record",
                    f"{small:,} bp: {a / 1024:.0f} MiB ({ta:.0f} s)",
                    f"{big:,} bp: {b / 1024:.0f} MiB ({tb:.0f} s)",
                    b / a,
                    "<= 1.2",
                    b / a <= 1.2,
                    f"{big / tb:,.0f} bases/s on the long record",
                )
            )
    return rows


if __name__ == "__main__":
    from common import print_table

    print_table(run(quick="--quick" in sys.argv))
