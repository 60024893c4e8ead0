"""Figures: matplotlib for static export (PNG/SVG/PDF, no browser needed) and plotly for interactive views.

Every builder takes plain data (numpy arrays, strings) and returns a figure; :func:`figure_bytes` turns a
matplotlib figure into PNG/SVG/PDF bytes, :func:`plotly_bytes` a plotly figure into HTML, or into PNG/SVG/PDF
through kaleido (needs Chromium), falling back to a matplotlib rendering given by the caller.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd

STATIC_FORMATS = ("png", "svg", "pdf")
# colour-blind-safe base colours (Okabe-Ito): A green, C blue, G orange, T vermillion
BASE_COLORS = {"A": "#009E73", "C": "#0072B2", "G": "#E69F00", "T": "#D55E00"}
SEQ_CMAP = "viridis"          # sequential, perceptually uniform, colour-blind safe
DIV_CMAP = "RdBu_r"           # diverging, centred at 0


def _mpl():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def figure_bytes(fig, fmt: str, dpi: int = 200) -> bytes:
    """A matplotlib figure as PNG, SVG or PDF bytes."""
    fmt = fmt.lower()
    if fmt not in STATIC_FORMATS:
        raise ValueError(f"unknown figure format '{fmt}' (use png, svg or pdf)")
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def save_figure(fig, path: str | os.PathLike, dpi: int = 200) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(figure_bytes(fig, path.suffix.lstrip("."), dpi))
    return path


def close(fig) -> None:
    _mpl().close(fig)


# --------------------------------------------------------------------------------------------------------------
# logos

def logo_figure(ppm: np.ndarray, mode: str = "information", title: str = "", width_per_col: float = 0.35):
    """Sequence logo of a PPM ``[W, 4]`` (A, C, G, T) with logomaker: ``information`` (bits, uniform background)
    or ``probability``."""
    import logomaker

    plt = _mpl()
    df = pd.DataFrame(np.asarray(ppm, dtype=np.float64), columns=list("ACGT"))
    if mode == "information":
        df = logomaker.transform_matrix(df, from_type="probability", to_type="information")
        ylabel, ymax = "bits", 2.0
    elif mode == "probability":
        ylabel, ymax = "probability", 1.0
    else:
        raise ValueError("logo mode must be 'information' or 'probability'")
    fig, ax = plt.subplots(figsize=(max(3.0, width_per_col * len(df) + 1), 2.2))
    logomaker.Logo(df, ax=ax, color_scheme=BASE_COLORS, font_name="DejaVu Sans Mono")
    ax.set_ylim(0, ymax)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("position in motif window (bp)")
    ax.set_xticks(range(len(df)))
    ax.set_xticklabels([str(i + 1) for i in range(len(df))], fontsize=7)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------------------
# attention and mutation figures (static)

def _position_axis(ax, start: int, n: int, genomic: np.ndarray | None, chrom: str | None):
    if genomic is not None:
        ticks = np.linspace(0, n - 1, min(n, 6)).astype(int)
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{int(genomic[t]):,}" for t in ticks], fontsize=7)
        ax.set_xlabel(f"{chrom} position (bp, 0-based)")
    else:
        ax.set_xlabel("position (bp)")


def attention_track_figure(seq: str, scores: np.ndarray, title: str = "", genomic: np.ndarray | None = None,
                           chrom: str | None = None):
    """Heatmap strip (bases written when there are few) and line plot of a nucleotide attention track."""
    plt = _mpl()
    L = len(scores)
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(max(6, min(16, L / 8)), 2.6), sharex=True,
                                   gridspec_kw={"height_ratios": [1, 2]})
    ax0.imshow(np.asarray(scores)[None, :], aspect="auto", cmap=SEQ_CMAP, extent=(-0.5, L - 0.5, 0, 1))
    ax0.set_yticks([])
    if L <= 120:
        for i, b in enumerate(seq[:L]):
            ax0.text(i, 0.5, b, ha="center", va="center", fontsize=6, color="white", family="monospace")
    ax1.plot(np.arange(L), scores, color="#0072B2", lw=1)
    ax1.set_ylabel("attention")
    ax1.set_xlim(-0.5, L - 0.5)
    _position_axis(ax1, 0, L, genomic, chrom)
    if title:
        ax0.set_title(title)
    fig.tight_layout()
    return fig


def mutation_map_figure(effect: np.ndarray, ref_seq: str, start: int = 0, attention: np.ndarray | None = None,
                        summary: np.ndarray | None = None, title: str = "", genomic: np.ndarray | None = None,
                        chrom: str | None = None, label: str = "Δ p"):
    """ISM map: attention track on top, the ``[4, W]`` effect heatmap (diverging, centred at 0; the reference
    base marked with a dot) and a per-position summary track below (the DNABERT paper's Fig. 6 layout)."""
    plt = _mpl()
    W = effect.shape[1]
    panels = [("att", 1)] if attention is not None else []
    panels += [("map", 2)] + ([("sum", 1)] if summary is not None else [])
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(6, min(18, W / 6)), 1.2 + 1.2 * len(panels)),
                             sharex=True, gridspec_kw={"height_ratios": [h for _, h in panels]})
    axes = np.atleast_1d(axes)
    x = np.arange(W)
    for ax, (kind, _) in zip(axes, panels):
        if kind == "att":
            ax.plot(x, attention, color="#0072B2", lw=1)
            ax.fill_between(x, attention, color="#0072B2", alpha=0.2)
            ax.set_ylabel("attention")
        elif kind == "map":
            lim = float(np.nanmax(np.abs(effect))) or 1.0
            im = ax.imshow(effect, aspect="auto", cmap=DIV_CMAP, vmin=-lim, vmax=lim,
                           extent=(-0.5, W - 0.5, 3.5, -0.5), interpolation="nearest")
            ax.set_yticks(range(4))
            ax.set_yticklabels(list("ACGT"))
            refs = [("ACGT".index(b) if b in "ACGT" else None) for b in ref_seq[:W]]
            xs = [i for i, r in enumerate(refs) if r is not None]
            ax.scatter(xs, [refs[i] for i in xs], s=4, c="black", marker="o", label="reference base")
            cb = fig.colorbar(im, ax=ax, fraction=0.02, pad=0.01)
            cb.set_label(label)
        else:
            ax.bar(x, summary, color="#555555", width=1.0)
            ax.set_ylabel("max |Δ p|")
    axes[-1].set_xlim(-0.5, W - 0.5)
    if genomic is not None:
        _position_axis(axes[-1], start, W, genomic[start:start + W], chrom)
    else:
        ticks = np.linspace(0, W - 1, min(W, 8)).astype(int)
        axes[-1].set_xticks(ticks)
        axes[-1].set_xticklabels([str(start + t) for t in ticks])
        axes[-1].set_xlabel("position (bp)")
    if title:
        axes[0].set_title(title)
    fig.tight_layout()
    return fig


def before_after_figure(ref_track: np.ndarray, alt_on_ref: np.ndarray, offset: int, title: str = "",
                        ref_len_marked: int = 1):
    """Reference vs mutant attention on reference coordinates (deleted bases are gaps) and their difference."""
    plt = _mpl()
    L = len(ref_track)
    x = np.arange(L)
    fig, (ax0, ax1) = plt.subplots(2, 1, figsize=(max(6, min(16, L / 8)), 3.2), sharex=True,
                                   gridspec_kw={"height_ratios": [2, 1]})
    ax0.plot(x, ref_track, color="#0072B2", lw=1.2, label="reference")
    ax0.plot(x, alt_on_ref, color="#D55E00", lw=1.2, label="mutant")
    for a in (ax0, ax1):
        a.axvspan(offset - 0.5, offset - 0.5 + max(1, ref_len_marked), color="#E69F00", alpha=0.3)
    ax0.set_ylabel("attention")
    ax0.legend(fontsize=7, frameon=False)
    ax1.bar(x, np.nan_to_num(alt_on_ref - ref_track), color="#555555", width=1.0)
    ax1.set_ylabel("mutant − ref")
    ax1.set_xlabel("reference position (bp)")
    ax1.set_xlim(-0.5, L - 0.5)
    if title:
        ax0.set_title(title)
    fig.tight_layout()
    return fig
