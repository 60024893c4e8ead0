"""A dashboard session in one file, to send an analysis to a colleague: the inputs (sequences with their labels and
coordinates, and the input files' bytes), the settings, the chosen model and the results needed to redraw (the
shown lens's tracks, the predictions, the result tables).

The file is a zip of plain formats only, never pickle: ``session.json`` (format, version, model, settings,
sequences, lens), ``results/tracks.npz`` (``[n, L_max]`` float64, NaN past each sequence's end, loaded with
``allow_pickle=False``), ``results/predictions.npy``, ``results/tables/<name>.parquet`` and ``inputs/<name>``.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.sequences import Sequence

FORMAT = "dnalens-session"
VERSION = 1
MAX_UNPACKED = 2 * 2**30  # refuse archives that would unpack to more than 2 GB


@dataclass
class Session:
    """Everything a session file holds. ``tracks[i]`` belongs to ``sequences[i]`` under ``lens`` (its
    :meth:`core.lenses.base.Lens.params`); ``predictions`` is ``[n, n_classes]``."""

    sequences: list[Sequence]
    model: dict  # name, device, dtype, trust_remote_code
    settings: dict = field(default_factory=dict)  # widget key -> value (JSON types)
    selected: str | None = None
    source_label: str = ""
    inputs: dict[str, bytes] = field(default_factory=dict)
    lens: dict | None = None
    tracks: list[np.ndarray] | None = None
    predictions: np.ndarray | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def _seq_record(s: Sequence) -> dict:
    return {
        "id": s.id,
        "seq": s.seq,
        "label": s.label,
        "description": s.description,
        "source": s.source,
        "chrom": s.chrom,
        "start": s.start,
        "end": s.end,
        "strand": s.strand,
    }


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


def session_bytes(s: Session) -> bytes:
    """The session as one zip file (see the module docstring for its members)."""
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "model": s.model,
        "settings": s.settings,
        "selected": s.selected,
        "source_label": s.source_label,
        "lens": s.lens,
        "sequences": [_seq_record(q) for q in s.sequences],
        "inputs": sorted(s.inputs),
        "tables": sorted(s.tables),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("session.json", json.dumps(doc, indent=1, default=_json_default))
        for i, (_name, data) in enumerate(sorted(s.inputs.items())):
            z.writestr(f"inputs/{i}", data if isinstance(data, bytes) else str(data).encode())
        if s.tracks is not None:
            n, width = len(s.tracks), max((len(t) for t in s.tracks), default=0)
            mat = np.full((n, width), np.nan)
            for i, t in enumerate(s.tracks):
                mat[i, : len(t)] = t
            z.writestr("results/tracks.npy", _npy(mat))
            z.writestr("results/track_lengths.npy", _npy(np.array([len(t) for t in s.tracks], dtype=np.int64)))
        if s.predictions is not None:
            z.writestr("results/predictions.npy", _npy(np.asarray(s.predictions, dtype=np.float64)))
        for name, df in sorted(s.tables.items()):
            tb = io.BytesIO()
            df.to_parquet(tb, index=False)
            z.writestr(f"results/tables/{_safe(name)}.parquet", tb.getvalue())
    return buf.getvalue()


def _json_default(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (tuple, set, np.ndarray)):
        return list(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in a session file")


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) or "_"


def _load_npy(z: zipfile.ZipFile, name: str, source: str) -> np.ndarray:
    try:
        return np.load(io.BytesIO(z.read(name)), allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise InputError(f"{name} is not a plain numeric array ({exc})", source=source) from None


def _sequences(records: list, source: str) -> list[Sequence]:
    import re

    bad = re.compile(r"[^ACGTN]")
    seen, out = set(), []
    for i, r in enumerate(records):
        if not isinstance(r, dict) or not isinstance(r.get("id"), str) or not isinstance(r.get("seq"), str):
            raise InputError(f"sequence {i + 1} in session.json has no id or bases", source=source)
        if r["id"] in seen:
            raise InputError(f"duplicate sequence id '{r['id']}' in session.json", source=source)
        if not r["seq"] or bad.search(r["seq"]):
            raise InputError(f"sequence '{r['id']}' in session.json is empty or not A/C/G/T/N", source=source)
        seen.add(r["id"])
        keep = {k: r.get(k) for k in ("label", "chrom", "start", "end", "strand")}
        out.append(Sequence(r["id"], r["seq"], r.get("description") or "", r.get("source") or "", **keep))
    return out


def read_session(data: bytes, source: str = "session file") -> Session:
    """A session written by :func:`session_bytes`; anything else is refused with a message."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise InputError("not a dnalens session file (not a zip archive)", source=source) from None
    with z:
        if sum(i.file_size for i in z.infolist()) > MAX_UNPACKED:
            raise InputError("the session file unpacks to more than 2 GB; refused", source=source)
        try:
            doc = json.loads(z.read("session.json"))
        except KeyError:
            raise InputError("not a dnalens session file (no session.json inside)", source=source) from None
        except ValueError as exc:
            raise InputError(f"session.json is not valid JSON ({exc})", source=source) from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise InputError("not a dnalens session file (session.json has another format)", source=source)
        if doc.get("version") != VERSION:
            raise InputError(f"session file version {doc.get('version')} is not supported (this is {VERSION})", source)
        seqs = _sequences(doc.get("sequences") or [], source)
        names = set(z.namelist())
        tracks = None
        if "results/tracks.npy" in names:
            mat = _load_npy(z, "results/tracks.npy", source)
            lengths = _load_npy(z, "results/track_lengths.npy", source)
            if mat.ndim != 2 or len(mat) != len(seqs) or len(lengths) != len(seqs):
                raise InputError("the saved tracks do not match the saved sequences", source=source)
            tracks = [mat[i, : int(n)].astype(np.float64) for i, n in enumerate(lengths)]
        preds = _load_npy(z, "results/predictions.npy", source) if "results/predictions.npy" in names else None
        tables = {
            t: pd.read_parquet(io.BytesIO(z.read(f"results/tables/{_safe(t)}.parquet")))
            for t in doc.get("tables", [])
            if f"results/tables/{_safe(t)}.parquet" in names
        }
        inputs = {n: z.read(f"inputs/{i}") for i, n in enumerate(doc.get("inputs", [])) if f"inputs/{i}" in names}
    return Session(
        sequences=seqs,
        model=dict(doc.get("model") or {}),
        settings=dict(doc.get("settings") or {}),
        selected=doc.get("selected"),
        source_label=str(doc.get("source_label") or ""),
        inputs=inputs,
        lens=doc.get("lens"),
        tracks=tracks,
        predictions=preds,
        tables=tables,
    )


def lens_of(params: dict | None):
    """The lens a session's ``lens`` entry describes (JSON lists back to tuples), or None."""
    if not params:
        return None
    from ..lenses import make_lens

    opts = {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items() if k != "lens"}
    return make_lens(params.get("lens", "attention"), **opts)
