"""Reading precomputed per-nucleotide scores: a ``dnalens tracks``/``attention`` table, or an ``.npy`` matrix
``[n, width]`` in FASTA order such as DNABERT-viz's ``atten.npy``.

Everything is checked before use: an array must be numeric and two-dimensional with one row per sequence, and
finite over each sequence's own length (NaN past a row's end, as ``dnalens tracks --out x.npy`` writes, is fine);
a table must have ``id``, ``position`` and ``score`` columns, whole positions ``0 .. L-1`` once each per id, and
finite scores. Anything else is an :class:`InputError` naming the file, the record and what is wrong.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import InputError
from .files import check_regular_file
from .sequences import Sequence

_READ_ERRORS = (ValueError, OSError, EOFError, KeyError, TypeError)


def read_score_file(path: str | os.PathLike, seqs: list[Sequence]) -> list[np.ndarray]:
    """One score row per sequence of ``seqs``: from a table by id, or from an ``.npy`` by row (FASTA order; longer
    rows are cut at each sequence's length, as DNABERT-viz's ``find_motifs.py`` does)."""
    path = check_regular_file(path, "scores file")
    if path.endswith(".npy"):
        return _rows_of_array(_load_array(path), seqs, path)
    table = read_scores_table(path)
    missing = [s.id for s in seqs if s.id not in table]
    if missing:
        raise InputError(
            f"no scores for {len(missing)} positives (first: '{missing[0]}'); the table's ids must match the FASTA ids",
            source=path,
        )
    return [table[s.id] for s in seqs]


def _load_array(path: str) -> np.ndarray:
    try:
        arr = np.load(path, allow_pickle=False)
    except _READ_ERRORS as exc:
        raise InputError(
            f"not a numeric .npy array ({exc}); write it with numpy.save from a float array", source=path
        ) from None
    if not isinstance(arr, np.ndarray):  # an .npz archive saved as .npy
        raise InputError("this is an .npz archive, not one .npy array; save the scores with numpy.save", source=path)
    if arr.dtype.kind not in "fiu":
        raise InputError(f"the array holds {arr.dtype} values; scores must be numbers (float)", source=path)
    return arr


def _rows_of_array(arr: np.ndarray, seqs: list[Sequence], path: str) -> list[np.ndarray]:
    if arr.ndim != 2 or arr.shape[0] != len(seqs):
        raise InputError(
            f"scores array has shape {arr.shape}; expected [{len(seqs)}, length] (one row per "
            "positive, in FASTA order)",
            source=path,
        )
    rows = []
    for i, s in enumerate(seqs):
        row = arr[i].astype(np.float64)
        used = row[: len(s.seq)]
        bad = np.flatnonzero(~np.isfinite(used))
        if len(bad):
            raise InputError(
                f"row {i} has a non-finite score ({used[bad[0]]}) at position {bad[0]}, inside the sequence; "
                "scores must be finite over each sequence's length (NaN is allowed only past its end)",
                source=path,
                record=s.id,
            )
        rows.append(row)
    return rows


def read_scores_table(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """A table written by ``dnalens tracks`` (Parquet/CSV/TSV) back to ``{id: scores [L]}`` (input order),
    checked: columns ``id, position, score``; positions ``0 .. L-1`` once each per id; finite scores."""
    import pandas as pd

    from .tables import format_of

    fmt = format_of(path, ("parquet", "csv", "tsv"))
    path = check_regular_file(path, "scores table")
    try:
        if fmt == "parquet":
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", dtype={"id": str}, low_memory=False)
    except _READ_ERRORS as exc:
        raise InputError(f"cannot read the scores table ({type(exc).__name__}: {exc})", source=path) from None
    missing = [c for c in ("id", "position", "score") if c not in df.columns]
    if missing:
        found = ", ".join(map(str, df.columns[:8]))
        raise InputError(
            f"the scores table lacks the column(s) {', '.join(missing)}; it needs id, position and score (what "
            f"`dnalens tracks` writes); found: {found}",
            source=path,
        )
    return _tracks_of(df, path)


def _tracks_of(df, path: str) -> dict[str, np.ndarray]:
    import pandas as pd

    pos = pd.to_numeric(df["position"], errors="coerce").to_numpy(dtype=np.float64)
    score = pd.to_numeric(df["score"], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(pos) | (pos != np.round(pos)) | (pos < 0))
    if len(bad):
        raise InputError(
            f"row {bad[0] + 1}: position {df['position'].iloc[bad[0]]!r} is not a whole number >= 0", source=path
        )
    bad = np.flatnonzero(~np.isfinite(score))
    if len(bad):
        raise InputError(
            f"row {bad[0] + 1}: score {df['score'].iloc[bad[0]]!r} is not a finite number "
            f"(id '{df['id'].iloc[bad[0]]}', position {int(pos[bad[0]])})",
            source=path,
        )
    out = {}
    frame = pd.DataFrame({"id": df["id"].astype(str), "position": pos.astype(np.int64), "score": score})
    for rid, g in frame.groupby("id", sort=False):
        g = g.sort_values("position", kind="stable")
        if not np.array_equal(g["position"].to_numpy(), np.arange(len(g))):
            raise InputError(
                f"the positions of '{rid}' are not 0 .. {len(g) - 1}, once each (duplicates or gaps)", source=path
            )
        out[str(rid)] = g["score"].to_numpy(dtype=np.float64)
    return out
