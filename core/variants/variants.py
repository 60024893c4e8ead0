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


@dataclass(frozen=True)
class SkippedVariant:
    """An input allele that was not scored, and why (``record``: 0-based VCF data record; ``line``: table line)."""

    chrom: str
    pos: int
    id: str | None
    ref: str
    alt: str
    reason: str
    record: int | None = None
    line: int | None = None


class Variants(list):
    """A list of :class:`Variant` read from one input, with the alleles that were skipped (``skipped``)."""

    def __init__(self, items=(), skipped=()):
        super().__init__(items)
        self.skipped: list[SkippedVariant] = list(skipped)

    def skip_counts(self) -> dict[str, int]:
        """How many alleles were skipped for each kind of reason (``ALT is '.'``, ``symbolic allele <DEL>``,
        ``REF does not match``, ...)."""
        counts: dict[str, int] = {}
        for s in self.skipped:
            key = _reason_kind(s.reason)
            counts[key] = counts.get(key, 0) + 1
        return counts

    def skipped_frame(self) -> pd.DataFrame:
        """One row per skipped allele: chrom, pos (1-based), id, ref, alt, record, line, reason."""
        cols = ["chrom", "pos", "id", "ref", "alt", "record", "line", "reason"]
        return pd.DataFrame([{c: getattr(s, c) for c in cols} for s in self.skipped], columns=cols)


def _reason_kind(reason: str) -> str:
    """The kind of a skip reason, for counts: its words up to the first parenthesis, with the record's own
    details (alleles, sequence ids, positions) left out."""
    if reason.startswith("REF") and "does not match" in reason:
        return "REF does not match" + (" the reference" if "reference" in reason.split("(")[0] else " the sequence")
    if reason.startswith("position"):
        return "outside the loaded sequences"
    if "is neither a loaded sequence id" in reason:
        return "not a loaded sequence or chromosome"
    if reason.startswith(("REF '", "ALT '")):
        return reason.split(" '")[0] + " is not a DNA string"
    return reason.split(" (")[0]


def read_variant_file(path: str | os.PathLike, seqs: SeqType[Sequence], *, reference=None) -> Variants:
    """Variants from a file on disk (or ``-``, standard input): a TSV/CSV table, or a VCF (plain, bgzip, BCF; read
    with pysam, see :mod:`core.io.vcf`). ``reference``: the genome FASTA the sequences came from (BED input);
    VCF contigs and REF alleles are then checked against it."""
    from ..io.files import STDIN, check_regular_file, read_text_file, stdin_as_file
    from ..io.vcf import looks_like_vcf, read_vcf

    path = os.fspath(path)
    if path == STDIN:
        with stdin_as_file("variants") as spooled:
            return read_variant_file(spooled, seqs, reference=reference)
    path = check_regular_file(path, "variant file")
    with open(path, "rb") as fh:
        head = fh.read(4096)
    source = os.path.basename(path)
    if looks_like_vcf(head):
        return _from_vcf(*read_vcf(path, reference=reference, source=source), seqs, source)
    return parse_variants(read_text_file(path, "variant file"), seqs, source=source)


def parse_variant_bytes(data: bytes, seqs: SeqType[Sequence], source: str = "upload", *, reference=None) -> Variants:
    """Variants from an upload's bytes (never a path): a VCF (plain, gzip, bgzip or BCF; written to a private
    temporary file and read with pysam) or a text table."""
    from ..io.vcf import looks_like_vcf, read_vcf_bytes

    if looks_like_vcf(data[:4096]):
        return _from_vcf(*read_vcf_bytes(data, source=source, reference=reference), seqs, source)
    from ..io.sequences import upload_text

    return parse_variants(upload_text(data, source), seqs, source=source)


def parse_variants(text: str, seqs: SeqType[Sequence], source: str = "variants") -> Variants:
    """Variants from text (an upload decoded, or a typed table; never a path): a TSV/CSV table with columns
    ``seq_id`` (or ``id``/``chrom``), ``pos`` (1-based), ``ref``, ``alt`` (``-`` for none), optional
    ``id``/``note``; or VCF text (detected by its ``##fileformat`` or ``#CHROM`` line, read with pysam)."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InputError("the variant file is empty", source=source)
    head = text.lstrip()[:2000]
    if head.startswith("##fileformat=VCF") or head.startswith("#CHROM") or "\n#CHROM" in head:
        from ..io.vcf import read_vcf_bytes

        return _from_vcf(*read_vcf_bytes(text.encode(), source=source), seqs, source)
    return _read_table_text(text, seqs, source)


def _from_vcf(alleles, skips, seqs: SeqType[Sequence], source: str) -> Variants:
    """VCF alleles placed on the loaded sequences; alleles that fall on none (or whose REF differs from the
    sequence) are skipped with the reason, like the reader's own skips."""
    by_id, by_chrom = _index(seqs)
    skipped = [SkippedVariant(s.chrom, s.pos, s.id, s.ref, s.alt, s.reason, record=s.record) for s in skips]
    out = []
    for a in alleles:
        try:
            out += _locate(by_id, by_chrom, a.chrom, a.pos, a.ref, a.alt, source, None, a.id or "")
        except InputError as exc:
            skipped.append(SkippedVariant(a.chrom, a.pos, a.id, a.ref, a.alt, exc.message, record=a.record))
    if not out:
        if not skipped:
            raise InputError("the VCF has a header but no variant records", source=source)
        counts = Variants((), skipped).skip_counts()
        first = skipped[0]
        raise InputError(
            f"no variant could be scored: all {len(skipped)} alleles were skipped ("
            + ", ".join(f"{k}: {n}" for k, n in counts.items())
            + f"); the first, {first.chrom}:{first.pos} {first.ref}>{first.alt}: {first.reason}",
            source=source,
        )
    return Variants(out, skipped)


def _index(seqs: SeqType[Sequence]):
    by_id = {s.id: s for s in seqs}
    by_chrom: dict[str, list[Sequence]] = {}
    for s in seqs:
        if s.has_coordinates:
            by_chrom.setdefault(s.chrom, []).append(s)
    return by_id, by_chrom


def _read_table_text(text: str, seqs, source: str) -> Variants:
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
        pos1 = _table_pos(row["pos"], source, line_no)
        ref = _norm_allele(row["ref"], "REF", source, line_no)
        alt = _norm_allele(row["alt"], "ALT", source, line_no)
        if not ref and not alt:
            raise InputError("REF and ALT are both empty", source=source, line=line_no)
        label = row.get("note") or row.get("name") or (row.get("id") if key_col != "id" else "") or ""
        if not ref:  # bare insertion "-" -> ALT inserted before pos: use pos as the offset with empty ref
            out += _locate_insertion(by_id, by_chrom, row[key_col], pos1, alt, source, line_no, label)
            continue
        out += _locate(by_id, by_chrom, row[key_col], pos1, ref, alt, source, line_no, label)
    return Variants(out)


def _table_pos(text: str, source: str, line: int) -> int:
    """The 1-based ``pos`` cell as a whole number >= 1."""
    try:
        pos1 = int(text)
    except ValueError:
        raise InputError(
            f"pos must be a whole number (1-based), found {text[:30]!r}", source=source, line=line
        ) from None
    if pos1 < 1:
        raise InputError(f"pos is 1-based and must be at least 1, found {pos1}", source=source, line=line)
    return pos1


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
