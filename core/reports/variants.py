"""The genome-scale variant folder: ``dnalens variants VARIANTS.vcf --reference REF.fa --out DIR``.

Layout of ``DIR``::

    variants.parquet/part-000000.parquet ...   one part file per shard, in shard order (a Parquet dataset:
                                                pandas.read_parquet("DIR/variants.parquet") reads them all)
    skipped.tsv                                 every allele not scored and why (written when every shard is done)
    variants.vcf.gz (+ .tbi), variants.bed      the scores for genome browsers (INFO fields / BED9), ``--export``
    LEGEND.txt, run.json                        what the columns mean; settings, inputs, counts
    .shards/                                    the plan: each shard's input alleles, and its skips once scored

The run is cut into shards (:func:`core.variants.genome.iter_shards`: contig and record ranges). Planning streams
the VCF once and writes each shard's input; then every shard is scored and its part file written atomically
(:func:`core.io.atomic.atomic_file`), which is the shard's "done" mark. ``resume=True`` keeps the finished parts
and scores the rest; the settings and inputs must be the ones the folder was started with (``run.json``), so the
result equals an uninterrupted run. Memory holds one shard at a time. Engines: ``local`` (this process) and
``ray`` (:mod:`core.reports.ray_engine`, the same shards on Ray Data).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from ..errors import InputError
from ..io.atomic import atomic_file
from ..variants.genome import SKIP_COLUMNS, ShardInput, iter_shards
from .shards import PARTS, STATE, GenomeJob, load_job_model, run_local, write_parquet

OWNED = (PARTS, STATE, "skipped.tsv", "variants.vcf.gz", "variants.vcf.gz.tbi", "variants.bed", "LEGEND.txt")
INPUT_COLUMNS = {"chrom": "string", "pos": "int64", "id": "string", "ref": "string", "alt": "string"}
INPUT_COLUMNS.update({"record": "int64", "reason": "string"})

LEGEND = (
    "One row per ALT allele (multi-allelic records are split). chrom, pos (1-based), id, ref, alt: as in the VCF; "
    "record: 0-based index of the VCF data record. The allele is scored in a reference window of --window bases "
    "centred on its first changed base (after dropping the VCF anchor base of an indel), shifted to stay inside "
    "the contig: window_start (0-based) .. window_end; the mutant window is that window with the allele applied. "
    "p_ref / p_alt: probability of the scored class (column 'class') for the reference / mutant window; delta = "
    "p_alt - p_ref; diff = (p_alt - p_ref) * max(p_ref, p_alt) (DNABERT-viz; > 0: the allele RAISES the "
    "prediction); logOR = log2 odds(p_ref) - log2 odds(p_alt) (DNABERT-viz; > 0: the allele LOWERS it). "
    "<lens>_at_variant: that lens's track of the reference window averaged over the changed reference bases (a "
    "pure insertion: its anchor base). skipped.tsv lists every allele not scored, with the reason.\n"
)

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------------------------------------------
# plan


def _shard_input(shard: ShardInput) -> pd.DataFrame:
    rows = [(a.chrom, a.pos, a.id, a.ref, a.alt, a.record, None) for a in shard.alleles]
    rows += [(s.chrom, s.pos, s.id, s.ref, s.alt, s.record, s.reason) for s in shard.skipped]
    df = pd.DataFrame(rows, columns=list(INPUT_COLUMNS)).astype(INPUT_COLUMNS)
    return df.sort_values("record", kind="stable").reset_index(drop=True)


def plan(job: GenomeJob, announce=None) -> list[dict]:
    """Stream the VCF once and write each shard's input; returns the shard list (also ``.shards/plan.json``)."""
    from ..io.vcf import iter_vcf

    shards = []
    items = iter_vcf(job.vcf, reference=job.reference, source=os.path.basename(job.vcf))
    for shard in iter_shards(items, job.settings.shard_size):
        write_parquet(_shard_input(shard), job.input_path(shard.index))
        shards.append(
            {
                "index": shard.index,
                "chrom": shard.chrom,
                "first_record": shard.first_record,
                "last_record": shard.last_record,
                "records": shard.n_records,
                "alleles": len(shard.alleles),
            }
        )
    if not shards:
        raise InputError("the VCF has no variant records", source=job.vcf)
    with atomic_file(job.root / STATE / "plan.json") as tmp:
        tmp.write_text(json.dumps(shards))
    if announce:
        announce(f"dnalens: {sum(s['records'] for s in shards)} VCF records in {len(shards)} shards")
    return shards


# --------------------------------------------------------------------------------------------------------------
# the folder


def _clear(root: Path, announce) -> None:
    if announce:
        announce(f"dnalens: {root} holds an earlier variants run; starting again (use --resume to continue it)")
    for name in (*OWNED, "run.json"):
        p = root / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def _start(job: GenomeJob, resume: bool, announce) -> dict | None:
    """Check or prepare the output folder; returns the earlier run.json when resuming."""
    root = job.root
    if root.exists() and not root.is_dir():
        raise InputError("the output path is a file, not a folder; choose a folder name", source=str(root))
    old = json.loads((root / "run.json").read_text()) if (root / "run.json").is_file() else None
    if root.is_dir() and any(root.iterdir()) and old is None:
        raise InputError(
            "the output folder exists and is not a dnalens variants folder; choose a new or empty folder",
            source=str(root),
        )
    if old is not None and not resume:
        _clear(root, announce)
        old = None
    if resume and old is not None and old.get("fingerprint") != job.fingerprint():
        changed = [k for k, v in job.fingerprint().items() if old.get("fingerprint", {}).get(k) != v]
        raise InputError(
            f"--resume: this folder was started with different {', '.join(changed)}; resume with the same "
            "inputs and settings, or drop --resume to start again",
            source=str(root),
        )
    (root / STATE).mkdir(parents=True, exist_ok=True)
    (root / PARTS).mkdir(exist_ok=True)
    for leftover in list((root / PARTS).glob(".*")) + list((root / STATE).glob(".*")):
        leftover.unlink()  # partial files of a killed run
    return old


def _write_run(job: GenomeJob, **extra) -> None:
    info = {"fingerprint": job.fingerprint(), "model": job.model, "mlm": job.mlm, **extra}
    with atomic_file(job.root / "run.json") as tmp:
        tmp.write_text(json.dumps(info, indent=2, default=str))


def prepare(job: GenomeJob, *, resume: bool = False, announce=None) -> tuple[list[dict], list[int]]:
    """``(shards, pending shard indices)``: the folder checked (or cleared), the plan made (or reused)."""
    old = _start(job, resume, announce)
    plan_file = job.root / STATE / "plan.json"
    if old is not None and plan_file.is_file():
        shards = json.loads(plan_file.read_text())
    else:
        _write_run(job, complete=False)
        shards = plan(job, announce)
    pending = [s["index"] for s in shards if not job.part_path(s["index"]).is_file()]
    if resume and announce:
        announce(f"dnalens: resuming: {len(shards) - len(pending)} of {len(shards)} shards already done")
    return shards, pending


def _concat_skips(job: GenomeJob, shards: list[dict]) -> dict[str, int]:
    from ..io.vcf import VcfSkip, skip_counts

    counts: dict[str, int] = {}
    with atomic_file(job.root / "skipped.tsv") as tmp, open(tmp, "w") as out:
        out.write("\t".join(SKIP_COLUMNS) + "\n")
        for s in shards:
            df = pd.read_csv(job.skips_path(s["index"]), sep="\t", dtype=str, keep_default_na=False)
            df.to_csv(out, sep="\t", index=False, header=False)
            for k, n in skip_counts([VcfSkip("", 0, None, "", "", 0, r) for r in df["reason"]]).items():
                counts[k] = counts.get(k, 0) + n
    return counts


def finish(job: GenomeJob, shards: list[dict], exports=("vcf", "bed"), announce=None) -> dict:
    """Everything after the last shard: ``skipped.tsv``, the browser exports, ``LEGEND.txt``, ``run.json``."""
    import pyarrow.parquet as pq

    skipped = _concat_skips(job, shards)
    scored = sum(pq.read_metadata(job.part_path(s["index"])).num_rows for s in shards)
    if "vcf" in exports:
        from .variant_exports import write_variants_vcf

        write_variants_vcf(job.root / PARTS, job.root / "variants.vcf.gz", job.reference, announce=announce)
    if "bed" in exports:
        from .variant_exports import write_variants_bed

        write_variants_bed(job.root / PARTS, job.root / "variants.bed")
    (job.root / "LEGEND.txt").write_text(LEGEND)
    summary = {
        "records": sum(s["records"] for s in shards),
        "scored": scored,
        "skipped": sum(skipped.values()),
        "skipped_by_reason": skipped,
        "shards": len(shards),
    }
    _write_run(job, complete=True, summary=summary)
    return summary


def genome_variants_report(
    job: GenomeJob,
    *,
    model=None,
    engine: str = "local",
    resume: bool = False,
    exports=("vcf", "bed"),
    ray_address: str | None = None,
    progress: Progress | None = None,
    announce=None,
) -> dict:
    """Score every ALT allele of ``job.vcf`` into ``job.out`` (see the module docstring); returns the summary
    (records, scored, skipped, skipped_by_reason, shards, seconds, variants_per_s)."""
    t0 = time.time()
    models = model if model is not None else load_job_model(job)
    shards, pending = prepare(job, resume=resume, announce=announce)
    total = sum(s["records"] for s in shards)
    done = total - sum(s["records"] for s in shards if s["index"] in set(pending))
    state = {"done": done}

    def tick(n: int) -> None:
        state["done"] += n
        if progress:
            progress(state["done"], total)

    tick(0)
    if engine == "ray":
        from .ray_engine import run_ray

        run_ray(job, pending, address=ray_address, progress=tick, announce=announce)
    elif engine == "local":
        run_local(job, pending, models, progress=tick)
    else:
        raise InputError(f"unknown engine '{engine}' (use local or ray)")
    summary = finish(job, shards, exports, announce)
    seconds = time.time() - t0
    summary.update(seconds=round(seconds, 2), variants_per_s=round((total - done) / max(seconds, 1e-9), 1))
    return summary


def read_variants(out: str | os.PathLike) -> pd.DataFrame:
    """The scored table of a genome variants folder, in VCF order."""
    return pd.read_parquet(Path(out) / PARTS)
