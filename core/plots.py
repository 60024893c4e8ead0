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
