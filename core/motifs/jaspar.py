"""Known motifs: JASPAR (offline, from pyjaspar's bundled SQLite), TOMTOM matching (memelite), MEME format.

TOMTOM statistics come from memelite (numba). Its first compile per input dtype takes about a minute; dnalens
always passes float64 and warms it once at install time (``python -m core.motifs.jaspar --warm``, run by ``make
install``), and numba caches the compiled code on disk. pyjaspar reads its SQLite and builds Biopython objects on
every call (seconds), so :func:`load_jaspar` keeps each collection's matrices as one ``.npz`` in the user cache
(:func:`cache_dir`), built on first use or by the warm step. The table has the columns of MEME's ``tomtom.tsv``:
E-value = p x number of targets, q-value = Benjamini-Hochberg over the query's targets.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError
from .stats import benjamini_hochberg

if TYPE_CHECKING:
    import pandas as pd  # imported where used: pandas costs ~0.3 s at start-up

DEFAULT_RELEASE = "JASPAR2026"
TOMTOM_COLUMNS = [
    "Query_ID",
    "Target_ID",
    "Target_name",
    "Optimal_offset",
    "p-value",
    "E-value",
    "q-value",
    "Overlap",
    "Query_consensus",
    "Target_consensus",
    "Orientation",
]


def _numba_cache_dir() -> None:
    """numba caches next to memelite's sources; use a user cache folder when site-packages is read-only."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("memelite")
        pkg = Path(spec.origin).parent if spec and spec.origin else None
        if pkg is not None and not os.access(pkg, os.W_OK):
            os.environ.setdefault("NUMBA_CACHE_DIR", str(cache_dir() / "numba"))
    except Exception:
        pass


@dataclass(frozen=True)
class KnownMotif:
    id: str
    name: str
    ppm: np.ndarray  # [w, 4] float64, columns A, C, G, T (dnalens's one orientation)

    @property
    def consensus(self) -> str:
        return "".join("ACGT"[i] for i in self.ppm.argmax(axis=1))


def cache_dir() -> Path:
    """Where dnalens keeps files it derives once and reuses: ``$DNALENS_CACHE_DIR``, else ``$XDG_CACHE_HOME/dnalens``,
    else ``~/.cache/dnalens``."""
    if os.environ.get("DNALENS_CACHE_DIR"):
        return Path(os.environ["DNALENS_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dnalens"


def _jaspar_cache(name: str) -> Path:
    """A file of the JASPAR cache, named for the installed pyjaspar (a new pyjaspar brings new files)."""
    from importlib.metadata import version

    return cache_dir() / "jaspar" / f"pyjaspar-{version('pyjaspar')}" / name


def _atomic_write(path: Path, write) -> None:
    """``write(tmp_path)`` then move it into place; a cache that cannot be written is simply not kept."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        write(tmp)
        os.replace(tmp, path)
    except OSError:
        pass


def jaspar_releases() -> list[str]:
    """The JASPAR releases pyjaspar ships (newest first); read from the cache after the first call."""
    path = _jaspar_cache("releases.txt")
    try:
        releases = path.read_text().split()
        if releases and all(r.startswith("JASPAR") for r in releases):
            return releases
    except OSError:
        pass
    from pyjaspar import jaspardb

    releases = list(jaspardb().get_releases())
    _atomic_write(path, lambda tmp: tmp.write_text("\n".join(releases) + "\n"))
    return releases


def fetch_jaspar(
    release: str = DEFAULT_RELEASE, collection: str = "CORE", tax_group: str | None = "vertebrates"
) -> tuple[KnownMotif, ...]:
    """The latest version of every matrix in a JASPAR collection, read from pyjaspar's SQLite (seconds; use
    :func:`load_jaspar`, which caches this)."""
    from pyjaspar import jaspardb

    jdb = jaspardb(release=release)
    kwargs = {"collection": collection}
    if tax_group:
        kwargs["tax_group"] = [tax_group]
    out = []
    for m in jdb.fetch_motifs(**kwargs):
        counts = np.array([m.counts[b] for b in "ACGT"], dtype=np.float64).T  # [w, 4]
        ppm = (counts + 0.01) / (counts + 0.01).sum(axis=1, keepdims=True)
        out.append(KnownMotif(m.matrix_id, m.name, ppm))
    return tuple(out)


def _read_matrices(path: Path) -> tuple[KnownMotif, ...] | None:
    """The cached matrices, or None when the file is missing, unreadable or inconsistent."""
    try:
        with np.load(path, allow_pickle=False) as z:
            ids, names, widths, ppm = z["ids"], z["names"], z["widths"], z["ppm"]
            ok = int(z["format"]) == 1 and len(ids) == len(names) == len(widths) and ppm.shape == (widths.sum(), 4)
    except Exception:  # missing, truncated, not an npz, wrong keys: rebuild
        return None
    if not ok or not np.isfinite(ppm).all() or not np.allclose(ppm.sum(axis=1), 1.0):
        return None
    ends = np.cumsum(widths)
    return tuple(KnownMotif(str(i), str(n), ppm[e - w : e]) for i, n, w, e in zip(ids, names, widths, ends))


def _write_matrices(path: Path, motifs: tuple[KnownMotif, ...]) -> None:
    def write(tmp):
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                format=np.int64(1),
                ids=np.array([m.id for m in motifs], dtype=str),
                names=np.array([m.name for m in motifs], dtype=str),
                widths=np.array([len(m.ppm) for m in motifs], dtype=np.int64),
                ppm=np.concatenate([m.ppm for m in motifs]) if motifs else np.zeros((0, 4)),
            )

    _atomic_write(path, write)


@lru_cache(maxsize=8)
def load_jaspar(
    release: str = DEFAULT_RELEASE, collection: str = "CORE", tax_group: str | None = "vertebrates"
) -> tuple[KnownMotif, ...]:
    """The latest version of every matrix in a JASPAR collection (vertebrates by default), as PPMs: pyjaspar's
    matrices, cached per release, collection and group as an ``.npz`` under :func:`cache_dir` (rebuilt when missing
    or corrupt), so later runs read one small file instead of pyjaspar's SQLite."""
    releases = jaspar_releases()
    if release not in releases:
        raise InputError(f"JASPAR release '{release}' does not exist here; available: {', '.join(releases)}")
    path = _jaspar_cache(f"{release}-{collection}-{tax_group or 'all'}.npz")
    out = _read_matrices(path)
    if out is None:
        out = fetch_jaspar(release, collection, tax_group)
        if out:
            _write_matrices(path, out)
    if not out:
        raise InputError(f"no {collection} motifs for '{tax_group}' in {release}")
    return out


def _tomtom(queries: list[np.ndarray], targets: list[np.ndarray]):
    """memelite's TOMTOM on ``[W, 4]`` matrices (transposed here to its ``[4, W]`` layout, float64)."""
    _numba_cache_dir()
    from memelite import tomtom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tomtom(
            [np.ascontiguousarray(np.asarray(q, dtype=np.float64).T) for q in queries],
            [np.ascontiguousarray(np.asarray(t, dtype=np.float64).T) for t in targets],
            n_jobs=1,
        )


def warm_tomtom() -> None:
    """Compile memelite's numba kernels for float64 once (cached on disk afterwards)."""
    rng = np.random.default_rng(0)
    qs = [rng.dirichlet(np.ones(4), size=8) for _ in range(2)]
    ts = [rng.dirichlet(np.ones(4), size=10) for _ in range(30)]
    _tomtom(qs, ts)


def tomtom_table(
    queries: dict[str, np.ndarray], targets: tuple[KnownMotif, ...] | list[KnownMotif], n_best: int | None = 5
) -> pd.DataFrame:
    """Compare query PPMs (``{id: [W, 4]}``, columns A, C, G, T) with known motifs; the ``n_best`` best targets per
    query by p-value (all if None), in MEME ``tomtom.tsv`` columns."""
    import pandas as pd

    if not queries:
        return pd.DataFrame(columns=TOMTOM_COLUMNS)
    names = list(queries)
    Q = [np.asarray(queries[n], dtype=np.float64) for n in names]
    T = [t.ppm for t in targets]
    p, _scores, offsets, overlaps, strands = _tomtom(Q, T)
    rows = []
    nT = len(T)
    for qi, qn in enumerate(names):
        qcons = "".join("ACGT"[i] for i in Q[qi].argmax(axis=1))
        qv = benjamini_hochberg(p[qi])
        order = np.argsort(p[qi], kind="stable")
        if n_best is not None:
            order = order[:n_best]
        for ti in order:
            rows.append(
                {
                    "Query_ID": qn,
                    "Target_ID": targets[ti].id,
                    "Target_name": targets[ti].name,
                    "Optimal_offset": int(offsets[qi, ti]),
                    "p-value": float(p[qi, ti]),
                    "E-value": float(p[qi, ti]) * nT,
                    "q-value": float(qv[ti]),
                    "Overlap": int(overlaps[qi, ti]),
                    "Query_consensus": qcons,
                    "Target_consensus": targets[ti].consensus,
                    "Orientation": "-" if int(strands[qi, ti]) == 1 else "+",
                }
            )
    return pd.DataFrame(rows, columns=TOMTOM_COLUMNS)


def write_meme(
    motifs: list[tuple[str, np.ndarray, int]],
    path: str | os.PathLike,
    background: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25),
) -> None:
    """Write :func:`meme_text` to ``path``."""
    Path(path).write_text(meme_text(motifs, background))


def meme_text(
    motifs: list[tuple[str, np.ndarray, int]], background: tuple[float, float, float, float] = (0.25, 0.25, 0.25, 0.25)
) -> str:
    """MEME minimal motif format: ``motifs`` is a list of ``(name, ppm [W, 4] A/C/G/T, nsites)``."""
    lines = [
        "MEME version 5",
        "",
        "ALPHABET= ACGT",
        "",
        "strands: + -",
        "",
        "Background letter frequencies",
        "A {:.3f} C {:.3f} G {:.3f} T {:.3f}".format(*background),
        "",
    ]
    for name, ppm, nsites in motifs:
        ppm = np.asarray(ppm, dtype=np.float64)
        ppm = ppm / ppm.sum(axis=1, keepdims=True)
        safe = "_".join(str(name).split())
        lines.append(f"MOTIF {safe}")
        lines.append(f"letter-probability matrix: alength= 4 w= {ppm.shape[0]} nsites= {int(nsites)} E= 0")
        lines.extend(" ".join(f"{v:.6f}" for v in row) for row in ppm)
        lines.append("")
    return "\n".join(lines)


def query_matrices(result, trim: bool = True) -> dict[str, np.ndarray]:
    """PPMs ``[w, 4]`` to compare with known motifs: each motif's informative core (columns with >= 0.5 bits
    between the first and last such column), or the whole window when no column is informative."""
    out = {}
    for m in result.motifs:
        a, b = compared_columns(m, trim)
        out[m.name] = m.ppm[a:b]
    return out


def compared_columns(motif, trim: bool = True) -> tuple[int, int]:
    """``(start, end)``: the columns of ``motif.ppm`` that :func:`query_matrices` compares with known motifs (the
    informative core when it has at least 4 columns, else the whole window)."""
    W = len(motif.ppm)
    a, b = motif.core if trim else (0, W)
    return (a, b) if b - a >= 4 else (0, W)


def motif_alignment(motif, match: dict, known: KnownMotif, trim: bool = True) -> MatchAlignment:
    """A discovered motif's whole window beside the known motif of one TOMTOM row (``match``: a row of
    :func:`tomtom_table` as a dict, whose offset refers to the compared columns)."""
    return match_alignment(
        motif.ppm, known.ppm, int(match["Optimal_offset"]), str(match["Orientation"]), compared_columns(motif, trim)[0]
    )


def match_jaspar(
    result, release: str | None = None, n_best: int = 5, tax_group: str | None = "vertebrates"
) -> pd.DataFrame:
    """TOMTOM (memelite) of every discovered motif against JASPAR CORE; MEME ``tomtom.tsv`` columns."""
    targets = load_jaspar(release or DEFAULT_RELEASE, "CORE", tax_group)
    return tomtom_table(query_matrices(result), targets, n_best=n_best)


@dataclass(frozen=True)
class MatchAlignment:
    """A query motif and its TOMTOM match drawn in one column frame (0 … ``width`` - 1).

    query: the query's ``[Wq, 4]`` matrix as given, its column 0 at frame column ``query_start``.
    target: the target's ``[Wt, 4]`` matrix **in the orientation that matched** (reverse-complemented when TOMTOM's
    orientation is ``-``), its column 0 at frame column ``target_start``.
    """

    query: np.ndarray
    target: np.ndarray
    query_start: int
    target_start: int
    width: int
    orientation: str


def match_alignment(
    query: np.ndarray, target: np.ndarray, offset: int, orientation: str, query_core_start: int = 0
) -> MatchAlignment:
    """Place a query ``[Wq, 4]`` and a known motif ``[Wt, 4]`` (A, C, G, T) as TOMTOM aligned them.

    TOMTOM's (memelite's) ``Optimal_offset`` is the column of the target, read in the matched orientation (its
    reverse complement for ``-``), where column 0 of the compared query matrix lies; ``tests/test_lens_views.py``
    checks this on slices of a JASPAR matrix. ``query_core_start``: where the compared matrix starts inside ``query``
    (:func:`query_matrices` compares a motif's informative core, ``Motif.core``)."""
    q = np.asarray(query, dtype=np.float64)
    t = np.asarray(target, dtype=np.float64)
    if orientation not in ("+", "-"):
        raise InputError(f"unknown TOMTOM orientation '{orientation}' (use + or -)")
    if orientation == "-":
        t = t[::-1, ::-1]
    shift = int(query_core_start) - int(offset)  # the target's column 0 in query columns
    first = min(0, shift)
    width = max(len(q), shift + len(t)) - first
    return MatchAlignment(q, t, -first, shift - first, width, orientation)


if __name__ == "__main__":
    if "--warm" in sys.argv:
        import time

        t0 = time.time()
        warm_tomtom()
        print(f"memelite TOMTOM kernels ready ({time.time() - t0:.1f} s)")
        t0 = time.time()
        n = len(load_jaspar())
        print(f"JASPAR {DEFAULT_RELEASE} vertebrates cached in {cache_dir()} ({n} matrices, {time.time() - t0:.1f} s)")
