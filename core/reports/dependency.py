"""The ``dnalens dependency`` output folder and the dependency-map figures (static and plotly)."""

from __future__ import annotations

import json
import os
import time

import numpy as np

from ..io.atomic import atomic_dir
from ..io.sequences import Sequence

README = (
    "dependency.npy: float32 [L, L], D[i, j] in bits: how much substituting base j (columns) changes the masked "
    "LM's predicted distribution at base i (rows), max over the substitutions at j and the four bases at i of the "
    "absolute log2-odds change (core/lenses/dependency.py). Positions are 0-based along the sequence as given; "
    "the diagonal is 0.\nprobabilities.npy: float32 [L, 4], the reference sequence's per-base distributions "
    "(A, C, G, T).\n"
)


def dependency_figure(matrix: np.ndarray, seq: str, title: str = "", first: int = 0):
    """Heatmap of a dependency map ``[L, L]`` (rows: target i, columns: substituted j), viridis, bits; ``first``:
    the position of the map's first base in its sequence (a window's start), so the axes read sequence positions."""
    from .figures import SEQ_CMAP, _mpl

    plt = _mpl()
    L = len(matrix)
    size = max(4.5, min(12.0, L / 18))
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    extent = (first - 0.5, first + L - 0.5, first + L - 0.5, first - 0.5)
    im = ax.imshow(matrix, cmap=SEQ_CMAP, origin="upper", interpolation="nearest", aspect="equal", extent=extent)
    if L <= 60:
        ax.set_xticks(range(first, first + L))
        ax.set_xticklabels([f"{b}" for b in seq], fontsize=5, family="monospace")
        ax.set_yticks(range(first, first + L))
        ax.set_yticklabels([f"{b}" for b in seq], fontsize=5, family="monospace")
    ax.set_xlabel("substituted base j: position (bp, 0-based)")
    ax.set_ylabel("predicted base i: position (bp, 0-based)")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="dependency (bits, max |Δ log2-odds|)")
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def plotly_dependency(matrix: np.ndarray, seq: str, title: str = "", first: int = 0):
    """The same map as an interactive plotly heatmap (hover: both positions, their bases, the value); ``first`` as
    in :func:`dependency_figure`."""
    import plotly.graph_objects as go

    L = len(matrix)
    bases = np.array(list(seq))
    text = np.char.add(np.char.add(bases[:, None], ">"), bases[None, :])  # target base, substituted base
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=first + np.arange(L),
            y=first + np.arange(L),
            colorscale="Viridis",
            customdata=text,
            colorbar=dict(title=dict(text="bits", side="right")),
            hovertemplate="predicted i=%{y} · substituted j=%{x}<br>bases (i>j): %{customdata}<br>"
            "dependency %{z:.3f} bits<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        xaxis=dict(
            title="substituted base j: position (bp, 0-based)", range=[first - 0.5, first + L - 0.5], constrain="domain"
        ),
        yaxis=dict(
            title="predicted base i: position (bp, 0-based)",
            range=[first + L - 0.5, first - 0.5],  # reversed: position 0 at the top
            scaleanchor="x",
            constrain="domain",
        ),
        height=min(900, 250 + 4 * L),
    )
    return fig


def dependency_report(
    model,
    seq: Sequence,
    out: str | os.PathLike,
    *,
    batch_size: int = 128,
    orientation: str = "forward",
    progress=None,
    announce=None,
    threads: int | None = None,
):
    """Compute one sequence's dependency map and write ``dependency.npy``, ``probabilities.npy``,
    ``dependency.{png,svg,pdf}``, ``README.txt`` and ``run.json``. Returns the
    :class:`core.lenses.dependency.DependencyMap`."""
    from ..lenses.dependency import dependency_map
    from .figures import close, save_figure

    t0 = time.time()
    dm = dependency_map(model, seq, batch_size=batch_size, orientation=orientation, progress=progress, threads=threads)
    seconds = time.time() - t0
    with atomic_dir(out, announce) as tmp:
        np.save(tmp / "dependency.npy", dm.matrix.astype(np.float32))
        np.save(tmp / "probabilities.npy", dm.ref_probs.astype(np.float32))
        fig = dependency_figure(
            dm.matrix, dm.seq, title=f"{seq.id}: nucleotide dependencies, model {model.name}, {orientation}"
        )
        for fmt in ("png", "svg", "pdf"):
            save_figure(fig, tmp / f"dependency.{fmt}")
        close(fig)
        (tmp / "README.txt").write_text(README)
        run = {
            "id": seq.id,
            "length": len(seq.seq),
            "model": model.card(),
            "orientation": orientation,
            "combine": dm.combine,
            "masked_forward_passes": dm.passes,
            "torch_threads": threads,
            "seconds": round(seconds, 1),
            "max_dependency_bits": float(np.max(dm.matrix)) if dm.matrix.size else 0.0,
        }
        (tmp / "run.json").write_text(json.dumps(run, indent=2, default=str))
    return dm
