"""One shard of a genome variants run, and what a worker needs to score it: :class:`GenomeJob` (plain data, so it
travels to Ray workers), reading a shard's planned input, scoring it and writing its part file atomically (the
part file marks the shard done). Shared by the local engine and the Ray engine."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

from ..io.atomic import atomic_file
from ..variants.genome import GenomeSettings, ShardInput, score_alleles, skips_frame

PARTS = "variants.parquet"
STATE = ".shards"


@dataclass(frozen=True)
class GenomeJob:
    """Everything a worker needs to score a shard (plain data: it travels to Ray workers). Paths are absolute and
    must exist on every worker."""

    out: str
    vcf: str
    reference: str
    settings: GenomeSettings
    model: dict | None = field(default_factory=dict)  # load_model keyword arguments of the classifier (or None)
    mlm: dict | None = None  # load_model keyword arguments of the masked LM for zero-shot llr (or None)

    @property
    def root(self) -> Path:
        return Path(self.out)

    def input_path(self, k: int) -> Path:
        return self.root / STATE / f"input-{k:06d}.parquet"

    def skips_path(self, k: int) -> Path:
        return self.root / STATE / f"skipped-{k:06d}.tsv"

    def part_path(self, k: int) -> Path:
        return self.root / PARTS / f"part-{k:06d}.parquet"

    def fingerprint(self) -> dict:
        """What must not change between a run and its resumption."""

        def stat(p):
            st = os.stat(p)
            return {"path": os.path.abspath(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}

        model = {k: v for k, v in (self.model or {}).items() if k != "device"}
        mlm = {k: v for k, v in (self.mlm or {}).items() if k != "device"}
        fp = {
            "settings": asdict(self.settings),
            "vcf": stat(self.vcf),
            "reference": stat(self.reference),
            "model": model,
            "mlm": mlm,
        }
        return json.loads(json.dumps(fp))  # as run.json holds it (tuples become lists)


def load_job_model(job: GenomeJob) -> tuple:
    """``(classifier or None, masked LM or None)`` the job names."""
    from ..model.loading import load_model

    classifier = load_model(**job.model) if job.model is not None else None
    mlm = load_model(**job.mlm) if job.mlm is not None else None
    return classifier, mlm


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    with atomic_file(path) as tmp:
        df.to_parquet(tmp, index=False)


def read_shard(job: GenomeJob, k: int) -> ShardInput:
    from ..io.vcf import VcfAllele, VcfSkip

    df = pd.read_parquet(job.input_path(k))
    shard = ShardInput(k, "", -1, -1)
    for r in df.itertuples(index=False):
        vid = None if pd.isna(r.id) else r.id
        if pd.isna(r.reason):
            shard.alleles.append(VcfAllele(r.chrom, int(r.pos), vid, r.ref, r.alt, int(r.record)))
        else:
            shard.skipped.append(VcfSkip(r.chrom, int(r.pos), vid, r.ref, r.alt, int(r.record), r.reason))
    return shard


def run_shard(job: GenomeJob, k: int, models: tuple, fasta) -> int:
    """Score shard ``k`` and write its skips, then its part file (atomically; the part marks the shard done).
    ``models``: ``(classifier or None, masked LM or None)``. Returns the number of VCF records it covered."""
    shard = read_shard(job, k)
    df, late = score_alleles(models[0], fasta, shard.alleles, job.settings, mlm=models[1])
    skips = skips_frame(shard.skipped + late).sort_values("record", kind="stable")
    with atomic_file(job.skips_path(k)) as tmp:
        skips.to_csv(tmp, sep="\t", index=False)
    write_parquet(df, job.part_path(k))
    records = pd.concat([df["record"], skips["record"]])
    return int(records.nunique())


def open_fasta(job: GenomeJob):
    from ..io.sequences import open_reference

    return open_reference(job.reference)


def run_local(job: GenomeJob, pending: list[int], models, progress: Callable[[int], None] | None = None) -> None:
    """The local engine: score the pending shards one after another in this process."""
    fasta = open_fasta(job)
    for k in pending:
        n = run_shard(job, k, models, fasta)
        if progress:
            progress(n)
