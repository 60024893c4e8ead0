"""Known motif sites on sequences: a truth table (``id, start, end``, 0-based half-open) or a JASPAR scan with
memelite's FIMO. Sites are ``{sequence id: [(start, end), ...]}``; the agreement report asks whether a lens's peak
falls in one."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..errors import InputError

Sites = dict[str, list[tuple[int, int]]]


def read_sites(path: str | os.PathLike) -> Sites:
    """Sites from a table with ``id``, ``start`` and ``end`` columns (TSV or CSV; 0-based, half-open, as
    ``sample_data/truth.tsv`` and BED). Rows with an empty start (negatives, decoys) hold no site."""
    from ..io.files import open_text

    with open_text(path, "truth table") as fh:
        text = fh.read()
    return parse_sites(text, str(path))


def parse_sites(text: str, source: str = "truth table") -> Sites:
    """Sites from the text of a truth table (an upload: parsed as text, never opened as a path); see
    :func:`read_sites`. ``source`` names it in messages."""
    first = text.split("\n", 1)[0]
    sep = "\t" if "\t" in first else ","
    import io

    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype={"id": str})
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read the table: {exc}", source=source) from None
    missing = [c for c in ("id", "start", "end") if c not in df.columns]
    if missing:
        raise InputError(
            f"the truth table needs columns id, start, end (0-based, half-open); missing: {', '.join(missing)}",
            source=source,
        )
    df = df[df["start"].notna() & df["end"].notna()]
    sites: Sites = {}
    for i, r in zip(df.index, df.itertuples(index=False)):
        try:
            s, e = int(r.start), int(r.end)
        except (TypeError, ValueError):
            raise InputError(
                f"start/end must be whole numbers, not {r.start!r}/{r.end!r}", source=source, line=i + 2
            ) from None
        if not 0 <= s < e:
            raise InputError(f"a site needs 0 <= start < end, not {s}-{e}", source=source, line=i + 2)
        sites.setdefault(str(r.id), []).append((s, e))
    return sites


def one_hot(seqs: list[str]) -> np.ndarray:
    """``[N, 4, L_max]`` one-hot (A, C, G, T; N and padding all zero), FIMO's layout."""
    L = max((len(s) for s in seqs), default=0)
    X = np.zeros((len(seqs), 4, L))
    code = np.full(256, 4, dtype=np.int64)
    for i, b in enumerate("ACGT"):
        code[ord(b)] = i
    for n, s in enumerate(seqs):
        c = code[np.frombuffer(s.encode("ascii"), dtype=np.uint8)]
        ok = c < 4
        X[n, c[ok], np.flatnonzero(ok)] = 1.0
    return X


def scan_sites(
    sequences: list, motif_ids: list[str], release: str | None = None, threshold: float = 1e-4
) -> tuple[Sites, pd.DataFrame]:
    """FIMO hits (p < ``threshold``, both strands) of the JASPAR matrices ``motif_ids`` on ``sequences``:
    ``(sites, hits table: id, motif, start, end, strand, score, p-value)``."""
    from memelite import fimo

    from .jaspar import DEFAULT_RELEASE, load_jaspar

    release = release or DEFAULT_RELEASE
    known = {m.id: m for m in load_jaspar(release, tax_group=None)}
    unknown = [m for m in motif_ids if m not in known]
    if unknown:
        raise InputError(f"JASPAR {release} has no matrix {', '.join(unknown)} (give matrix ids such as MA0139.2)")
    hits = fimo({m: known[m].ppm.T for m in motif_ids}, one_hot([s.seq for s in sequences]), threshold=threshold)
    table = pd.concat([h for h in hits if len(h)] or [pd.DataFrame(columns=hits[0].columns)], ignore_index=True)
    table = pd.DataFrame(
        {
            "id": [sequences[int(i)].id for i in table["sequence_name"]],
            "motif": table["motif_name"].astype(str),
            "start": table["start"].astype(int),
            "end": table["end"].astype(int),
            "strand": table["strand"],
            "score": table["score"].astype(float),
            "p-value": table["p-value"].astype(float),
        }
    )
    sites: Sites = {}
    for r in table.itertuples(index=False):
        sites.setdefault(r.id, []).append((int(r.start), int(r.end)))
    return sites, table
