"""Whole processes, as a user runs them: ``dnalens`` start-up, and motif discovery against DNABERT-viz's
``find_motifs.py`` run as a script.

* start-up: wall time of ``dnalens --help`` and of ``dnalens motifs --scores ... --no-jaspar`` until it reads its
  input (given a missing file, it stops there with status 2). Target: under 1 s each. A whole run on 20 sequences
  is reported beside.
* motifs: 5000 positive + 5000 negative 100-bp sequences with planted JASPAR motifs and attention-like scores
  (bench_motifs.make_input), written once in both tools' formats. Baseline: ``bench/dnabert_viz_find_motifs.py``, a
  transcription of DNABERT-viz's ``find_motifs.py`` + ``motif_analysis`` (its imports, pyahocorasick counting,
  Biopython alignment, a ``motif_*.txt`` and a logo per motif), reading ``dev.tsv`` + ``atten.npy``. Ours:
  ``dnalens motifs POS.fa --negatives NEG.fa --scores atten.npy --parity dnabert-viz --no-jaspar --out DIR`` (motif
  tables, MEME file, two PNG logos per motif); with JASPAR on reported beside. Target: ours 10x faster (ratio <= 0.1).
  The windows of every motif are checked to be the transcription's, motif by motif.

python bench/bench_cli.py [--quick]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import ROOT, Row

PY = sys.executable
DNALENS = str(Path(PY).parent / "dnalens")
SCRIPT = str(ROOT / "bench" / "dnabert_viz_find_motifs.py")


def seq2kmer(seq: str, k: int = 6) -> str:
    return " ".join(seq[i : i + k] for i in range(len(seq) - k + 1))


def write_inputs(folder: Path, n: int, seed: int = 0) -> Path:
    """``pos.fa``, ``neg.fa``, ``pos_atten.npy`` (one row per positive) for dnalens, and DNABERT's layout for the
    script: ``dnabert/dev.tsv`` (header; 6-mer text, label; positives and negatives interleaved) and
    ``dnabert/atten.npy`` (one row per tsv row; the negatives' rows are noise, unused) + ``pred_results.npy``."""
    from bench_motifs import make_input

    pos, scores, neg = make_input(n, n, seed=seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pos.fa").write_text("".join(f">pos_{i}\n{s}\n" for i, s in enumerate(pos)))
    (folder / "neg.fa").write_text("".join(f">neg_{i}\n{s}\n" for i, s in enumerate(neg)))
    np.save(folder / "pos_atten.npy", np.array(scores))
    dn = folder / "dnabert"
    dn.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    rows, atten = ["sequence\tlabel"], []
    for p, sc, q in zip(pos, scores, neg):
        rows += [f"{seq2kmer(p)}\t1", f"{seq2kmer(q)}\t0"]
        noise = rng.random(len(q))
        atten += [sc, noise / np.linalg.norm(noise)]
    (dn / "dev.tsv").write_text("\n".join(rows) + "\n")
    np.save(dn / "atten.npy", np.array(atten))
    np.save(dn / "pred_results.npy", rng.random(len(atten)).astype(np.float32))
    return folder


def wall(cmd: list[str], repeat: int = 1, expect: int = 0, **kw) -> tuple[float, float]:
    """Best wall time of ``repeat`` runs of a whole process and the CPU time (user + system, its children included)
    of that run; fails loudly when the process does not exit with ``expect``."""
    import resource

    best = (float("inf"), 0.0)
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, **kw)
        t = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if res.returncode != expect:
            raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr[-3000:]}")
        best = min(best, (t, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime))
    return best


def script_windows(folder: Path) -> dict[str, list[str]]:
    """``{motif: windows}`` from the script's ``motif_{M}_{n}.txt`` files."""
    out = {}
    for f in folder.glob("motif_*.txt"):
        name = f.name[len("motif_") :].rsplit("_", 1)[0]
        out[name] = f.read_text().split()
    return out


def dnalens_windows(folder: Path) -> dict[str, list[str]]:
    import pandas as pd

    inst = pd.read_csv(folder / "instances.csv")
    return {m: g["window"].tolist() for m, g in inst.groupby("motif", sort=False)}


def startup_rows(data: Path, repeat: int) -> list[Row]:
    small = data / "small"
    small.mkdir(exist_ok=True)
    lines = (data / "pos.fa").read_text().splitlines()[:40]
    (small / "pos.fa").write_text("\n".join(lines) + "\n")
    np.save(small / "pos_atten.npy", np.load(data / "pos_atten.npy")[:20])
    t_help, _ = wall([DNALENS, "--help"], repeat)
    # until the first work: everything a motifs run does before it reads its input (which here is missing: exit 2)
    missing = [DNALENS, "motifs", str(small / "missing.fa"), "--scores", str(small / "pos_atten.npy"), "--no-jaspar"]
    t_first, _ = wall(missing + ["--out", str(small / "out")], repeat, expect=2)
    cmd = [DNALENS, "motifs", str(small / "pos.fa"), "--scores", str(small / "pos_atten.npy"), "--no-jaspar"]
    t_mot, _ = wall(cmd + ["--out", str(small / "out")], repeat)
    probe = "import sys, core.cli.main; print(','.join(m for m in ('torch', 'transformers') if m in sys.modules))"
    heavy = subprocess.run([PY, "-c", probe], capture_output=True, text=True, cwd=ROOT).stdout.strip()
    return [
        Row("CLI start-up: dnalens --help", "-", f"{t_help:.2f} s", float("nan"), "< 1 s", t_help < 1.0),
        Row(
            "CLI start-up: dnalens motifs --scores --no-jaspar, until it reads its input",
            "-",
            f"{t_first:.2f} s",
            float("nan"),
            "< 1 s",
            t_first < 1.0,
            "the input is missing, so the process stops at its first work (reading it), exit status 2",
        ),
        Row(
            "dnalens motifs --scores --no-jaspar, 20 sequences, whole run",
            "-",
            f"{t_mot:.2f} s",
            float("nan"),
            "reported",
            True,
            f"every import of a motifs run, discovery and the folder; torch/transformers imported: {heavy or 'none'}",
        ),
    ]


def motif_rows(data: Path, repeat: int) -> list[Row]:
    out_s, out_d, out_j = data / "viz_out", data / "dnalens_out", data / "dnalens_jaspar"
    script = [PY, SCRIPT, "--data_dir", str(data / "dnabert"), "--predict_dir", str(data / "dnabert")]
    t_viz, c_viz = wall(script + ["--save_file_dir", str(out_s)])
    base = [DNALENS, "motifs", str(data / "pos.fa"), "--negatives", str(data / "neg.fa")]
    base += ["--scores", str(data / "pos_atten.npy"), "--parity", "dnabert-viz"]
    t_ours, c_ours = wall(base + ["--no-jaspar", "--out", str(out_d)], repeat)
    t_jas, c_jas = wall(base + ["--out", str(out_j)], repeat)
    ref, ours = script_windows(out_s), dnalens_windows(out_d)
    same = ref == ours
    note = (
        f"transcription {t_viz:.2f} s wall / {c_viz:.2f} s CPU ({len(ref)} motifs, {len(list(out_s.glob('*.png')))} "
        f"logos); dnalens {t_ours:.2f} s wall / {c_ours:.2f} s CPU ({len(ours)} motifs, "
        f"{len(list(out_d.glob('logos/*.png')))} PNG logos); with JASPAR {t_jas:.2f} s wall / {c_jas:.2f} s CPU; "
        f"CPU ratio {c_ours / c_viz:.3g}; same motifs and windows as the transcription: {same}"
    )
    name = "motifs whole process, parity, no JASPAR" + (" (1000+1000)" if data.name == "quick" else " (5000+5000)")
    return [
        Row(
            name,
            f"DNABERT-viz find_motifs.py transcription {t_viz:.2f} s",
            f"{t_ours:.2f} s",
            t_ours / t_viz,
            "<= 0.1 (10x faster)",
            t_ours / t_viz <= 0.1 and same,
            note,
        ),
        Row(
            "motifs whole process, parity, with JASPAR (TOMTOM vs JASPAR2026 vertebrates)",
            f"transcription {t_viz:.2f} s",
            f"{t_jas:.2f} s",
            t_jas / t_viz,
            "reported",
            same,
        ),
    ]


def run(quick: bool = False) -> list[Row]:
    n = 1000 if quick else 5000
    repeat = 1 if quick else 3
    with tempfile.TemporaryDirectory(prefix="dnalens-bench-cli-") as tmp:
        data = write_inputs(Path(tmp) / ("quick" if quick else "full"), n)
        return startup_rows(data, repeat) + motif_rows(data, repeat)


if __name__ == "__main__":
    from common import print_table

    print_table(run(quick="--quick" in sys.argv))
