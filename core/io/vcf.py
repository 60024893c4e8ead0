"""VCF input through pysam (htslib): plain ``.vcf``, bgzip-compressed ``.vcf.gz`` and ``.bcf``.

Every ALT allele of every data record comes out as either a :class:`VcfAllele` (multi-allelic records are split,
one allele each) or a :class:`VcfSkip` that says why it cannot be scored (``ALT is '.'``, a symbolic allele such as
``<DEL>``, a breakend, the spanning deletion ``*``, a REF that does not match the reference, a contig the reference
lacks, ...). A file htslib cannot read (not a VCF, a truncated or corrupt bgzip stream, a malformed header or
record) raises :class:`InputError` naming the file and the record (and its line, for text VCF).

Why pysam rather than cyvcf2: pysam has no dependencies beyond its own wheel, bgzips and tabix-indexes files itself
(``pysam.tabix_index``, used by tests and genome-scale scoring), and imports in about 0.05 s; cyvcf2's strength,
genotype matrices as numpy arrays, is unused here (dnalens reads sites, not genotypes). Both ship Linux and macOS
wheels only; on Windows VCF input says so and variant tables still work.

Verified gotchas (``recipes-2.md`` §2): ``record.alts`` is ``None`` for ALT ``.`` (and ``('.',)`` for an empty
ALT column); symbolic alleles keep their angle brackets and their extent is ``END`` (``record.stop``), not
``len(REF)``; ``fetch`` on a plain ``.vcf`` needs an index, so this module only ever iterates. htslib also refuses
two things users do produce, which are handled here: a plain-gzip (not bgzip) ``.vcf.gz`` is decompressed to a
private temporary file first, and a UTF-8 byte-order mark is dropped the same way.
"""

from __future__ import annotations

import contextlib
import gzip
import itertools
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..errors import InputError
from .files import check_regular_file

_DNA = re.compile(r"^[ACGTN]+$")
_BOM = b"\xef\xbb\xbf"
_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_FIXED = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")


@dataclass(frozen=True)
class VcfAllele:
    """One ALT allele of one VCF record (multi-allelic records are split). ``ref``/``alt`` are upper case."""

    chrom: str
    pos: int  # 1-based, as in the VCF
    id: str | None
    ref: str
    alt: str
    record: int  # 0-based index of the data record in the file (for messages and sharding)
    info: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class VcfSkip:
    """One ALT allele (or a record without one) that cannot be scored, and why."""

    chrom: str
    pos: int
    id: str | None
    ref: str
    alt: str
    record: int
    reason: str


def _pysam():
    try:
        import pysam
    except ImportError:  # no wheel for this platform (Windows)
        raise InputError(
            "reading VCF needs pysam, which has no build for this platform; write the variants as a table "
            "(seq_id or chrom, pos, ref, alt) instead"
        ) from None
    pysam.set_verbosity(0)  # htslib's own warnings would reach the terminal; our messages say what matters
    return pysam


# --------------------------------------------------------------------------------------------------------------
# opening


def _is_bgzf(head: bytes) -> bool:
    """gzip with the BGZF extra field ``BC`` (what bgzip, bcftools and pysam write)."""
    return len(head) >= 16 and head[:2] == b"\x1f\x8b" and head[3] & 4 and head[12:14] == b"BC"


def _copy_to_private(src, out_dir: str, source: str) -> str:
    dst = os.path.join(out_dir, "input.vcf")
    try:
        with open(dst, "wb") as out:
            shutil.copyfileobj(src, out, 1 << 20)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise InputError(
            f"cannot read the VCF: the gzip stream is truncated or corrupt ({exc})", source=source
        ) from None
    return dst


@contextlib.contextmanager
def _readable(path: str, source: str) -> Iterator[str]:
    """A path htslib can read: the file itself, or a private decompressed / BOM-less copy."""
    with open(path, "rb") as fh:
        head = fh.read(64)
    if not head:
        raise InputError("the VCF is empty", source=source)
    needs_copy = (head[:2] == b"\x1f\x8b" and not _is_bgzf(head)) or head.startswith(_BOM)
    if not needs_copy:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="dnalens-vcf-") as tmp:
        if head.startswith(_BOM):
            with open(path, "rb") as src:
                src.read(len(_BOM))
                yield _copy_to_private(src, tmp, source)
        else:
            with gzip.open(path, "rb") as src:
                yield _copy_to_private(src, tmp, source)


def _text_lines(path: str) -> Iterator[str]:
    """The decompressed lines of a text VCF (for messages only)."""
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        yield from fh


def _header_problem(path: str) -> str:
    """Why htslib refused the header, in words (the file is text VCF, possibly compressed)."""
    try:
        lines = []
        for line in _text_lines(path):
            lines.append(line.lstrip("\ufeff").rstrip("\r\n"))
            if line.startswith("#CHROM") or not line.startswith("#") or len(lines) > 10_000:
                break
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        return f"cannot read the VCF: the compressed stream is truncated or corrupt ({exc})"
    if not lines or not lines[0].startswith("##fileformat=VCF"):
        first = lines[0][:40] if lines else ""
        return f"this is not a VCF: the first line must be '##fileformat=VCFv4.x', found {first!r}"
    chrom = next((ln for ln in lines if ln.startswith("#CHROM")), None)
    if chrom is None:
        return "cannot read the VCF: the header has no '#CHROM POS ID REF ALT QUAL FILTER INFO' line before the first record"
    cols = chrom.lstrip("#").split("\t")
    if tuple(c.strip().upper() for c in cols[:8]) != _FIXED:
        return (
            f"cannot read the VCF: the #CHROM line has {len(cols)} tab-separated columns ({', '.join(cols[:8])}); a VCF needs the 8 "
            "fixed columns CHROM POS ID REF ALT QUAL FILTER INFO"
        )
    return "cannot read the VCF: a header line is malformed (check the ##INFO, ##FORMAT and ##contig lines)"


def _open(pysam, path: str, source: str):
    try:
        return pysam.VariantFile(path)
    except (ValueError, OSError) as exc:
        text = str(exc)
        if ("truncated" in text or "EOF marker" in text) and not _has_bgzf_eof(path):
            raise InputError(
                "cannot read the VCF: the bgzip stream is truncated (no end-of-file block); the download or copy "
                "was cut short",
                source=source,
            ) from None
        if "truncated" in text or "EOF marker" in text or _is_bgzf(_head(path)):
            raise InputError(f"cannot read the VCF: the bgzip stream is corrupt ({text})", source=source) from None
        with open(path, "rb") as fh:
            head = fh.read(4)
        if head[:3] == b"BCF" or (_is_bgzf(head + b"\0" * 16) and _looks_bcf(path)):
            raise InputError(f"cannot read the BCF file ({text})", source=source) from None
        raise InputError(_header_problem(path), source=source) from None


def _head(path: str, n: int = 64) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def _has_bgzf_eof(path: str) -> bool:
    """True when the file ends with BGZF's 28-byte end-of-file block (a cut file does not)."""
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() < 28:
            return False
        fh.seek(-28, os.SEEK_END)
        return fh.read() == _BGZF_EOF


def _looks_bcf(path: str) -> bool:
    try:
        with gzip.open(path, "rb") as fh:
            return fh.read(3) == b"BCF"
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError):
        return False


def _record_problem(path: str, n_header: int, record: int) -> tuple[int | None, str]:
    """``(line, what is wrong)`` for the data record htslib could not parse."""
    want = n_header + record + 1
    try:
        line = next(itertools.islice(_text_lines(path), want - 1, None), None)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        return None, f"the compressed stream is truncated or corrupt ({exc})"
    if line is None:
        return None, "the file ends inside a record"
    cols = line.rstrip("\r\n").split("\t")
    if not line.strip():
        return want, "a blank line among the records (a VCF has none); delete it"
    if len(cols) < 8:
        return want, (
            f"a VCF record needs 8 tab-separated columns (CHROM POS ID REF ALT QUAL FILTER INFO), found {len(cols)}"
        )
    if not cols[1].strip().isdigit():
        return want, f"POS {cols[1][:20]!r} is not a positive whole number"
    return want, "htslib cannot parse this record (check QUAL, FILTER, INFO and the sample columns against the header)"


# --------------------------------------------------------------------------------------------------------------
# alleles


def _alt_problem(ref: str, alt: str) -> str | None:
    if alt in ("", "."):
        return "ALT is '.' (no alternative allele)"
    if alt == "*":
        return "spanning deletion * (the allele is described by an overlapping record)"
    if alt.startswith("<"):
        return f"symbolic allele {alt} (no bases to score)"
    if "[" in alt or "]" in alt or alt.startswith(".") or alt.endswith("."):
        return "breakend (a structural-variant join, no bases to score)"
    if not _DNA.match(alt):
        return f"ALT {alt[:20]!r} is not a DNA string (A, C, G, T, N)"
    if alt == ref:
        return "ALT equals REF"
    return None


class _Reference:
    """Contig and REF checks against an indexed FASTA (a path, or an open ``pyfaidx.Fasta``)."""

    def __init__(self, reference):
        if isinstance(reference, (str, os.PathLike)):
            from .sequences import open_reference

            reference = open_reference(os.fspath(reference))
        self.fa = reference
        self.lengths: dict[str, int] = {}

    def problem(self, chrom: str, pos: int, ref: str) -> str | None:
        if chrom not in self.lengths:
            if chrom not in self.fa:
                return "contig not in the reference"
            self.lengths[chrom] = len(self.fa[chrom])
        end = pos - 1 + len(ref)
        if end > self.lengths[chrom]:
            return f"past the end of {chrom} (length {self.lengths[chrom]}) in the reference"
        have = str(self.fa[chrom][pos - 1 : end]).upper()
        if have != ref:
            return f"REF does not match the reference (reference reads {have[:20]!r})"
        return None


def _record_checks(rec, ref: str, reference: _Reference | None) -> str | None:
    if rec.pos < 1:
        return "POS 0 (a telomere position, no base to change)"
    if not _DNA.match(ref):
        return f"REF {ref[:20]!r} is not a DNA string (A, C, G, T, N)"
    if reference is not None:
        return reference.problem(rec.chrom, rec.pos, ref)
    return None


def _info(rec) -> dict:
    try:
        return dict(rec.info)
    except (ValueError, KeyError, TypeError, OSError):  # an INFO field the header does not describe sensibly
        return {}


def _alleles(rec, n: int, reference: _Reference | None) -> Iterator[VcfAllele | VcfSkip]:
    ref = (rec.ref or "").upper()
    base = {"chrom": rec.chrom, "pos": int(rec.pos), "id": rec.id, "ref": ref, "record": n}
    alts = rec.alts or (".",)
    record_problem = None
    checked = False
    info = None
    for raw in alts:
        alt = raw.upper()
        reason = _alt_problem(ref, alt)
        if reason is None:
            if not checked:
                record_problem, checked = _record_checks(rec, ref, reference), True
            reason = record_problem
        if reason is not None:
            yield VcfSkip(alt=raw or ".", reason=reason, **base)
            continue
        if info is None:
            info = _info(rec)
        yield VcfAllele(alt=alt, info=info, **base)


# --------------------------------------------------------------------------------------------------------------
# reading


def iter_vcf(path, *, reference=None, source: str | None = None) -> Iterator[VcfAllele | VcfSkip]:
    """Stream the ALT alleles of a VCF (plain, bgzip-compressed or BCF), in file order.

    ``reference``: a path to an indexed FASTA or a ``pyfaidx.Fasta``; when given, each record's contig must be in
    it, and REF must match it (else the alleles come out as :class:`VcfSkip`). ``source``: the name to show in
    messages (default: the path as given). Raises :class:`InputError` for a file that is not a readable VCF.
    """
    path = check_regular_file(os.fspath(path), "VCF")
    source = source or path
    pysam = _pysam()
    ref = _Reference(reference) if reference is not None else None
    with _readable(path, source) as readable, _open(pysam, readable, source) as vf:
        is_bcf = str(getattr(vf, "format", "")).upper() == "BCF"
        n_header = 0 if is_bcf else len(str(vf.header).splitlines())
        records = iter(vf)
        n = 0
        while True:
            try:
                rec = next(records)
            except StopIteration:
                break
            except (OSError, ValueError) as exc:
                raise _record_error(readable, source, n_header, n, is_bcf, exc) from None
            yield from _alleles(rec, n, ref)
            n += 1


def _record_error(path: str, source: str, n_header: int, n: int, is_bcf: bool, exc: Exception) -> InputError:
    if _head(path, 2) == b"\x1f\x8b" and ("truncated" in str(exc) or "EOF" in str(exc)):
        return InputError(f"data record {n + 1}: the compressed stream is truncated or corrupt", source=source)
    if is_bcf:
        return InputError(f"data record {n + 1} cannot be decoded ({exc})", source=source)
    line, what = _record_problem(path, _header_lines(path, n_header), n)
    return InputError(f"data record {n + 1}: {what}", source=source, line=line)


def _header_lines(path: str, fallback: int) -> int:
    """Number of header lines at the top of a text VCF (pysam's own header text may differ in length)."""
    n = 0
    try:
        for line in _text_lines(path):
            if not line.startswith("#"):
                break
            n += 1
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError):
        return fallback
    return n


def read_vcf(path, *, reference=None, source: str | None = None) -> tuple[list[VcfAllele], list[VcfSkip]]:
    """All alleles of a VCF: ``(alleles, skipped)`` (see :func:`iter_vcf`)."""
    kept, skipped = [], []
    for item in iter_vcf(path, reference=reference, source=source):
        (skipped if isinstance(item, VcfSkip) else kept).append(item)
    return kept, skipped


def read_vcf_bytes(data: bytes, *, source: str, reference=None) -> tuple[list[VcfAllele], list[VcfSkip]]:
    """A VCF that arrived as bytes (an upload): written to a private temporary file, read, and deleted."""
    with tempfile.TemporaryDirectory(prefix="dnalens-upload-") as tmp:
        path = os.path.join(tmp, "upload.vcf")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return read_vcf(path, reference=reference, source=source)


def looks_like_vcf(head: bytes) -> bool:
    """True when the first bytes of a file are VCF or BCF (plain, gzip or bgzip)."""
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(31).decompress(head, 64)
        except zlib.error:
            return False
    head = head.removeprefix(_BOM)
    return head.startswith((b"##fileformat=VCF", b"#CHROM", b"BCF\x02", b"BCF\x04"))


def skip_counts(skipped: list[VcfSkip]) -> dict[str, int]:
    """How many alleles were skipped for each kind of reason (the reason up to its first parenthesis)."""
    counts: dict[str, int] = {}
    for s in skipped:
        key = s.reason.split(" (")[0]
        if key.startswith("symbolic allele"):
            key = "symbolic allele"
        counts[key] = counts.get(key, 0) + 1
    return counts
