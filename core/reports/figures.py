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

from .logos import BASE_COLORS  # noqa: F401 (colour-blind-safe base colours, defined with the logo letters)

STATIC_FORMATS = ("png", "svg", "pdf")
SEQ_CMAP = "viridis"  # sequential, perceptually uniform, colour-blind safe
DIV_CMAP = "RdBu_r"  # diverging, centred at 0


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


def safe_name(name: str) -> str:
    """A file-name-safe version of an id or motif name."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name)) or "_"


def close(fig) -> None:
    _mpl().close(fig)


# --------------------------------------------------------------------------------------------------------------
# logos


def logo_figure(ppm: np.ndarray, mode: str = "information", title: str = "", width_per_col: float = 0.35):
    """Sequence logo of a PPM ``[W, 4]`` (A, C, G, T): ``information`` (bits, uniform background) or
    ``probability``; logomaker's letters, drawn by :mod:`core.reports.logos`."""
    from .logos import logo_figure as draw

    return draw(ppm, mode, title=title, width_per_col=width_per_col)


# --------------------------------------------------------------------------------------------------------------
# attention and mutation figures (static)


POSITION = "position (bp, 0-based)"


def genome_axis(n: int, genomic: np.ndarray | None = None, chrom: str | None = None):
    """``(order, x, label)``: how a track of ``n`` bases is drawn. Without coordinates, base i at x = i. With
    genomic coordinates (a BED interval), each base at its 0-based forward-strand position, increasing to the right:
    a ``-`` strand read (``genomic`` decreasing) is drawn reversed, so every score sits over its own genomic base."""
    if genomic is None:
        return np.arange(n), np.arange(n), POSITION
    genomic = np.asarray(genomic)[:n]
    order = np.argsort(genomic, kind="stable")
    minus = n > 1 and genomic[0] > genomic[-1]
    label = f"{chrom} position (bp, 0-based, forward strand{'; - strand read, drawn right to left' if minus else ''})"
    return order, genomic[order], label


def _position_axis(ax, start: int, n: int, genomic: np.ndarray | None, chrom: str | None):
    """Tick labels for a panel drawn at x = 0..n-1 (sequence order): genomic positions when known."""
    if genomic is not None:
        ticks = np.linspace(0, n - 1, min(n, 6)).astype(int)
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{int(genomic[t]):,}" for t in ticks], fontsize=7)
        descending = n > 1 and genomic[0] > genomic[-1]
        ax.set_xlabel(
            f"{chrom} position (bp, 0-based, forward strand{'; - strand: decreasing to the right' if descending else ''})"
        )
    else:
        ax.set_xlabel(POSITION)


def attention_track_figure(
    seq: str,
    scores: np.ndarray,
    title: str = "",
    genomic: np.ndarray | None = None,
    chrom: str | None = None,
    score_name: str = "attention",
):
    """Heatmap strip (bases written when there are few) and line plot of a nucleotide track; with ``genomic``
    coordinates every base is drawn at its forward-strand genomic position (see :func:`genome_axis`)."""
    plt = _mpl()
    L = len(scores)
    order, x, xlabel = genome_axis(L, genomic, chrom)
    y = np.asarray(scores, dtype=np.float64)[order]
    fig, (ax0, ax1) = plt.subplots(
        2, 1, figsize=(max(6, min(16, L / 8)), 2.8), sharex=True, gridspec_kw={"height_ratios": [1, 2]}
    )
    ax0.imshow(y[None, :], aspect="auto", cmap=SEQ_CMAP, extent=(x[0] - 0.5, x[-1] + 0.5, 0, 1))
    ax0.set_yticks([])
    if L <= 120:
        for xi, i in zip(x, order):
            ax0.text(xi, 0.5, seq[i], ha="center", va="center", fontsize=6, color="white", family="monospace")
    ax1.plot(x, y, color="#0072B2", lw=1)
    ax1.set_ylabel(_wrap(score_name), fontsize=7)
    ax1.set_xlim(x[0] - 0.5, x[-1] + 0.5)
    ax1.set_xlabel(xlabel)
    if title:
        ax0.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int = 28) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


def mutation_map_figure(
    effect: np.ndarray,
    ref_seq: str,
    start: int = 0,
    attention: np.ndarray | None = None,
    summary: np.ndarray | None = None,
    title: str = "",
    genomic: np.ndarray | None = None,
    chrom: str | None = None,
    label: str = "Δ p",
    score_name: str = "attention",
):
    """ISM map: attention track on top, the ``[4, W]`` effect heatmap (diverging, centred at 0; the reference
    base marked with a dot) and a per-position summary track below (the DNABERT paper's Fig. 6 layout). Columns are
    in sequence order; with ``genomic`` coordinates the ticks name each column's genomic position."""
    plt = _mpl()
    W = effect.shape[1]
    panels = [("att", 1)] if attention is not None else []
    panels += [("map", 2)] + ([("sum", 1)] if summary is not None else [])
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(max(6, min(18, W / 6)), 1.2 + 1.2 * len(panels)),
        sharex=True,
        gridspec_kw={"height_ratios": [h for _, h in panels]},
    )
    axes = np.atleast_1d(axes)
    x = np.arange(W)
    for ax, (kind, _) in zip(axes, panels):
        if kind == "att":
            ax.plot(x, attention, color="#0072B2", lw=1)
            ax.fill_between(x, attention, color="#0072B2", alpha=0.2)
            ax.set_ylabel(_wrap(score_name, 20), fontsize=7)
        elif kind == "map":
            lim = float(np.nanmax(np.abs(effect))) or 1.0
            im = ax.imshow(
                effect,
                aspect="auto",
                cmap=DIV_CMAP,
                vmin=-lim,
                vmax=lim,
                extent=(-0.5, W - 0.5, 3.5, -0.5),
                interpolation="nearest",
            )
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
        _position_axis(axes[-1], start, W, genomic[start : start + W], chrom)
    else:
        ticks = np.linspace(0, W - 1, min(W, 8)).astype(int)
        axes[-1].set_xticks(ticks)
        axes[-1].set_xticklabels([str(start + t) for t in ticks])
        axes[-1].set_xlabel(POSITION)
    if title:
        axes[0].set_title(title)
    fig.tight_layout()
    return fig


def before_after_figure(
    ref_track: np.ndarray,
    alt_on_ref: np.ndarray,
    offset: int,
    title: str = "",
    ref_len_marked: int = 1,
    score_name: str = "attention",
):
    """Reference vs mutant attention on reference coordinates (deleted bases are gaps) and their difference."""
    plt = _mpl()
    L = len(ref_track)
    x = np.arange(L)
    fig, (ax0, ax1) = plt.subplots(
        2, 1, figsize=(max(6, min(16, L / 8)), 3.2), sharex=True, gridspec_kw={"height_ratios": [2, 1]}
    )
    ax0.plot(x, ref_track, color="#0072B2", lw=1.2, label="reference")
    ax0.plot(x, alt_on_ref, color="#D55E00", lw=1.2, label="mutant")
    for a in (ax0, ax1):
        a.axvspan(offset - 0.5, offset - 0.5 + max(1, ref_len_marked), color="#E69F00", alpha=0.3)
    ax0.set_ylabel(_wrap(score_name, 24), fontsize=7)
    ax0.legend(fontsize=7, frameon=False)
    ax1.bar(x, np.nan_to_num(alt_on_ref - ref_track), color="#555555", width=1.0)
    ax1.set_ylabel("mutant − ref", fontsize=7)
    ax1.set_xlabel("reference position (bp, 0-based)")
    ax1.set_xlim(-0.5, L - 0.5)
    if title:
        ax0.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def landscape_figure(
    matrix: np.ndarray,
    ids: list[str],
    title: str = "attention landscape",
    score_name: str = "attention",
    xlabel: str = POSITION,
):
    """Static landscape: rows = sequences, columns = positions (NaN where a sequence has no base)."""
    plt = _mpl()
    n, L = matrix.shape
    fig, ax = plt.subplots(figsize=(max(6, min(16, L / 10)), max(2.5, min(12, 0.12 * n + 1.5))))
    im = ax.imshow(np.ma.masked_invalid(matrix), aspect="auto", cmap=SEQ_CMAP, interpolation="nearest")
    fig.colorbar(im, ax=ax, fraction=0.02, pad=0.01).set_label(_wrap(score_name), fontsize=7)
    # every row's id when they fit, else every k-th (rows 7 pt apart at least), so a row can still be named
    step = max(1, int(np.ceil(n * 7 / (fig.get_figheight() * 72 * 0.8))))
    rows = list(range(0, n, step))
    ax.set_yticks(rows)
    ax.set_yticklabels([ids[i] for i in rows], fontsize=6)
    ax.set_ylabel("sequence" if step == 1 else f"sequence ({n}; one id every {step} rows)")
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


def matrix_figure(mat: np.ndarray, labels: list[str], title: str = ""):
    """Static token x token attention matrix."""
    plt = _mpl()
    n = len(labels)
    fig, ax = plt.subplots(figsize=(min(12, 2 + n * 0.18), min(12, 2 + n * 0.18)))
    im = ax.imshow(mat, cmap=SEQ_CMAP, interpolation="nearest")
    if n <= 60:
        ax.set_xticks(range(n))
        ax.set_xticklabels(labels, rotation=90, fontsize=5, family="monospace")
        ax.set_yticks(range(n))
        ax.set_yticklabels(labels, fontsize=5, family="monospace")
    ax.set_xlabel("key token (index in the crop)")
    ax.set_ylabel("query token (index in the crop)")
    fig.colorbar(im, ax=ax, fraction=0.03).set_label("attention weight")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def grid_figure(grid: np.ndarray, title: str = ""):
    """Static layer x head small multiples of [CLS] attention tracks ``[n_layers, n_heads, L]``."""
    plt = _mpl()
    nl, nh, L = grid.shape
    # heads of one layer share a y scale, read off the layer's first panel (as in the dashboard's grid)
    fig, axes = plt.subplots(nl, nh, figsize=(2.2 * nh, 1.2 * nl + 0.6), sharex=True, sharey="row", squeeze=False)
    for l in range(nl):
        for h in range(nh):
            ax = axes[l, h]
            ax.plot(grid[l, h], color="#0072B2", lw=0.8)
            ax.yaxis.set_major_locator(plt.MaxNLocator(3))
            ax.tick_params(labelsize=6)
            ax.tick_params(axis="y", labelleft=h == 0)
            if l == 0:
                ax.set_title(f"head {h}", fontsize=8)
            if h == 0:
                ax.set_ylabel(f"layer {l}\n[CLS] weight", fontsize=7)
            if l == nl - 1:
                ax.set_xlabel(POSITION, fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------------------
# interactive (plotly)


def _fixed_margins(fig, l: int, r: int, t: int, b: int):
    """Margins given, axes that do not push them (``automargin`` off; Streamlit's chart theme turns it on for every
    axis): plotly then draws a figure once instead of measuring its tick labels and titles and drawing it again until
    the margins settle (most of a redraw's time in the browser). The margins leave the room those labels took."""
    fig.update_xaxes(automargin=False)
    fig.update_yaxes(automargin=False)
    fig.update_layout(margin=dict(l=l, r=r, t=t, b=b))
    return fig


def plotly_track(
    seq: str,
    scores: np.ndarray,
    title: str,
    genomic: np.ndarray | None = None,
    chrom: str | None = None,
    score_name: str = "attention",
):
    """Heatmap strip (bases shown as text when the sequence is short or zoomed) above a line plot; with ``genomic``
    coordinates every base is drawn at its forward-strand genomic position (see :func:`genome_axis`)."""
    import plotly.graph_objects as go

    L = len(scores)
    order, x, xlab = genome_axis(L, genomic, chrom)
    y = np.asarray(scores, dtype=np.float64)[order]
    bases = np.array(list(seq[:L]))[order]
    where = np.char.add("position ", order.astype(str))
    if genomic is not None:
        where = np.char.add(where, np.char.add(f"<br>{chrom}:", x.astype(str)))
    strip = go.Heatmap(
        z=[y],
        x=x,
        y=["score"],
        colorscale="Viridis",
        showscale=False,
        text=[bases.tolist()],
        texttemplate="%{text}" if L <= 150 else None,
        customdata=[where.tolist()],
        hovertemplate="%{customdata}<br>base %{text}<br>score %{z:.4f}<extra></extra>",
    )
    line = go.Scatter(
        x=x,
        y=y,
        xaxis="x2",
        yaxis="y2",
        mode="lines",
        line=dict(color="#0072B2", width=1.5),
        customdata=np.stack([where, bases], axis=1),
        hovertemplate="%{customdata[0]}<br>base %{customdata[1]}<br>score %{y:.4f}<extra></extra>",
        name=score_name,
    )
    # two rows sharing x (what make_subplots(rows=2, row_heights=[0.3, 0.7], vertical_spacing=0.04) lays out, given
    # at once: plotly.py checks each call, and this figure is built anew for every sequence shown); margins fixed
    # and automargin off as in :func:`_fixed_margins`
    small = dict(size=11)
    layout = dict(
        xaxis=dict(anchor="y", domain=[0, 1], matches="x2", showticklabels=False, automargin=False),
        yaxis=dict(anchor="x", domain=[0.712, 1], title=dict(text="bases", font=small), automargin=False),
        xaxis2=dict(anchor="y2", domain=[0, 1], title=dict(text=xlab), automargin=False),
        yaxis2=dict(anchor="x2", domain=[0, 0.672], title=dict(text=score_name, font=small), automargin=False),
        title=dict(text=title),
        height=350,
        showlegend=False,
        margin=dict(l=90, r=20, t=60, b=70),
    )
    return go.Figure([strip, line], layout)


def plotly_landscape(
    matrix: np.ndarray,
    ids: list[str],
    seqs: list[str],
    offsets: np.ndarray | None = None,
    title: str = "attention landscape",
    score_name: str = "attention",
    xlabel: str = POSITION,
):
    """Rows = sequences, columns = positions; hover shows id, position, base and score. A click on a row selects
    that sequence (the page reads the point's ``y``, the id)."""
    import plotly.graph_objects as go

    n, L = matrix.shape
    offsets = np.zeros(n, dtype=int) if offsets is None else offsets
    base = np.full((n, L), "", dtype=object)
    pos = np.full((n, L), -1)
    for i, (s, o) in enumerate(zip(seqs, offsets)):
        idx = np.arange(L) - o
        ok = (idx >= 0) & (idx < len(s))
        base[i, ok] = np.array(list(s))[idx[ok]]
        pos[i, ok] = idx[ok]
    # hover and click on the cells themselves: the bases as text, each cell's position in its sequence (-1 in the
    # padding of centred rows, which has no hover: NaN scores, hoverongaps off) as int16/int32 customdata and the
    # scores as float32, so the figure travels and redraws fast. The dashboard's chart reports a click's y (the id).
    fig = go.Figure(
        go.Heatmap(
            z=np.asarray(matrix, dtype=np.float32),
            y=ids,
            text=base,
            customdata=pos.astype(np.int16 if L < 2**15 else np.int32),
            hovertemplate="%{y}<br>position %{customdata}<br>base %{text}<br>score %{z:.4f}"
            "<extra>click: select</extra>",
            hoverongaps=False,
            colorscale="Viridis",
            colorbar=dict(title=dict(text=_wrap(score_name, 16).replace("\n", "<br>"), side="right")),
        )
    )
    fig.update_layout(
        title=title,
        height=max(300, min(900, 14 * n + 120)),
        xaxis_title=xlabel,
        yaxis=dict(autorange="reversed", title="sequence (click a row to select it)"),
    )
    longest = max((len(str(i)) for i in ids), default=0)  # the ids are the y tick labels
    return _fixed_margins(fig, min(320, 50 + 8 * longest), 160, 60, 75)


def _ticks(n: int, most: int) -> list[int]:
    """About ``most`` round tick positions in ``0..n-1`` (steps of 1, 2 or 5 times a power of ten), none in the last
    15 % (where the next head's 0 follows)."""
    steps = [m * 10**k for k in range(7) for m in (1, 2, 5) if m * 10**k <= max(1, n)]
    step = min(steps, key=lambda c: abs(n / c - most))
    return [t for t in range(0, n, int(step)) if t == 0 or t <= 0.85 * (n - 1)]


def plotly_grid(grid: np.ndarray, title: str = ""):
    """Layer x head small multiples of the [CLS] attention track ``[n_layers, n_heads, L]`` on one axis pair: one
    strip per layer (layer 0 on top), its heads side by side over their own positions (a line between heads,
    ``head h`` under its positions). Each strip is drawn on its own scale, 0 to its layer's largest value, written as
    its tick labels (0 at its base, ``layer l`` halfway, the largest value at its top); the hover gives each value
    itself. One axis pair, no shapes or annotations (the heads' names are x tick labels): a browser redraws it in ~60-100 ms,
    against ~250-300 ms for one axis pair per layer with a shape between heads (each subplot's axes and each shape
    are laid out again on every redraw)."""
    import plotly.graph_objects as go

    nl, nh, L = grid.shape
    gap = max(2, L // 12)  # blank columns between two heads
    span = L + gap
    x = (np.arange(nh)[:, None] * span + np.arange(L + 1)[None, :]).ravel()  # one NaN after each head ends its line
    head_pos = np.stack([np.repeat(np.arange(nh), L + 1), np.tile(np.r_[np.arange(L), -1], nh)], axis=1)
    height = 0.8  # of a strip's unit of y: the rest is the space between two strips
    traces, tickvals, ticktext = [], [], []
    for l in range(nl):
        values = np.concatenate([grid[l], np.full((nh, 1), np.nan)], axis=1).ravel()
        top = float(np.nanmax(np.abs(grid[l]))) if np.isfinite(grid[l]).any() else 0.0
        top = top if top > 0 else 1.0
        base = nl - 1 - l
        traces.append(
            go.Scatter(
                x=x.astype(np.int32),
                y=(base + values / top * height).astype(np.float32),
                mode="lines",
                line=dict(width=1, color="#0072B2"),
                customdata=np.column_stack([head_pos, values]).astype(np.float32),
                hovertemplate=f"layer {l} head %{{customdata[0]}}<br>position %{{customdata[1]}}<br>"
                "%{customdata[2]:.4f}<extra></extra>",
            )
        )
        tickvals += [base, base + height / 2, base + height]
        ticktext += ["0", f"<b>layer {l}</b>", f"{top:.3g}"]
    seps = [h_ * span - gap / 2 for h_ in range(1, nh)]  # the lines between heads: one trace, no hover
    traces.append(
        go.Scatter(
            x=np.repeat(seps, 3), y=np.tile([-0.1, nl - 1 + height + 0.05, np.nan], len(seps)), mode="lines",
            line=dict(color="#BBBBBB", width=1), hoverinfo="skip",
        )
    )  # fmt: skip
    ticks = _ticks(L, max(2, min(5, 24 // nh)))
    centres = [h_ * span + (L - 1) / 2 for h_ in range(nh)]  # each head's name, under its positions
    layout = dict(
        xaxis=dict(
            tickvals=[h_ * span + t for h_ in range(nh) for t in ticks] + centres,
            ticktext=[str(t) for _ in range(nh) for t in ticks] + [f"<br><b>head {h_}</b>" for h_ in range(nh)],
            range=[-1, nh * span - gap], showgrid=False, tickangle=0, automargin=False,
            title=dict(text=f"{POSITION} in each head", font=dict(size=10)),
        ),
        yaxis=dict(
            tickvals=tickvals, ticktext=ticktext, range=[-0.15, nl - 1 + height + 0.1], tickfont=dict(size=10),
            automargin=False, zeroline=False, title=dict(text="[CLS] weight, each layer on its own scale",
            font=dict(size=12)),
        ),
        title=dict(text=title),
        height=110 * nl + 150,
        showlegend=False,
        margin=dict(l=95, r=10, t=60, b=90),
    )  # fmt: skip
    return go.Figure(traces, layout)


def plotly_matrix(mat: np.ndarray, labels: list[str], title: str = "", first: int = 0):
    """Token x token attention of one layer and head; ``first``: the token index of the crop's first row."""
    import plotly.graph_objects as go

    idx = list(range(first, first + len(labels)))
    fig = go.Figure(
        go.Heatmap(
            z=mat,
            x=idx,
            y=idx,
            colorscale="Viridis",
            customdata=np.array(
                [[f"{labels[i]} → {labels[j]}" for j in range(len(labels))] for i in range(len(labels))]
            ),
            hovertemplate="query token %{y} → key token %{x}<br>%{customdata}<br>%{z:.4f}<extra></extra>",
            colorbar=dict(title="attention weight"),
        )
    )
    fig.update_layout(
        title=title,
        height=560,
        xaxis_title="key token (index in the model's window, not in the crop; 0 = [CLS])",
        yaxis_title="query token (index in the model's window)",
        yaxis=dict(autorange="reversed"),
    )
    return _fixed_margins(fig, 75, 150, 50, 75)


def plotly_mutation_map(
    effect: np.ndarray,
    ref_seq: str,
    start: int,
    attention: np.ndarray | None,
    summary: np.ndarray,
    title: str,
    score_name: str = "attention",
):
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    W = effect.shape[1]
    x = np.arange(start, start + W)
    lim = float(np.nanmax(np.abs(effect))) or 1.0
    rows = 3 if attention is not None else 2
    heights = [0.25, 0.5, 0.25] if attention is not None else [0.7, 0.3]
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, row_heights=heights, vertical_spacing=0.03)
    r = 1
    if attention is not None:
        fig.add_trace(
            go.Scatter(
                x=x,
                y=attention,
                mode="lines",
                fill="tozeroy",
                line=dict(color="#0072B2"),
                name="attention",
                hovertemplate="position %{x}<br>attention %{y:.4f}<extra></extra>",
            ),
            row=1,
            col=1,
        )
        r = 2
    text = np.array([[("●" if ref_seq[i] == b else "") for i in range(W)] for b in "ACGT"])
    fig.add_trace(
        go.Heatmap(
            z=effect,
            x=x,
            y=list("ACGT"),
            colorscale="RdBu_r",
            zmin=-lim,
            zmax=lim,
            zmid=0,
            text=text,
            texttemplate="%{text}" if W <= 200 else None,
            customdata=np.array([list(ref_seq[:W])] * 4),
            colorbar=dict(title="Δ p", len=0.5),
            hovertemplate="position %{x}<br>%{customdata}→%{y}<br>Δp %{z:.4f}<extra></extra>",
        ),
        row=r,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=x,
            y=summary,
            marker_color="#555555",
            name="max |Δp|",
            hovertemplate="position %{x}<br>max |Δp| %{y:.4f}<extra></extra>",
        ),
        row=r + 1,
        col=1,
    )
    fig.update_layout(title=title, height=480, showlegend=False, margin=dict(l=60, r=20, t=60, b=50))
    fig.update_xaxes(title_text=POSITION, row=rows, col=1)
    if attention is not None:
        fig.update_yaxes(title_text=_wrap(score_name, 18).replace("\n", "<br>"), title_font=dict(size=9), row=1, col=1)
    fig.update_yaxes(title_text="substitution", row=r, col=1)
    fig.update_yaxes(title_text="max |Δp|", row=r + 1, col=1)
    return fig


HEAD_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C6D00", "#000000"]


def plotly_head_lines(
    att: np.ndarray, tokens: list[str], token: int, heads: list[int], threshold: float, title: str = ""
):
    """Native head view: lines from the selected query token (left column) to every key token (right column) whose
    attention in a head is at least ``threshold``, coloured by head, wider and darker with the weight (the DNABERT
    paper's Fig. 4e). ``att``: ``[n_heads, T, T]`` of one layer. Sized to be read at its natural size: 18 px per
    token row, 12 px monospace tokens, the query token in bold."""
    import plotly.graph_objects as go

    n = len(tokens)
    fig = go.Figure()
    top = max((float(att[h, token].max()) for h in heads), default=1.0) or 1.0
    for rank, h in enumerate(heads):
        w = att[h, token]
        color = HEAD_COLORS[h % len(HEAD_COLORS)]
        dy = (rank - (len(heads) - 1) / 2) * 0.12  # heads that agree stay side by side, not on top of each other
        for j in np.flatnonzero(w >= threshold):
            rel = float(w[j]) / top
            fig.add_trace(
                go.Scatter(
                    x=[0.03, 0.97],
                    y=[token + dy, j + dy],
                    mode="lines",
                    showlegend=False,
                    line=dict(color=color, width=1 + 5 * rel),
                    opacity=0.35 + 0.65 * rel,
                    hovertemplate=f"head {h}: {tokens[token]} → {tokens[j]} (token {j}): {w[j]:.3f}<extra></extra>",
                )
            )
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=dict(color=color, width=3), name=f"head {h}"))
    labels = [f"<b>{t}</b>" if i == token else t for i, t in enumerate(tokens)]
    for x, pos in ((0, "middle left"), (1, "middle right")):
        fig.add_trace(
            go.Scatter(
                x=[x] * n,
                y=list(range(n)),
                mode="text",
                text=[f"{lab} {i:>3}" if x == 0 else f"{i:<3} {lab}" for i, lab in enumerate(labels)],
                textposition=pos,
                showlegend=False,
                hoverinfo="skip",
                textfont=dict(family="DejaVu Sans Mono, monospace", size=12, color="#222"),
            )
        )
    fig.update_layout(
        title=dict(text=title, font=dict(size=14)),
        width=760,
        height=max(420, 18 * n + 130),
        xaxis=dict(visible=False, range=[-0.55, 1.55], fixedrange=True),
        yaxis=dict(visible=False, range=[n - 0.5, -1.0], fixedrange=True),
        legend=dict(orientation="h", x=0.5, xanchor="center", y=1.0, yanchor="bottom", font=dict(size=12)),
        margin=dict(l=10, r=10, t=90, b=10),
        plot_bgcolor="white",
    )
    fig.add_annotation(
        x=0, y=-1.0, text="query", showarrow=False, xanchor="right", yanchor="bottom", font=dict(size=11)
    )
    fig.add_annotation(x=1, y=-1.0, text="key", showarrow=False, xanchor="left", yanchor="bottom", font=dict(size=11))
    return fig


def head_lines_figure(
    att: np.ndarray, tokens: list[str], token: int, heads: list[int], threshold: float, title: str = ""
):
    """Static version of :func:`plotly_head_lines`."""
    plt = _mpl()
    palette = HEAD_COLORS
    n = len(tokens)
    fig, ax = plt.subplots(figsize=(5, max(4, n * 0.16)))
    for h in heads:
        w = att[h, token]
        for j in np.flatnonzero(w >= threshold):
            ax.plot(
                [0, 1],
                [token, j],
                color=palette[h % len(palette)],
                lw=0.5 + 4 * float(w[j]),
                alpha=min(1.0, 0.25 + float(w[j])),
            )
        ax.plot([], [], color=palette[h % len(palette)], label=f"head {h}")
    for i, t in enumerate(tokens):
        ax.text(-0.02, i, t, ha="right", va="center", fontsize=6, family="monospace")
        ax.text(1.02, i, t, ha="left", va="center", fontsize=6, family="monospace")
    ax.set_xlim(-0.6, 1.6)
    ax.set_ylim(n, -1)
    ax.axis("off")
    ax.legend(fontsize=6, loc="upper center", ncol=min(4, len(heads)), frameon=False)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig
