"""Sequences in: pasted text, FASTA files (multi-record, gzip) and BED intervals over a reference FASTA.

Every sequence becomes a :class:`Sequence` with an id, upper-case bases from ``ACGTN`` and, when it came from a BED
interval, its genomic coordinates (0-based, half-open) and strand. Bad input raises :class:`InputError` naming the
source, the record and the line.
"""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from collections.abc import Sequence as SeqType
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from .checks import class_label, whole
from .files import STDIN, check_regular_file, open_text, read_text_file, stdin_as_file

if TYPE_CHECKING:
    import pandas as pd

ALPHABET = "ACGTN"
_VALID = re.compile(r"[^ACGTN]")
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
_LABEL_RE = re.compile(r"(?:^|\s)label=([^\s;]+)")
MAX_RECORD = 2**31 - 1  # positions are int32 in the track tables


@dataclass(frozen=True)
class Sequence:
    """One DNA sequence.

    ``seq`` holds upper-case ``A/C/G/T/N`` only. For BED-derived sequences ``chrom``, ``start`` and ``end`` give the
    0-based half-open interval on the reference and ``strand`` is ``'+'`` or ``'-'`` (``seq`` is then already
    reverse-complemented, i.e. ``seq[0]`` is the base at ``end - 1`` on the forward strand).
    """

    id: str
    seq: str
    description: str = ""
    source: str = ""
    label: int | None = None
    chrom: str | None = None
    start: int | None = None
    end: int | None = None
    strand: str | None = None
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    def __len__(self) -> int:
        return len(self.seq)

    @property
    def has_coordinates(self) -> bool:
        return self.chrom is not None

    def genomic_positions(self) -> np.ndarray:
        """Genomic 0-based coordinate of each base of ``seq``, shape ``[L]`` (``-`` strand runs backwards)."""
        if not self.has_coordinates:
            raise ValueError(f"sequence '{self.id}' has no genomic coordinates")
        if self.strand == "-":
            return np.arange(self.end - 1, self.start - 1, -1)
        return np.arange(self.start, self.end)


def reverse_complement(seq: str) -> str:
    """Reverse complement of an upper-case ``ACGTN`` string."""
    return seq.translate(_COMPLEMENT)[::-1]


def gc_content(seq: str) -> float:
    """Fraction of G/C among the non-N bases (NaN when all bases are N)."""
    acgt = len(seq) - seq.count("N")
    return float("nan") if acgt == 0 else (seq.count("G") + seq.count("C")) / acgt


def _parse_label(description: str, source: str = "", record: str | None = None, line: int | None = None) -> int | None:
    """The ``label=`` of a FASTA header: None when absent or not a number (``label=positive``); a number that is
    not a class index (``label=inf``, ``label=-1``, ``label=1.5``) is an :class:`InputError`."""
    m = _LABEL_RE.search(description)
    if not m:
        return None
    try:
        float(m.group(1))
    except ValueError:
        return None
    return class_label(m.group(1), source=source or None, record=record, line=line)


# --------------------------------------------------------------------------------------------------------------
# FASTA


def _open_text(path: str) -> io.TextIOBase:
    return open_text(path)


def _locate(lines: Iterable[str], record_index: int, offset: int) -> tuple[int, int]:
    """Line (1-based) and column (1-based) of sequence character ``offset`` of FASTA record ``record_index``."""
    rec = -1
    seen = 0
    for line_no, line in enumerate(lines, start=1):
        if line.startswith(">"):
            rec += 1
            seen = 0
            continue
        if rec != record_index:
            continue
        stripped = "".join(line.split())
        if offset < seen + len(stripped):
            # map the offset back to a column of the raw line (whitespace was removed)
            want = offset - seen
            col = 0
            for col, ch in enumerate(line.rstrip("\r\n"), start=1):
                if not ch.isspace():
                    if want == 0:
                        return line_no, col
                    want -= 1
            return line_no, col
        seen += len(stripped)
    return 0, 0


def _check_header_first(lines: Iterable[str], source: str) -> None:
    for line_no, line in enumerate(_bounded_lines(lines), start=1):
        if not line.strip():
            continue
        if not line.startswith(">"):
            raise InputError(
                f"expected a FASTA header starting with '>' but found {line.strip()[:30]!r}; is this a FASTA file?",
                source=source,
                line=line_no,
            )
        return
    raise InputError("no FASTA records (the input is empty)", source=source)


def _bounded_lines(lines: Iterable[str], limit: int = 1 << 20) -> Iterator[str]:
    """Lines, each cut at ``limit`` characters when read from a handle (a binary file with no line breaks would
    otherwise be read whole as one line)."""
    if not hasattr(lines, "readline"):
        yield from lines
        return
    while True:
        line = lines.readline(limit)
        if not line:
            return
        yield line


def _fasta_entries(handle: Iterable[str]) -> Iterator[tuple[str, str]]:
    """``(title, sequence)`` of each record, exactly as Biopython's ``SimpleFastaParser`` gives them (lines before
    the first ``>`` skipped, spaces and carriage returns removed), but each sequence is gathered in one growing
    buffer rather than a list of lines: a 10-Mb record costs about twice its size while it is read, not four times
    (what keeps one long record within the memory of a short one)."""
    title, buf = None, bytearray()
    for line in handle:
        if line[:1] == ">":
            if title is not None:
                yield title, buf.decode()
            title, buf = line[1:].rstrip(), bytearray()
        elif title is not None:
            buf += line.rstrip().encode().replace(b" ", b"").replace(b"\r", b"")
    if title is not None:
        yield title, buf.decode()


def _fasta_records(handle: Iterable[str], source: str, relocate) -> Iterator[Sequence]:
    """Parse FASTA records from an open text handle. ``relocate()`` returns a fresh line iterator for error lines."""
    seen_ids: dict[str, int] = {}
    n = 0
    for index, (title, raw) in enumerate(_fasta_entries(handle)):
        parts = title.split(None, 1)
        rec_id = parts[0] if parts else ""
        description = parts[1] if len(parts) > 1 else ""
        if not rec_id:
            line, _ = _locate_header(relocate(), index)
            raise InputError("FASTA header has no sequence id", source=source, line=line)
        if rec_id in seen_ids:
            line, _ = _locate_header(relocate(), index)
            raise InputError(
                f"duplicate sequence id '{rec_id}' (first used by record {seen_ids[rec_id] + 1}); ids must be unique",
                source=source,
                record=rec_id,
                line=line,
            )
        seen_ids[rec_id] = index
        seq = raw if raw.isupper() else raw.upper()  # no second copy of a long upper-case record
        if not seq:
            line, _ = _locate_header(relocate(), index)
            raise InputError("record has no sequence", source=source, record=rec_id, line=line)
        bad = _VALID.search(seq)
        if bad:
            line, col = _locate(relocate(), index, bad.start())
            raise InputError(
                f"invalid character {raw[bad.start()]!r} at column {col} (position {bad.start() + 1} "
                f"of the sequence); only A, C, G, T and N are allowed",
                source=source,
                record=rec_id,
                line=line,
            )
        if len(seq) > MAX_RECORD:
            line, _ = _locate_header(relocate(), index)
            raise InputError(
                f"record of {len(seq):,} bases is longer than dnalens handles ({MAX_RECORD:,}); split it",
                source=source,
                record=rec_id,
                line=line,
            )
        label = None
        if "label=" in description:
            try:
                label = _parse_label(description, source, rec_id)
            except InputError:  # find the header's line only when there is something to report (a rescan)
                label = _parse_label(description, source, rec_id, _locate_header(relocate(), index)[0])
        n += 1
        yield Sequence(id=rec_id, seq=seq, description=description, source=source, label=label)
    if n == 0:
        raise InputError("no FASTA records found", source=source)


def _locate_header(lines: Iterable[str], record_index: int) -> tuple[int, int]:
    rec = -1
    for line_no, line in enumerate(lines, start=1):
        if line.startswith(">"):
            rec += 1
            if rec == record_index:
                return line_no, 1
    return 0, 0


def iter_fasta(path: str | os.PathLike, source: str | None = None) -> Iterator[Sequence]:
    """Stream the records of a FASTA file (plain or gzip-compressed), validated one by one."""
    path = os.fspath(path)
    if path == STDIN:
        with stdin_as_file("FASTA") as spooled:
            yield from iter_fasta(spooled, source or "standard input")
        return
    source = source or os.path.basename(path)
    if not os.path.exists(path):
        raise InputError("file not found", source=path)
    with _open_text(path) as fh:
        _check_header_first(fh, source)

    def relocate():
        return _open_text(path)

    with _open_text(path) as fh:
        yield from _fasta_records(fh, source, relocate)


def read_fasta(path: str | os.PathLike, source: str | None = None) -> list[Sequence]:
    """All records of a FASTA file (plain or gzip) as a list."""
    return list(iter_fasta(path, source))


def count_fasta_records(path: str | os.PathLike) -> int:
    """Number of '>' header lines (cheap; used for progress bars)."""
    n, at_start = 0, True
    with _open_text(os.fspath(path)) as fh:
        for piece in _bounded_lines(fh):  # a line longer than the bound comes in pieces; only a line start counts
            n += at_start and piece.startswith(">")
            at_start = piece.endswith("\n")
    return n


def parse_fasta_text(text: str, source: str = "pasted text") -> list[Sequence]:
    """FASTA records from a string."""
    lines = text.splitlines(keepends=True)
    _check_header_first(lines, source)
    return list(_fasta_records(io.StringIO(text), source, lambda: iter(lines)))


def parse_text(text: str, source: str = "pasted text", id_prefix: str = "seq") -> list[Sequence]:
    """Pasted input: FASTA when the first non-blank character is '>', otherwise raw sequence.

    Raw input: blocks separated by blank lines are separate sequences (ids ``seq_1``, ``seq_2``, ...); the lines of
    one block are joined, so a sequence copied with line breaks stays one sequence.
    """
    stripped = text.lstrip()
    if not stripped:
        raise InputError("nothing to read: the text is empty", source=source)
    if stripped.startswith(">"):
        return parse_fasta_text(text, source)
    records = []
    block: list[tuple[int, str]] = []
    all_lines = text.splitlines()

    def flush():
        if not block:
            return
        rec_id = f"{id_prefix}_{len(records) + 1}"
        seq_parts = []
        for line_no, line in block:
            up = "".join(line.split()).upper()
            bad = _VALID.search(up)
            if bad:
                # column in the raw line
                col = len(line) - len(line.lstrip()) + 1
                nonspace = [i for i, ch in enumerate(line) if not ch.isspace()]
                col = nonspace[bad.start()] + 1
                raise InputError(
                    f"invalid character {line[col - 1]!r} at column {col}; only A, C, G, T and N are allowed",
                    source=source,
                    record=rec_id,
                    line=line_no,
                )
            seq_parts.append(up)
        records.append(Sequence(id=rec_id, seq="".join(seq_parts), source=source))
        block.clear()

    for line_no, line in enumerate(all_lines, start=1):
        if line.strip():
            block.append((line_no, line))
        else:
            flush()
    flush()
    return records


# --------------------------------------------------------------------------------------------------------------
# DNABERT tables (train.tsv / dev.tsv)


def _kmer2seq(text: str) -> str:
    """DNABERT's space-separated overlapping k-mers joined back into the sequence."""
    kmers = text.split()
    return kmers[0] + "".join(k[-1] for k in kmers[1:]) if kmers else ""


def read_table(path: str | os.PathLike) -> list[Sequence]:
    """Labelled sequences from a table with a header holding ``sequence`` (or ``seq``) and ``label`` columns, CSV
    or TSV, optionally ``id``: DNABERT's ``train.tsv``/``dev.tsv`` (``sequence label``, the sequence written as
    space-separated overlapping k-mers) included; k-mer text is joined back into the sequence."""
    path = os.fspath(path)
    return table_from_text(read_text_file(path, "table"), os.path.basename(path))


def table_from_text(text: str, name: str = "table") -> list[Sequence]:
    """:func:`read_table` on text already read (an upload's bytes decoded)."""
    lines = [(i, ln) for i, ln in enumerate(text.splitlines(), start=1) if ln.strip()]
    if not lines:
        raise InputError("the table is empty", source=name)
    sep = "\t" if "\t" in lines[0][1] else ","
    header = [h.strip().lower() for h in lines[0][1].split(sep)]
    seq_col = next((c for c in ("sequence", "seq") if c in header), None)
    if seq_col is None or "label" not in header:
        raise InputError(
            "the table needs a header with 'sequence' and 'label' columns; found: " + ", ".join(header),
            source=name,
            line=lines[0][0],
        )
    si, li = header.index(seq_col), header.index("label")
    ii = header.index("id") if "id" in header else None
    out, seen = [], {}
    valid = re.compile(r"^[ACGTN]+$")
    for line_no, ln in lines[1:]:
        cells = ln.split(sep)
        if len(cells) <= max(si, li, -1 if ii is None else ii):
            raise InputError(f"expected {len(header)} columns, found {len(cells)}", source=name, line=line_no)
        raw = cells[si].strip().upper()
        seq = _kmer2seq(raw) if " " in raw else raw
        if not valid.match(seq):
            raise InputError("the sequence has characters other than A, C, G, T, N", source=name, line=line_no)
        lab = cells[li].strip()
        if lab == "":
            raise InputError("the label is missing", source=name, line=line_no)
        label = class_label(lab, source=name, line=line_no)
        rid = cells[ii].strip() if ii is not None else f"row{line_no}"
        if rid in seen:
            raise InputError(
                f"duplicate id '{rid}' (first on line {seen[rid]}); ids must be unique", source=name, line=line_no
            )
        seen[rid] = line_no
        out.append(Sequence(rid, seq, source=name, label=label))
    if not out:
        raise InputError("the table has a header but no rows", source=name)
    return out


def is_table(path: str | os.PathLike) -> bool:
    """True when a sequence file is a labelled table (DNABERT tsv, CSV) rather than FASTA: its first non-blank
    line is a header naming a ``sequence`` column."""
    if os.fspath(path) == "-":
        return False
    with open_text(path) as fh:
        for line in _bounded_lines(fh):
            if line.strip():
                cols = [c.strip().lower() for c in re.split(r"[\t,]", line)]
                return not line.startswith(">") and ("sequence" in cols or "seq" in cols)
    return False


def iter_records(path: str | os.PathLike) -> Iterator[Sequence]:
    """The sequences of a FASTA file (streamed) or of a DNABERT-style table (``sequence label``)."""
    if is_table(path):
        yield from read_table(path)
    else:
        yield from iter_fasta(path)


def read_records(path: str | os.PathLike) -> list[Sequence]:
    """All sequences of a FASTA file or a DNABERT-style table."""
    return list(iter_records(path))


# --------------------------------------------------------------------------------------------------------------
# BED + reference


@dataclass(frozen=True)
class BedInterval:
    chrom: str
    start: int
    end: int
    name: str | None
    strand: str
    line: int


def parse_bed(lines: Iterable[str], source: str = "BED") -> list[BedInterval]:
    """BED3/BED6 intervals (0-based, half-open). ``track``/``browser``/``#`` lines and blank lines are skipped."""
    out = []
    for line_no, line in enumerate(lines, start=1):
        s = line.strip()
        if not s or s.startswith(("#", "track", "browser")):
            continue
        cols = s.split("\t") if "\t" in s else s.split()
        if len(cols) < 3:
            raise InputError(
                f"a BED line needs at least 3 columns (chrom, start, end), found {len(cols)}",
                source=source,
                line=line_no,
            )
        chrom = cols[0]
        start = whole(cols[1], "start (0-based)", lo=0, source=source, line=line_no)
        end = whole(cols[2], "end", lo=1, source=source, line=line_no)
        if end <= start:
            raise InputError(
                f"invalid interval {chrom}:{start}-{end} (need 0 <= start < end)", source=source, line=line_no
            )
        name = cols[3] if len(cols) > 3 and cols[3] not in ("", ".") else None
        strand = cols[5] if len(cols) > 5 else "+"
        if strand == ".":
            strand = "+"
        if strand not in ("+", "-"):
            raise InputError(f"strand must be '+', '-' or '.', found {strand!r}", source=source, line=line_no)
        out.append(BedInterval(chrom, start, end, name, strand, line_no))
    if not out:
        raise InputError("no BED intervals found", source=source)
    return out


def open_reference(reference: str):
    """An indexed ``pyfaidx.Fasta`` over a reference genome (plain or bgzip FASTA; the ``.fai`` is built beside it,
    or in the temporary folder when that folder is read-only). Bases come out upper case."""
    import pyfaidx

    reference = check_regular_file(reference, "reference FASTA")
    try:  # rebuild: an index older than its FASTA (the FASTA was edited) is rebuilt, never trusted
        return pyfaidx.Fasta(reference, sequence_always_upper=True, as_raw=True, rebuild=True)
    except PermissionError:
        # read-only folder: keep the index in a writable temp location, named after this very file
        import hashlib
        import tempfile

        st = os.stat(reference)
        key = hashlib.sha256(f"{os.path.realpath(reference)}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
        idx = os.path.join(tempfile.gettempdir(), f"dnalens-{key}-{os.path.basename(reference)}.fai")
        return pyfaidx.Fasta(reference, indexname=idx, sequence_always_upper=True, as_raw=True, rebuild=True)
    except Exception as exc:  # pyfaidx raises many kinds for malformed or bgzip-less gzip files
        raise InputError(
            f"cannot index the reference FASTA ({exc}); it must be plain or bgzip-compressed "
            "FASTA with lines of equal length",
            source=reference,
        ) from None


def read_bed(bed: str | os.PathLike, reference: str | os.PathLike, bed_source: str | None = None) -> list[Sequence]:
    """Sequences of BED intervals from a reference FASTA; ``-`` strand intervals are reverse-complemented.

    Ids: the BED name column when present and unique, else ``chrom:start-end(strand)``.
    """
    bed, reference = os.fspath(bed), os.fspath(reference)
    source = bed_source or os.path.basename(bed)
    if not os.path.exists(bed):
        raise InputError("BED file not found", source=bed)
    with _open_text(bed) as fh:
        intervals = parse_bed(fh, source)
    return bed_sequences(intervals, reference, source)


def bed_sequences(
    intervals: list[BedInterval], reference: str | os.PathLike, source: str = "BED", reference_name: str | None = None
) -> list[Sequence]:
    """The sequences of parsed BED intervals on a reference FASTA (see :func:`read_bed`)."""
    reference = os.fspath(reference)
    fa = open_reference(reference)
    ref_name = reference_name or os.path.basename(reference)
    names = [iv.name for iv in intervals if iv.name]
    dup = {n for n, c in Counter(names).items() if c > 1}
    used: dict[str, int] = {}
    out = []
    for iv in intervals:
        if iv.chrom not in fa:
            known = ", ".join(list(fa.keys())[:5])
            raise InputError(
                f"chromosome '{iv.chrom}' is not in the reference {ref_name} (it has: {known}"
                f"{', ...' if len(fa.keys()) > 5 else ''})",
                source=source,
                line=iv.line,
            )
        chrom_len = len(fa[iv.chrom])
        if iv.end > chrom_len:
            raise InputError(
                f"interval {iv.chrom}:{iv.start}-{iv.end} runs past the end of {iv.chrom} "
                f"(length {chrom_len}) in {ref_name}",
                source=source,
                line=iv.line,
            )
        try:
            raw = str(fa[iv.chrom][iv.start : iv.end])
        except Exception as exc:  # pyfaidx raises many kinds for a damaged or truncated FASTA
            raise InputError(
                f"cannot read {iv.chrom}:{iv.start}-{iv.end} from the reference {ref_name} ({type(exc).__name__}: "
                f"{exc}); is the file complete, and its .fai index up to date?",
                source=source,
                line=iv.line,
            ) from None
        seq = raw.upper()
        bad = _VALID.search(seq)
        if bad:
            raise InputError(
                f"reference base {raw[bad.start()]!r} at {iv.chrom}:{iv.start + bad.start() + 1} is "
                "not A, C, G, T or N",
                source=source,
                line=iv.line,
            )
        if iv.strand == "-":
            seq = reverse_complement(seq)
        coord = f"{iv.chrom}:{iv.start}-{iv.end}({iv.strand})"
        rec_id = iv.name if iv.name and iv.name not in dup else coord
        if rec_id in used:
            raise InputError(
                f"interval {coord} is listed twice (first on line {used[rec_id]}); remove the copy",
                source=source,
                line=iv.line,
            )
        used[rec_id] = iv.line
        out.append(
            Sequence(
                id=rec_id,
                seq=seq,
                description=coord,
                source=source,
                chrom=iv.chrom,
                start=iv.start,
                end=iv.end,
                strand=iv.strand,
            )
        )
    return out


# --------------------------------------------------------------------------------------------------------------
# summaries


def sequences_table(seqs: SeqType[Sequence]) -> pd.DataFrame:
    """One row per sequence: id, length, GC, source/coordinates, label."""
    import pandas as pd

    rows = []
    for s in seqs:
        rows.append(
            {
                "id": s.id,
                "length": len(s.seq),
                "gc": round(gc_content(s.seq), 4),
                "n_count": s.seq.count("N"),
                "source": s.source,
                "coordinates": f"{s.chrom}:{s.start}-{s.end}({s.strand})" if s.has_coordinates else "",
                "label": s.label,
            }
        )
    return pd.DataFrame(rows, columns=["id", "length", "gc", "n_count", "source", "coordinates", "label"])


def with_label(seqs: SeqType[Sequence], label: int) -> list[Sequence]:
    """Copies of ``seqs`` with ``label`` set (e.g. positives/negatives loaded from two files)."""
    return [replace(s, label=label) for s in seqs]


# --------------------------------------------------------------------------------------------------------------
# uploads (bytes, never paths)

MAX_UPLOAD_BYTES = 200 << 20  # the dashboard's limit (.streamlit/config.toml maxUploadSize = 200 MB)


def upload_text(data: bytes, name: str, max_bytes: int | None = None) -> str:
    """An upload's bytes as text: gzip inflated (at most ``max_bytes``, default :data:`MAX_UPLOAD_BYTES`; a truncated or corrupt stream, or one that
    inflates past the limit, is refused), UTF-8 with a byte-order mark dropped."""

    max_bytes = MAX_UPLOAD_BYTES if max_bytes is None else max_bytes
    if len(data) > max_bytes:
        raise InputError(
            f"the upload is {len(data) / 2**20:.0f} MB, more than the {max_bytes >> 20} MB limit; use the command "
            "line (dnalens) for files this large",
            source=name,
        )
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, max_bytes, name)
    return data.decode("utf-8", "replace").removeprefix("\ufeff")


def _gunzip(data: bytes, max_bytes: int, name: str) -> bytes:
    """Inflate gzip members (bgzip writes many) into at most ``max_bytes``."""
    import zlib

    out, rest = bytearray(), data
    while rest:
        member = zlib.decompressobj(wbits=31)
        try:
            out += member.decompress(rest, max_bytes + 1 - len(out))
        except zlib.error as exc:
            raise InputError(f"the gzip stream is corrupt ({exc})", source=name) from None
        if len(out) > max_bytes:
            raise InputError(f"the upload inflates past the {max_bytes >> 20} MB limit", source=name)
        if not member.eof:
            raise InputError("the gzip stream is truncated (the file was cut short)", source=name)
        rest = member.unused_data
    return bytes(out)


def read_upload(data: bytes, name: str) -> list[Sequence]:
    """Sequences from an upload's bytes (never a path): FASTA (plain or gzip) or a DNABERT-style table."""
    text = upload_text(data, name)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    cols = [c.strip().lower() for c in re.split(r"[\t,]", first)]
    if not first.startswith(">") and ("sequence" in cols or "seq" in cols):
        return table_from_text(text, name)
    return parse_fasta_text(text, name)


def bed_on_uploaded_reference(intervals: list[BedInterval], data: bytes, name: str, source: str = "BED"):
    """BED intervals on a reference FASTA that arrived as bytes (plain or gzip): written to a private temporary
    file for pyfaidx's index (it needs a file), read, and deleted."""
    import tempfile

    text = upload_text(data, name)
    with tempfile.TemporaryDirectory(prefix="dnalens-reference-") as tmp:
        path = os.path.join(tmp, "reference.fa")
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
            fh.write(text)
        return bed_sequences(intervals, path, source, reference_name=name)
