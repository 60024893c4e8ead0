"""Genome-scale variant scoring: `dnalens variants VCF --reference REF` with the demo model, each size in a fresh
process (peak RSS from that child's rusage).

Sizes: 2,000, 20,000 and 200,000 VCF records (--quick: 500 and 5,000, and no 200,000) on a generated 12 Mb
reference; records are SNVs with 10 % indels and 3 % multi-allelic. Window 100, shard size 2,000, exports off.

Rows:
* cost per record: the marginal wall time per VCF record between the two largest sizes (so process start and model
  load cancel out; VCF parse, windows from the FASTA, model, Parquet parts included) against a baseline measured in
  this process: the forward passes of 2.1 random 100-bp windows per record (reference + mutant, a few multi-allelic),
  on token ids prepared beforehand (same model, batch 64). Target: ratio <= 1.5.
* memory: peak RSS of the largest run against the 10x smaller one. Target: <= 1.3.
* resume: a run killed (SIGKILL) when half its shards are written, then `--resume`: total wall against the
  uninterrupted run. Target: <= 1.2.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import ROOT, Row


def make_inputs(folder: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    """A 12 Mb reference (3 chromosomes) and a bgzipped VCF of ``n`` records on it."""
    import pysam

    rng = np.random.default_rng(seed)
    ref = folder / "ref.fa"
    sizes = {"chr1": 6_000_000, "chr2": 4_000_000, "chr3": 2_000_000}
    bases = np.frombuffer(b"ACGT", dtype=np.uint8)
    if not ref.exists():
        with open(ref, "w") as fh:
            for c, L in sizes.items():
                s = bases[rng.integers(0, 4, L)].tobytes().decode()
                fh.write(f">{c}\n" + "\n".join(s[i : i + 60] for i in range(0, L, 60)) + "\n")
    import pyfaidx

    fa = pyfaidx.Fasta(str(ref), as_raw=True)
    lines = []
    per = np.bincount(rng.integers(0, 3, n), minlength=3)
    for (c, L), k in zip(sizes.items(), per):
        for p in np.sort(rng.choice(np.arange(200, L - 200), k, replace=False)):
            r = fa[c][int(p) - 1 : int(p) + 4]
            u = rng.random()
            if u < 0.05:
                ref_a, alt = r[0], r[0] + "AC"
            elif u < 0.10:
                ref_a, alt = r[:4], r[0]
            else:
                alts = [b for b in "ACGT" if b != r[0]]
                ref_a, alt = r[0], ",".join(alts[:2]) if u > 0.97 else alts[int(u * 100) % 3]
            lines.append(f"{c}\t{p}\t.\t{ref_a}\t{alt}\t.\tPASS\t.")
    vcf = folder / f"v{n}.vcf"
    head = "##fileformat=VCFv4.2\n" + "".join(f"##contig=<ID={c},length={L}>\n" for c, L in sizes.items())
    vcf.write_text(head + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n" + "\n".join(lines) + "\n")
    return ref, Path(pysam.tabix_index(str(vcf), preset="vcf", force=True))


def _cmd(vcf, ref, out, *extra):
    return [sys.executable, "-m", "core.cli", "variants", str(vcf), "--reference", str(ref), "--out", str(out),
            "--device", "cpu", "--export", "none", *extra]  # fmt: skip


def run_child(cmd, kill_at_parts: int | None = None, parts: Path | None = None) -> tuple[float, float, int]:
    """``(wall s, peak RSS MiB, exit status)`` of ``cmd`` in a fresh process (killed once ``kill_at_parts`` part
    files exist)."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    if kill_at_parts:
        while proc.poll() is None and len(list(parts.glob("part-*.parquet"))) < kill_at_parts:
            time.sleep(0.05)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = status
    return time.perf_counter() - t0, usage.ru_maxrss / 1024, status


def baseline_seconds(n_windows: int, batch: int = 64) -> float:
    """Forward passes over ``n_windows`` random 100-bp windows, token ids prepared beforehand."""
    import torch

    from core.model.loading import load_model

    lm = load_model("demo", device="cpu")
    rng = np.random.default_rng(1)
    seqs = ["".join(rng.choice(list("ACGT"), 100)) for _ in range(min(n_windows, 4096))]
    ids = torch.from_numpy(np.stack([lm.tokenizer.encode(s).ids for s in seqs]))
    t0 = time.perf_counter()
    done = 0
    with torch.inference_mode():
        while done < n_windows:
            for i in range(0, len(ids), batch):
                x = ids[i : i + batch]
                lm.model(input_ids=x, attention_mask=torch.ones_like(x))
                done += len(x)
                if done >= n_windows:
                    break
    return time.perf_counter() - t0


def run(quick: bool = False) -> list[Row]:
    sizes = [500, 5_000] if quick else [2_000, 20_000, 200_000]
    rows, res = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-variants-") as d:
        d = Path(d)
        for n in sizes:
            ref, vcf = make_inputs(d, n)
            wall, rss, st = run_child(_cmd(vcf, ref, d / f"out{n}"))
            assert st == 0, f"dnalens variants failed on {n} records"
            res[n] = (wall, rss)
        small, big = sizes[-2], sizes[-1]
        mid = sizes[1]
        ref, vcf = make_inputs(d, mid)
        n_shards = -(-mid // 2000) if not quick else -(-mid // 500)
        extra = () if not quick else ("--shard-size", "500")
        if quick:
            res[mid] = run_child(_cmd(vcf, ref, d / "q", *extra))[:2]
        t_kill, _, _ = run_child(_cmd(vcf, ref, d / "cut", *extra), n_shards // 2, d / "cut" / "variants.parquet")
        t_res, _, st = run_child(_cmd(vcf, ref, d / "cut", *extra, "--resume"))
        assert st == 0
        t_noop, _, _ = run_child(_cmd(vcf, ref, d / "cut", *extra, "--resume"))
    t_base = baseline_seconds(int(2.1 * mid))
    wall_mid = res[mid][0]
    per_rec = (res[big][0] - res[small][0]) / (big - small)  # the marginal cost: startup and model load cancel
    per_base = t_base / mid
    rows.append(
        Row(
            f"genome variants, demo model, window 100: seconds per VCF record ({small:,} -> {big:,} records)",
            f"{per_base * 1e3:.2f} ms (2.1 window forward passes per record)",
            f"{per_rec * 1e3:.2f} ms ({1 / per_rec:.0f} records/s)",
            per_rec / per_base,
            "<= 1.5",
            per_rec / per_base <= 1.5,
            "each size end to end in a fresh process: "
            + ", ".join(f"{n:,}: {w:.1f} s, {r:.0f} MiB" for n, (w, r) in sorted(res.items())),
        )
    )
    ratio = res[big][1] / res[small][1]
    rows.append(
        Row(
            f"peak RSS, genome variants {big:,} vs {small:,} records",
            f"{small:,}: {res[small][1]:.0f} MiB",
            f"{big:,}: {res[big][1]:.0f} MiB",
            ratio,
            "<= 1.3",
            ratio <= 1.3,
        )
    )
    total = t_kill + t_res
    rows.append(
        Row(
            f"resume: {mid:,} records killed at half the shards, then --resume",
            f"uninterrupted {wall_mid:.1f} s",
            f"{t_kill:.1f} + {t_res:.1f} s",
            total / wall_mid,
            "<= 1.2",
            total / wall_mid <= 1.2,
            f"--resume of a finished folder (nothing left to score): {t_noop:.1f} s",
        )
    )
    return rows


if __name__ == "__main__":
    from common import print_table

    print_table(run(quick="--quick" in sys.argv))
