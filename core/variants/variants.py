"""Variant effects: user variants read, placed on the loaded sequences, and scored.

(Saturation mutagenesis is the ISM lens, :mod:`core.lenses.ism`.)

* User variants from a table (``seq_id``/``chrom``, ``pos`` 1-based, ``ref``, ``alt``) or a VCF: substitutions,
  insertions and deletions; VCF multi-allelic rows are split. Genomic positions are mapped onto BED-derived
  sequences (strand-aware: on a ``-`` interval the alleles are reverse-complemented).
* Scores per variant (DNABERT-viz ``SNP.py`` conventions, spec §3.2): ``delta = p_alt - p_ref``;
  ``diff = (p_alt - p_ref) * max(p_ref, p_alt)`` (> 0: the variant raises the prediction);
  ``logOR = log2(p_ref / (1 - p_ref)) - log2(p_alt / (1 - p_alt))`` (> 0: the variant **lowers** the prediction).
  Probabilities are clipped to ``[1e-6, 1 - 1e-6]`` first, so nothing is infinite.
* Attention before/after on reference coordinates: a deletion leaves NaN at the deleted reference bases; bases an
  insertion adds have no reference coordinate and are reported apart (their scores, and the reference position
  they follow); every other base keeps its reference position.
* Before/after tracks under any lens on reference coordinates (:func:`tracks_before_after`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from collections.abc import Sequence as SeqType
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.sequences import Sequence, reverse_complement
from ..model.scoring import class_probabilities, effect_scores, target_class

_ALLELE = re.compile(r"^[ACGT]*$")
_EMPTY = {"", "-", "."}


# --------------------------------------------------------------------------------------------------------------
# variants


@dataclass(frozen=True)
class Variant:
    """A variant on one sequence, in that sequence's own orientation: replace ``seq[offset:offset+len(ref)]`` by
    ``alt`` (either may be empty)."""

    seq_id: str
    offset: int  # 0-based position in the sequence
    ref: str
    alt: str
    source_line: int | None = None
    label: str = ""  # id from the input (VCF ID, table note)
    genomic: str = ""  # chrom:pos (1-based) when known
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def kind(self) -> str:
        if len(self.ref) == len(self.alt):
            return "substitution" if len(self.ref) == 1 else "multi-base substitution"
        return "insertion" if len(self.alt) > len(self.ref) else "deletion"

    def apply(self, seq: str) -> str:
        return seq[: self.offset] + self.alt + seq[self.offset + len(self.ref) :]


def _norm_allele(a, what: str, source: str, line: int) -> str:
    a = "" if a is None or (isinstance(a, float) and math.isnan(a)) else str(a).strip().upper()
    if a in _EMPTY:
        return ""
    if not _ALLELE.match(a):
        raise InputError(
            f"{what} allele {a!r} is not a DNA string (only A, C, G, T; '-' for none)", source=source, line=line
        )
    return a


def _trim_anchor(ref: str, alt: str, offset: int) -> tuple[str, str, int]:
    """Drop a shared leading base (VCF's anchor) from an indel so that ``offset`` points at the changed bases."""
    while ref and alt and ref[0] == alt[0] and len(ref) != len(alt):
        ref, alt, offset = ref[1:], alt[1:], offset + 1
    return ref, alt, offset


def _locate(
    seqs_by_id: dict[str, Sequence],
    by_chrom: dict[str, list[Sequence]],
    key: str,
    pos1: int,
    ref: str,
    alt: str,
    source: str,
    line: int,
    label: str,
) -> list[Variant]:
    """Variants on the sequences a (key, 1-based pos) refers to: a sequence id, or a chromosome of BED input."""
    if key in seqs_by_id:
        s = seqs_by_id[key]
        off = pos1 - 1
        if not 0 <= off < len(s.seq) or off + len(ref) > len(s.seq):
            raise InputError(
                f"position {pos1} is outside sequence '{key}' (length {len(s.seq)})", source=source, line=line
            )
        return [_checked(s, off, ref, alt, source, line, label, "")]
    if key in by_chrom:
        g0 = pos1 - 1
        hits = [s for s in by_chrom[key] if s.start <= g0 and g0 + max(len(ref), 1) <= s.end]
        if not hits:
            raise InputError(
                f"position {key}:{pos1} is inside none of the loaded intervals on {key}", source=source, line=line
            )
        out = []
        for s in hits:
            if s.strand == "-":
                off = s.end - (g0 + len(ref))
                r, a = reverse_complement(ref), reverse_complement(alt)
            else:
                off, r, a = g0 - s.start, ref, alt
            out.append(_checked(s, off, r, a, source, line, label, f"{key}:{pos1}"))
        return out
    known = ", ".join(list(seqs_by_id)[:3])
    raise InputError(
        f"'{key}' is neither a loaded sequence id (e.g. {known}) nor a chromosome of the loaded BED intervals",
        source=source,
        line=line,
    )


def _checked(s: Sequence, off: int, ref: str, alt: str, source: str, line: int, label: str, genomic: str) -> Variant:
    have = s.seq[off : off + len(ref)]
    if have != ref:
        raise InputError(
            f"REF {ref!r} does not match sequence '{s.id}' at position {off + 1}, which reads {have!r}",
            source=source,
            line=line,
        )
    if ref == alt:
        raise InputError(f"REF and ALT are the same ({ref!r})", source=source, line=line)
    r, a, o = _trim_anchor(ref, alt, off)
    return Variant(s.id, o, r, a, line, label, genomic)


def read_variant_file(path: str | os.PathLike, seqs: SeqType[Sequence]) -> list[Variant]:
    """Variants from a file on disk: a TSV/CSV table or a VCF (see :func:`parse_variants`)."""
    from ..io.files import read_text_file

    path = os.fspath(path)
    return parse_variants(read_text_file(path), seqs, source=os.path.basename(path))


def parse_variants(text: str, seqs: SeqType[Sequence], source: str = "variants") -> list[Variant]:
    """Variants from text (an upload's bytes decoded, or a typed table; never a path): a TSV/CSV table with
    columns ``seq_id`` (or ``id``/``chrom``), ``pos`` (1-based), ``ref``, ``alt`` (``-`` for none), optional
    ``id``/``note``; or a VCF (detected by its ``##fileformat`` or ``#CHROM`` line)."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InputError("the variant file is empty", source=source)
    head = text.lstrip()[:2000]
    if head.startswith("##fileformat=VCF") or head.startswith("#CHROM") or "\n#CHROM" in head:
        return read_vcf_text(text, seqs, source)
    return _read_table_text(text, seqs, source)


def _index(seqs: SeqType[Sequence]):
    by_id = {s.id: s for s in seqs}
    by_chrom: dict[str, list[Sequence]] = {}
    for s in seqs:
        if s.has_coordinates:
            by_chrom.setdefault(s.chrom, []).append(s)
    return by_id, by_chrom


def _read_table_text(text: str, seqs, source: str) -> list[Variant]:
    lines = [(i, ln) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise InputError("no variants in the table", source=source)
    sep = "\t" if "\t" in lines[0][1] else ","
    header = [h.strip().lower() for h in lines[0][1].split(sep)]
    key_col = next((c for c in ("seq_id", "sequence_id", "id", "chrom", "chromosome") if c in header), None)
    missing = [c for c in ("pos", "ref", "alt") if c not in header]
    if key_col is None or missing:
        raise InputError(
            "the variant table needs a header with seq_id (or chrom), pos, ref and alt; found: " + ", ".join(header),
            source=source,
            line=lines[0][0],
        )
    if len(lines) == 1:
        raise InputError("the variant table has a header but no variants", source=source)
    by_id, by_chrom = _index(seqs)
    out = []
    for line_no, ln in lines[1:]:
        cells = [c.strip() for c in ln.split(sep)]
        if len(cells) < len(header):
            cells += [""] * (len(header) - len(cells))
        row = dict(zip(header, cells))
        try:
            pos1 = int(row["pos"])
        except ValueError:
            raise InputError(
                f"pos must be an integer (1-based), found {row['pos']!r}", source=source, line=line_no
            ) from None
        ref = _norm_allele(row["ref"], "REF", source, line_no)
        alt = _norm_allele(row["alt"], "ALT", source, line_no)
        if not ref and not alt:
            raise InputError("REF and ALT are both empty", source=source, line=line_no)
        label = row.get("note") or row.get("name") or (row.get("id") if key_col != "id" else "") or ""
        if not ref:  # bare insertion "-" -> ALT inserted before pos: use pos as the offset with empty ref
            out += _locate_insertion(by_id, by_chrom, row[key_col], pos1, alt, source, line_no, label)
            continue
        out += _locate(by_id, by_chrom, row[key_col], pos1, ref, alt, source, line_no, label)
    return out


def _locate_insertion(by_id, by_chrom, key, pos1, alt, source, line, label) -> list[Variant]:
    if key in by_id:
        s = by_id[key]
        if not 0 <= pos1 - 1 <= len(s.seq):
            raise InputError(
                f"position {pos1} is outside sequence '{key}' (length {len(s.seq)})", source=source, line=line
            )
        return [Variant(s.id, pos1 - 1, "", alt, line, label)]
    if key in by_chrom:
        g0 = pos1 - 1
        out = []
        for s in by_chrom[key]:
            if s.start <= g0 <= s.end:
                off = g0 - s.start if s.strand == "+" else s.end - g0
                a = alt if s.strand == "+" else reverse_complement(alt)
                out.append(Variant(s.id, off, "", a, line, label, f"{key}:{pos1}"))
        if out:
            return out
        raise InputError(f"position {key}:{pos1} is inside none of the loaded intervals", source=source, line=line)
    raise InputError(
        f"'{key}' is neither a loaded sequence id nor a chromosome of the loaded BED intervals",
        source=source,
        line=line,
    )


def read_vcf_text(text: str, seqs: SeqType[Sequence], source: str = "VCF") -> list[Variant]:
    """Plain-text VCF (no pysam): CHROM is a sequence id or a chromosome of BED-derived sequences; POS 1-based;
    multi-allelic ALT is split into one variant per allele; symbolic alleles (``<DEL>``) and ``*`` are refused."""
    by_id, by_chrom = _index(seqs)
    out, saw_header, n_records = [], False, 0
    for line_no, ln in enumerate(text.splitlines(), start=1):
        if not ln.strip():
            continue
        if ln.startswith("##"):
            continue
        if ln.startswith("#"):
            saw_header = True
            continue
        n_records += 1
        cols = ln.rstrip("\n").split("\t")
        if len(cols) < 5:
            raise InputError(
                f"a VCF record needs at least 5 tab-separated columns (CHROM POS ID REF ALT), found {len(cols)}",
                source=source,
                line=line_no,
            )
        chrom, pos, vid, ref, alts = cols[:5]
        try:
            pos1 = int(pos)
        except ValueError:
            raise InputError(f"POS must be an integer, found {pos!r}", source=source, line=line_no) from None
        ref_n = _norm_allele(ref, "REF", source, line_no)
        if not ref_n:
            raise InputError("REF is empty", source=source, line=line_no)
        for alt in alts.split(","):
            if alt.startswith("<") or alt == "*":
                raise InputError(f"symbolic ALT {alt!r} is not supported; write the bases", source=source, line=line_no)
            alt_n = _norm_allele(alt, "ALT", source, line_no)
            out += _locate(by_id, by_chrom, chrom, pos1, ref_n, alt_n, source, line_no, "" if vid in (".", "") else vid)
    if n_records == 0:
        raise InputError(
            "the VCF has a header but no variant records" if saw_header else "the VCF has no variant records",
            source=source,
        )
    return out


def score_variants(
    lm,
    seqs: SeqType[Sequence],
    variants: SeqType[Variant],
    *,
    batch_size: int = 64,
    orientation: str = "forward",
    target: int | str | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """One row per variant: sequence id, position (0-based in the sequence as read), pos (1-based, as in the
    input), genomic coordinate when known, kind, ref, alt, p_ref, p_alt, delta, diff, logOR (> 0 means the variant
    lowers the prediction)."""
    by_id = {s.id: s for s in seqs}
    used = list(dict.fromkeys(v.seq_id for v in variants))
    refs = [by_id[i] for i in used]
    alts = [
        replace(by_id[v.seq_id], id=f"{v.seq_id}|{k}", seq=v.apply(by_id[v.seq_id].seq)) for k, v in enumerate(variants)
    ]
    probs = class_probabilities(lm, refs + alts, batch_size=batch_size, orientation=orientation, progress=progress)
    ref_p = {i: probs[j] for j, i in enumerate(used)}
    rows = []
    for k, v in enumerate(variants):
        pr = ref_p[v.seq_id]
        t = target_class(lm, pr, target)
        p_ref, p_alt = float(pr[t]), float(probs[len(refs) + k, t])
        sc = effect_scores(p_ref, p_alt)
        rows.append(
            {
                "seq_id": v.seq_id,
                "position": v.offset,
                "pos": v.offset + 1,
                "genomic": v.genomic or None,
                "variant_id": v.label or None,
                "kind": v.kind,
                "ref": v.ref or "-",
                "alt": v.alt or "-",
                "p_ref": p_ref,
                "p_alt": p_alt,
                "delta": float(sc["delta"]),
                "diff": float(sc["diff"]),
                "logOR": float(sc["logOR"]),
                "class": lm.label_names[t],
                "line": v.source_line,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------------------
# attention before / after


@dataclass
class BeforeAfter:
    """Reference and mutant nucleotide attention on reference coordinates ``[L_ref]``.

    alt_on_ref: mutant scores at the reference position of each base; NaN where the variant deleted the base.
    inserted: scores of inserted bases ``[n_inserted]``, which follow reference position ``inserted_after``.
    alt_track: the mutant's own track ``[L_alt]``; alt_to_ref: the reference position of each mutant base
    (``-1`` for inserted bases).
    """

    variant: Variant
    ref_track: np.ndarray
    alt_on_ref: np.ndarray
    alt_track: np.ndarray
    alt_to_ref: np.ndarray
    inserted: np.ndarray
    inserted_after: int


def alt_to_ref_map(v: Variant, ref_len: int) -> np.ndarray:
    """Reference position of every base of the mutant sequence (``-1`` for inserted bases)."""
    left = np.arange(v.offset)
    n_sub = min(len(v.ref), len(v.alt))
    middle = np.concatenate([v.offset + np.arange(n_sub), np.full(len(v.alt) - n_sub, -1)])
    right = np.arange(v.offset + len(v.ref), ref_len)
    return np.concatenate([left, middle, right]).astype(np.int64)


def tracks_before_after(lm, seq: Sequence, variant: Variant, lens=None) -> BeforeAfter:
    """The reference's and the mutant's tracks under ``lens`` (default: attention, DNABERT-viz recipe), the
    mutant's placed on reference coordinates."""
    from ..lenses import Attention, tracks

    alt = replace(seq, id=seq.id + "|alt", seq=variant.apply(seq.seq))
    ref_t, alt_t = tracks(lm, [seq, alt], lens or Attention())
    mapping = alt_to_ref_map(variant, len(seq.seq))
    on_ref = np.full(len(seq.seq), np.nan)
    keep = mapping >= 0
    on_ref[mapping[keep]] = alt_t.scores[keep]
    return BeforeAfter(variant, ref_t.scores, on_ref, alt_t.scores, mapping, alt_t.scores[~keep], variant.offset - 1)
