"""Variants straight from a VCF and a reference genome: windows, shards, and the scores of one shard.

Engine-independent logic only (the output folder, resume and the engines live in :mod:`core.reports.variants`):

* **Window and centring rule.** Each ALT allele is first trimmed of the VCF anchor base (the shared leading base
  of an indel, as :mod:`core.variants.variants` does), which gives ``p``, the 0-based genomic position of the first
  changed reference base (for a pure insertion: the base the inserted bases go before). The reference window is
  the ``window`` bases ``[p - window // 2, p - window // 2 + window)``, shifted to stay inside the contig (a contig
  shorter than the window gives the whole contig). The mutant window is that window with the allele applied
  (:meth:`Variant.apply`), so an indel changes its length. A deletion whose deleted bases do not fit in the window
  is skipped (``--window`` larger scores it). Alleles of one record that land on the same window share one
  reference forward pass.
* **Shards.** The stream of alleles is cut into shards of at most ``shard_size`` VCF records, a new shard starting
  at every contig change, so shard ``k`` is (contig, record range) and the same file always gives the same shards.
* **Scores of a shard** (:func:`score_alleles`): one row per allele, columns :data:`BASE_COLUMNS` (``pos`` is
  1-based and ``ref``/``alt`` are the VCF's own alleles; ``window_start`` 0-based), the lens summaries asked for
  (``<lens>_at_variant``: the reference window's track averaged over the changed reference bases; for a pure
  insertion, the anchor base), and with a masked LM the zero-shot columns of :mod:`core.variants.zero_shot`
  (``llr = log P(alt) - log P(ref)`` at the variant in the reference window; NaN for indels, ``llr_note`` says why).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.sequences import Sequence
from ..io.vcf import VcfAllele, VcfSkip
from .variants import Variant, _trim_anchor, score_variants

BASE_COLUMNS = {
    "chrom": "string",
    "pos": "int64",
    "id": "string",
    "ref": "string",
    "alt": "string",
    "record": "int64",
    "kind": "string",
    "window_start": "int64",
    "window_end": "int64",
    "p_ref": "float64",
    "p_alt": "float64",
    "delta": "float64",
    "diff": "float64",
    "logOR": "float64",
    "class": "string",
}
CLASSIFIER_COLUMNS = ("p_ref", "p_alt", "delta", "diff", "logOR", "class")
ZERO_SHOT_COLUMNS = {"mlm_p_ref": "float64", "mlm_p_alt": "float64", "llr": "float64", "llr_note": "string"}
SKIP_COLUMNS = ["chrom", "pos", "id", "ref", "alt", "record", "reason"]


@dataclass(frozen=True)
class GenomeSettings:
    """What decides a genome run's numbers (a resumed run must use the same)."""

    window: int = 100
    shard_size: int = 2000  # VCF records per shard
    orientation: str = "forward"
    target: str | None = None
    lenses: tuple[str, ...] = ()  # lens names summarised at the variant
    classifier: bool = True  # p_ref, p_alt, delta, diff, logOR, class (a classification model)
    zero_shot: bool = False  # llr and its columns (a masked LM; core.variants.zero_shot)
    batch_size: int = 64

    def __post_init__(self):
        if self.window < 2:
            raise InputError(f"--window must be at least 2 bases, not {self.window}")
        if self.shard_size < 1:
            raise InputError(f"--shard-size must be at least 1 record, not {self.shard_size}")

    def columns(self) -> dict[str, str]:
        """Every output column and its type, in order."""
        cols = {c: t for c, t in BASE_COLUMNS.items() if self.classifier or c not in CLASSIFIER_COLUMNS}
        cols.update({lens_column(n): "float64" for n in self.lenses})
        if self.zero_shot:
            cols.update(ZERO_SHOT_COLUMNS)
        return cols


def lens_column(name: str) -> str:
    return name.replace("-", "_") + "_at_variant"


@dataclass
class ShardInput:
    """The alleles (and the skipped ones) of one shard: VCF records ``first_record..last_record`` of ``chrom``."""

    index: int
    chrom: str
    first_record: int
    last_record: int
    alleles: list[VcfAllele] = field(default_factory=list)
    skipped: list[VcfSkip] = field(default_factory=list)

    @property
    def n_records(self) -> int:
        return self.last_record - self.first_record + 1


def iter_shards(items: Iterable[VcfAllele | VcfSkip], shard_size: int) -> Iterator[ShardInput]:
    """Cut a stream of alleles (from :func:`core.io.vcf.iter_vcf`, in file order) into shards of at most
    ``shard_size`` records, a new shard at every contig change. Holds one shard at a time."""
    cur: ShardInput | None = None
    k = 0
    for it in items:
        if cur is not None and it.record != cur.last_record:
            if it.chrom != cur.chrom or it.record - cur.first_record >= shard_size:
                yield cur
                cur, k = None, k + 1
        if cur is None:
            cur = ShardInput(k, it.chrom, it.record, it.record)
        cur.last_record = it.record
        (cur.skipped if isinstance(it, VcfSkip) else cur.alleles).append(it)
    if cur is not None:
        yield cur


# --------------------------------------------------------------------------------------------------------------
# windows


def window_of(p: int, n_ref: int, contig_length: int, window: int) -> tuple[int, int] | None:
    """``(start, end)`` of the reference window for a change of ``n_ref`` reference bases at 0-based ``p`` (see the
    module docstring), or None when those bases do not fit in it."""
    start = max(0, min(p - window // 2, contig_length - window))
    end = min(contig_length, start + window)
    if p < start or p + n_ref > end:
        return None
    return start, end


@dataclass(frozen=True)
class Placed:
    """An allele placed in its window: ``variant`` is relative to the window sequence ``window_id``."""

    allele: VcfAllele
    window_id: str
    start: int
    end: int
    variant: Variant


def place_alleles(fasta, alleles: Iterable[VcfAllele], window: int) -> tuple[list[Placed], dict[str, Sequence], list]:
    """``(placed alleles, {window id: reference window}, skipped)`` for alleles whose REF already matched the
    reference (``iter_vcf(..., reference=...)`` checked it). ``fasta``: a ``pyfaidx.Fasta`` (raw strings)."""
    placed, windows, skipped = [], {}, []
    lengths: dict[str, int] = {}
    for a in alleles:
        r, alt, p = _trim_anchor(a.ref, a.alt, a.pos - 1)
        if a.chrom not in lengths:
            lengths[a.chrom] = len(fasta[a.chrom])
        span = window_of(p, len(r), lengths[a.chrom], window)
        if span is None:
            reason = f"the deletion ({len(r)} bases) does not fit the {window}-base window; give a larger --window"
            skipped.append(VcfSkip(a.chrom, a.pos, a.id, a.ref, a.alt, a.record, reason))
            continue
        start, end = span
        wid = f"{a.chrom}:{start + 1}-{end}"
        if wid not in windows:
            seq = str(fasta[a.chrom][start:end]).upper()
            windows[wid] = Sequence(wid, seq, chrom=a.chrom, start=start, end=end, strand="+")
        v = Variant(wid, p - start, r, alt, a.record, a.id or "", f"{a.chrom}:{a.pos}")
        placed.append(Placed(a, wid, start, end, v))
    return placed, windows, skipped


def variant_span(v: Variant) -> tuple[int, int]:
    """Window positions ``[lo, hi)`` the lens summary averages: the changed reference bases, or the anchor base
    of a pure insertion."""
    if v.ref:
        return v.offset, v.offset + len(v.ref)
    lo = max(0, v.offset - 1)
    return lo, lo + 1


# --------------------------------------------------------------------------------------------------------------
# scoring


def _lens_values(model, windows: dict[str, Sequence], placed: list[Placed], lens, batch_size: int) -> np.ndarray:
    from ..lenses import iter_tracks

    by_id = {t.id: t.scores for t in iter_tracks(model, list(windows.values()), lens, batch_size=batch_size)}
    out = np.empty(len(placed), dtype=np.float64)
    for i, pl in enumerate(placed):
        lo, hi = variant_span(pl.variant)
        out[i] = float(np.mean(by_id[pl.window_id][lo:hi]))
    return out


def make_lenses(settings: GenomeSettings) -> list:
    """The lenses ``settings.lenses`` names, reading in ``settings.orientation`` (ISM scores ``settings.target``)."""
    from ..lenses import make_lens

    out = []
    for name in settings.lenses:
        opts = {"orientation": settings.orientation}
        if name == "ism" and settings.target is not None:
            opts["target"] = settings.target
        out.append(make_lens(name, **opts))
    return out


def score_alleles(
    model, fasta, alleles: list[VcfAllele], settings: GenomeSettings, *, mlm=None
) -> tuple[pd.DataFrame, list[VcfSkip]]:
    """Score one shard's alleles: ``(table with settings.columns(), alleles skipped here)``, rows in input order.

    ``model``: a loaded classifier (None when ``settings.classifier`` is off); ``mlm``: the masked LM for the
    zero-shot columns (``settings.zero_shot``); ``fasta``: the reference (``pyfaidx.Fasta``).
    """
    placed, windows, skipped = place_alleles(fasta, alleles, settings.window)
    cols = settings.columns()
    if not placed:
        return empty_frame(cols), skipped
    variants = [pl.variant for pl in placed]
    df = pd.DataFrame(
        {
            "chrom": [pl.allele.chrom for pl in placed],
            "pos": [pl.allele.pos for pl in placed],
            "id": [pl.allele.id for pl in placed],
            "ref": [pl.allele.ref for pl in placed],
            "alt": [pl.allele.alt for pl in placed],
            "record": [pl.allele.record for pl in placed],
            "kind": [v.kind for v in variants],
            "window_start": [pl.start for pl in placed],
            "window_end": [pl.end for pl in placed],
        }
    )
    common = {"batch_size": settings.batch_size, "orientation": settings.orientation}
    if settings.classifier:
        scored = score_variants(model, list(windows.values()), variants, target=settings.target, **common)
        for c in CLASSIFIER_COLUMNS:
            df[c] = scored[c].to_numpy()
    for name, lens in zip(settings.lenses, make_lenses(settings)):
        df[lens_column(name)] = _lens_values(model or mlm, windows, placed, lens, settings.batch_size)
    if settings.zero_shot:
        from .zero_shot import zero_shot_scores

        zs = zero_shot_scores(mlm, list(windows.values()), variants, **common)
        for c in ZERO_SHOT_COLUMNS:
            df[c] = zs[c].to_numpy()
    return df.astype(cols), skipped


def empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=t) for c, t in columns.items()})


def skips_frame(skipped: Iterable[VcfSkip]) -> pd.DataFrame:
    rows = [(s.chrom, s.pos, s.id, s.ref, s.alt, s.record, s.reason) for s in skipped]
    return pd.DataFrame(rows, columns=SKIP_COLUMNS)
