"""Writing results: nucleotide attention tables (Parquet/CSV/NPY, streamed in chunks), predictions, bedGraph.

Attention table layout (long, one row per base): ``id, position, base, score`` (``position`` 0-based along the
sequence as read by the model), plus ``chrom, genomic_position, strand`` for sequences from BED intervals
(``genomic_position`` 0-based on the reference forward strand). NPY: ``[n_sequences, max_length]`` float32, NaN
past each sequence's end, rows in input order (the shape of DNABERT-viz's ``atten.npy``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from .ondisk import pieces, release
from .sequences import Sequence

if TYPE_CHECKING:  # pandas is imported where a function uses it (it costs ~0.3 s at start-up)
    import pandas as pd

TABLE_FORMATS = ("parquet", "csv", "tsv", "npy")


def format_of(path: str | os.PathLike, allowed=TABLE_FORMATS) -> str:
    suffixes = [s.lstrip(".").lower() for s in Path(path).suffixes]
    fmt = suffixes[-1] if suffixes else ""
    if fmt == "pq":
        fmt = "parquet"
    if fmt not in allowed:
        raise InputError(
            f"cannot tell the output format from '{path}'; use one of: " + ", ".join("." + a for a in allowed)
        )
    return fmt


def _genomic_part(seq: Sequence, a: int, b: int) -> np.ndarray:
    """``seq.genomic_positions()[a:b]`` without building the whole array."""
    if seq.strand == "-":
        return np.arange(seq.end - 1 - a, seq.end - 1 - b, -1, dtype=np.int64)
    return np.arange(seq.start + a, seq.start + b, dtype=np.int64)


class TrackWriter:
    """Streams per-nucleotide tracks to disk in chunks of ``chunk_rows`` rows (memory does not grow with N).

    For ``npy`` the number of sequences and the longest length must be given up front (``npy_dtype``: float32, or
    float64 for DNABERT-viz's ``atten.npy``).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        coordinates: bool = False,
        n_records: int | None = None,
        max_length: int | None = None,
        chunk_rows: int = 65_536,
        npy_dtype=np.float32,
    ):
        self.path = Path(path)
        self.fmt = format_of(path)
        self.coordinates = coordinates
        self.chunk_rows = chunk_rows
        self._cols: dict[str, list[np.ndarray]] = {}
        self._rows = 0
        self._writer = None
        self._header_written = False
        self._n = 0
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.fmt == "npy":
            if n_records is None or max_length is None:
                raise ValueError("npy output needs n_records and max_length")
            self._mm = np.lib.format.open_memmap(self.path, mode="w+", dtype=npy_dtype, shape=(n_records, max_length))
            flat = self._mm.reshape(-1)
            for a, b in pieces(len(flat), chunk_rows):  # NaN past each row's end; pages released behind
                flat[a:b] = np.nan
                release(self._mm, 0, b)

    def _add(self, name: str, values: np.ndarray) -> None:
        self._cols.setdefault(name, []).append(values)

    def write(self, seq: Sequence, scores: np.ndarray) -> None:
        """One sequence's track. A long track is taken ``chunk_rows`` values at a time, and the pages of a
        disk-backed one (:mod:`core.io.ondisk`) are released behind, so memory does not grow with its length."""
        for a in range(0, max(len(scores), 1), self.chunk_rows):
            b = min(len(scores), a + self.chunk_rows)
            self._write_part(seq, scores, a, b)
            release(scores, 0, b)
        self._n += 1

    def _write_part(self, seq: Sequence, scores: np.ndarray, a: int, b: int) -> None:
        if self.fmt == "npy":
            self._mm[self._n, a:b] = scores[a:b]
            width = self._mm.shape[1]
            release(self._mm, self._n * width, self._n * width + b)
            return
        n = b - a
        self._add("id", np.full(n, seq.id, dtype=object))
        self._add("position", np.arange(a, b, dtype=np.int32))
        self._add("base", np.frombuffer(seq.seq[a:b].encode(), dtype="S1"))
        self._add("score", np.asarray(scores[a:b], dtype=np.float32))
        if self.coordinates:
            has = seq.has_coordinates
            self._add("chrom", np.full(n, seq.chrom if has else None, dtype=object))
            self._add("genomic_position", _genomic_part(seq, a, b) if has else np.full(n, -1, dtype=np.int64))
            self._add("strand", np.full(n, seq.strand if has else None, dtype=object))
        self._rows += n
        if self._rows >= self.chunk_rows:
            self._flush()

    def _flush(self) -> None:
        import pandas as pd

        if not self._rows:
            return
        cols = {k: np.concatenate(v) for k, v in self._cols.items()}
        cols["base"] = cols["base"].astype(str).astype(object)
        self._cols, self._rows = {}, 0
        if self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            types = {
                "id": pa.string(),
                "position": pa.int32(),
                "base": pa.string(),
                "score": pa.float32(),
                "chrom": pa.string(),
                "genomic_position": pa.int64(),
                "strand": pa.string(),
            }
            table = pa.table({k: pa.array(v, type=types[k]) for k, v in cols.items()})
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.path, table.schema)
            self._writer.write_table(table)
        else:
            sep = "\t" if self.fmt == "tsv" else ","
            pd.DataFrame(cols).to_csv(
                self.path,
                sep=sep,
                index=False,
                mode="a" if self._header_written else "w",
                header=not self._header_written,
            )
            self._header_written = True

    def close(self) -> None:
        import pandas as pd

        if self.fmt == "npy":
            self._mm.flush()
            del self._mm
            return
        self._flush()
        if self.fmt == "parquet" and self._writer is None:  # no rows at all: still write a valid file
            import pyarrow as pa
            import pyarrow.parquet as pq

            fields = [("id", pa.string()), ("position", pa.int32()), ("base", pa.string()), ("score", pa.float32())]
            if self.coordinates:
                fields += [("chrom", pa.string()), ("genomic_position", pa.int64()), ("strand", pa.string())]
            pq.write_table(pa.table({n: pa.array([], t) for n, t in fields}), self.path)
        elif self.fmt in ("csv", "tsv") and not self._header_written:
            cols = ["id", "position", "base", "score"] + (
                ["chrom", "genomic_position", "strand"] if self.coordinates else []
            )
            pd.DataFrame(columns=cols).to_csv(self.path, sep="\t" if self.fmt == "tsv" else ",", index=False)
        if self._writer is not None:
            self._writer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def tracks_frame(seqs: list[Sequence], tracks: list[np.ndarray]) -> pd.DataFrame:
    """The long attention table (the layout :class:`TrackWriter` streams) for sequences held in memory."""
    import pandas as pd

    frames = []
    for s, t in zip(seqs, tracks):
        d = pd.DataFrame(
            {
                "id": s.id,
                "position": np.arange(len(t), dtype=np.int32),
                "base": list(s.seq[: len(t)]),
                "score": np.asarray(t, dtype=np.float32),
            }
        )
        if s.has_coordinates:
            d["chrom"], d["genomic_position"], d["strand"] = s.chrom, s.genomic_positions(), s.strand
        frames.append(d)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["id", "position", "base", "score"])


def _cell(v) -> str:
    """A value as pandas' ``to_csv`` writes it: '' for None/NaN, Python's shortest repr for floats."""
    if v is None:
        return ""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return "" if v != v else repr(v)
    return str(v)


def write_csv(path: str | os.PathLike, columns: dict, sep: str = ",") -> None:
    """Equal-length ``{name: values}`` columns as CSV, byte for byte what ``pandas.DataFrame(columns).to_csv(path,
    index=False)`` writes (tested), without importing pandas (the model-free commands start faster)."""
    import csv

    names = list(columns)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, delimiter=sep, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(names)
        for row in zip(*(columns[c] for c in names)):
            w.writerow([_cell(v) for v in row])


def write_table(df: pd.DataFrame, path: str | os.PathLike) -> None:
    """A DataFrame as CSV, TSV or Parquet (by extension)."""
    fmt = format_of(path, ("csv", "tsv", "parquet"))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, sep="\t" if fmt == "tsv" else ",", index=False)


def predictions_frame(rows: list[tuple[Sequence, np.ndarray]], label_names: list[str]) -> pd.DataFrame:
    """One row per sequence: id, length, ``p_<label>`` per class, predicted label (+ coordinates for BED input)."""
    import pandas as pd

    recs = []
    for seq, probs in rows:
        r = {"id": seq.id, "length": len(seq.seq)}
        if seq.has_coordinates:
            r.update(chrom=seq.chrom, start=seq.start, end=seq.end, strand=seq.strand)
        for name, p in zip(label_names, probs):
            r[f"p_{name}"] = float(p)
        r["predicted"] = label_names[int(np.argmax(probs))]
        if seq.label is not None:
            r["label"] = seq.label
        recs.append(r)
    return pd.DataFrame(recs)


def bedgraph_lines(seq: Sequence, scores: np.ndarray, precision: int = 6) -> list[str]:
    """bedGraph lines (``chrom start end value``, 0-based half-open, forward-strand genomic coordinates) for a
    BED-derived sequence; runs of equal value are merged."""
    if not seq.has_coordinates:
        raise InputError(f"sequence '{seq.id}' has no genomic coordinates (load it from BED + reference)")
    g = seq.genomic_positions()
    order = np.argsort(g)
    g, v = g[order], np.round(np.asarray(scores, dtype=np.float64)[order], precision)
    lines = []
    s = 0
    for i in range(1, len(g) + 1):
        if i == len(g) or v[i] != v[s] or g[i] != g[i - 1] + 1:
            lines.append(f"{seq.chrom}\t{g[s]}\t{g[i - 1] + 1}\t{v[s]:.{precision}g}")
            s = i
    return lines


def provenance(model_card: dict, params: dict, inputs: dict[str, bytes | str]) -> dict:
    """What produced an export: model (name, config hash, ...), parameters, package versions, input checksums."""
    import hashlib
    import platform
    from datetime import datetime, timezone
    from importlib import metadata

    versions = {}
    for pkg in (
        "dnalens",
        "torch",
        "transformers",
        "numpy",
        "pandas",
        "scipy",
        "statsmodels",
        "biopython",
        "pyfaidx",
        "logomaker",
        "memelite",
        "pyjaspar",
        "plotly",
        "streamlit",
        "bertviz",
        "matplotlib",
    ):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    sums = {
        name: hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()
        for name, data in inputs.items()
    }
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "model": model_card,
        "parameters": params,
        "packages": versions,
        "python": platform.python_version(),
        "inputs_sha256": sums,
    }


def zip_bundle(files: dict[str, bytes | str]) -> bytes:
    """A zip archive (in memory) of ``{path: content}``."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()
