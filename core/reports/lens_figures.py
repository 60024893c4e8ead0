"""Figures of the Lenses and Sets views: every lens's track of one sequence stacked on one position axis, the
embedding projector, the k-mer contrast of positives against negatives, average profiles, a discovered motif's
logo beside its JASPAR match. Matplotlib for PNG/SVG/PDF and plotly for the dashboard, from the same plain data;
titles name the lens (or recipe) and orientation, axes their units (:mod:`core.reports.figures`' conventions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .figures import POSITION, _mpl, _wrap

OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
SITE_COLOR = "#E69F00"


@dataclass(frozen=True)
class StackRow:
    """One row of a lens stack: the lens's name, :meth:`Lens.describe`, its score name and its scores ``[L]``
    (position i = base i of the sequence, 0-based), with an optional note (e.g. agreement with ISM)."""

    name: str
    description: str
    score_name: str
    scores: np.ndarray
    note: str = ""

    @property
    def title(self) -> str:
        return f"{self.description} · {self.score_name}" + (f" · {self.note}" if self.note else "")

    @property
    def html_title(self) -> str:
        """The title on two lines (plotly): the lens and its settings, then its score and the note."""
        return f"<b>{self.name}</b>: {self.description}<br>{self.score_name}" + (f" · {self.note}" if self.note else "")


def _site_spans(sites) -> list[tuple[int, int]]:
    return [(int(s), int(e)) for s, e in (sites or [])]


def plotly_lens_stack(seq: str, rows: list[StackRow], title: str, sites=None):
    """One panel per lens, sharing the position axis (bp, 0-based); known sites shaded across every panel; hover
    shows position, base and score."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    n = len(rows)
    fig = make_subplots(
        rows=n,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=min(0.09, 0.45 / max(1, n)),
        subplot_titles=[r.html_title for r in rows],
    )
    for i, r in enumerate(rows, start=1):
        y = np.asarray(r.scores, dtype=np.float64)
        x = np.arange(len(y))
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="lines",
                line=dict(color=OKABE_ITO[(i - 1) % len(OKABE_ITO)], width=1.5),
                customdata=np.array(list(seq[: len(y)]), dtype=object),
                hovertemplate=f"{r.name}<br>position %{{x}}<br>base %{{customdata}}<br>score %{{y:.4g}}<extra></extra>",
                name=r.name,
            ),
            row=i,
            col=1,
        )
        fig.update_yaxes(
            title_text=_wrap(r.score_name, 22).replace("\n", "<br>"), title_font=dict(size=10), row=i, col=1
        )
    for s, e in _site_spans(sites):
        fig.add_vrect(x0=s - 0.5, x1=e - 0.5, fillcolor=SITE_COLOR, opacity=0.18, line_width=0, row="all", col=1)
    fig.update_xaxes(title_text=POSITION, row=n, col=1)
    fig.update_annotations(font_size=10)
    fig.update_layout(title=title, height=110 + 170 * n, margin=dict(l=70, r=20, t=90, b=50), showlegend=False)
    return fig


def lens_stack_figure(seq: str, rows: list[StackRow], title: str = "", sites=None):
    """The stack as a static figure: one line plot per lens, shared position axis, sites shaded, bases written
    along the bottom axis for short sequences."""
    plt = _mpl()
    n = len(rows)
    L = max((len(r.scores) for r in rows), default=len(seq))
    fig, axes = plt.subplots(n, 1, figsize=(max(7, min(16, L / 8)), 0.6 + 1.5 * n), sharex=True, squeeze=False)
    for i, (ax, r) in enumerate(zip(axes[:, 0], rows)):
        y = np.asarray(r.scores, dtype=np.float64)
        ax.plot(np.arange(len(y)), y, color=OKABE_ITO[i % len(OKABE_ITO)], lw=1)
        for s, e in _site_spans(sites):
            ax.axvspan(s - 0.5, e - 0.5, color=SITE_COLOR, alpha=0.18, lw=0)
        ax.set_title(r.title, fontsize=8, loc="left")
        ax.set_ylabel(_wrap(r.score_name, 22), fontsize=6)
        ax.tick_params(labelsize=6)
    ax = axes[-1, 0]
    ax.set_xlim(-0.5, L - 0.5)
    ax.set_xlabel(POSITION)
    if L <= 120:
        sec = ax.secondary_xaxis("top")
        sec.set_xticks(range(L))
        sec.set_xticklabels(list(seq[:L]), fontsize=5, family="monospace")
        sec.tick_params(length=0, pad=1)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------------------
# projector


def _is_categorical(values) -> bool:
    v = np.asarray(values, dtype=object)
    return not all(isinstance(x, (float, np.floating)) for x in v if x is not None)


def plotly_projection(
    coords: np.ndarray, ids: list[str], colour, colour_name: str, axes: list[str], title: str, clickable: bool = True
):
    """Points of a projector (PCA or UMAP axes as named), coloured by a category (label, cluster) or a number
    (prediction); hover shows the id; a click on a point selects it (the page reads the point's ``customdata``)."""
    import plotly.graph_objects as go

    xy = np.asarray(coords, dtype=np.float64)
    ids = np.asarray(ids, dtype=object)
    fig = go.Figure()
    hover = (
        "%{customdata}<br>" + f"{colour_name} " + "%{meta}<extra>" + ("click: select" if clickable else "") + "</extra>"
    )
    if _is_categorical(colour):
        groups = np.asarray(["none" if c is None else str(c) for c in colour], dtype=object)
        for i, g in enumerate(sorted(set(groups.tolist()))):
            m = groups == g
            fig.add_trace(
                go.Scatter(
                    x=xy[m, 0],
                    y=xy[m, 1],
                    mode="markers",
                    name=f"{colour_name} {g}",
                    customdata=ids[m],
                    meta=g,
                    marker=dict(size=7, color=OKABE_ITO[i % len(OKABE_ITO)], opacity=0.8),
                    hovertemplate=hover,
                )
            )
    else:
        vals = np.asarray(colour, dtype=np.float64)
        fig.add_trace(
            go.Scatter(
                x=xy[:, 0],
                y=xy[:, 1],
                mode="markers",
                customdata=ids,
                text=np.round(vals, 3),
                marker=dict(
                    size=7, color=vals, colorscale="Viridis", colorbar=dict(title=dict(text=colour_name)), opacity=0.85
                ),
                hovertemplate="%{customdata}<br>"
                + f"{colour_name} "
                + "%{text}<extra>"
                + ("click: select" if clickable else "")
                + "</extra>",
                showlegend=False,
            )
        )
    fig.update_layout(
        title=title,
        height=520,
        xaxis_title=f"{axes[0]} (unitless)",
        yaxis_title=f"{axes[1]} (unitless)",
        clickmode="event+select",
        margin=dict(l=60, r=20, t=60, b=50),
        legend=dict(title=dict(text=colour_name)),
    )
    return fig


def projection_figure(coords: np.ndarray, colour, colour_name: str, axes: list[str], title: str = "", labels=None):
    """The projector as a static scatter (categories in the Okabe-Ito colours, numbers in viridis); ``labels``
    (e.g. k-mers) are written beside the points when there are at most 80."""
    plt = _mpl()
    xy = np.asarray(coords, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6.5, 5))
    if _is_categorical(colour):
        groups = np.asarray(["none" if c is None else str(c) for c in colour], dtype=object)
        for i, g in enumerate(sorted(set(groups.tolist()))):
            m = groups == g
            ax.scatter(xy[m, 0], xy[m, 1], s=14, color=OKABE_ITO[i % len(OKABE_ITO)], alpha=0.8, label=f"{g}")
        ax.legend(title=colour_name, fontsize=7, title_fontsize=7, loc="best")
    else:
        sc = ax.scatter(xy[:, 0], xy[:, 1], s=14, c=np.asarray(colour, dtype=np.float64), cmap="viridis", alpha=0.85)
        fig.colorbar(sc, ax=ax, label=colour_name)
    if labels is not None and len(labels) <= 80:
        for (x, y), t in zip(xy, labels):
            ax.annotate(str(t), (x, y), fontsize=5, xytext=(2, 2), textcoords="offset points")
    ax.set_xlabel(f"{axes[0]} (unitless)")
    ax.set_ylabel(f"{axes[1]} (unitless)")
    if title:
        ax.set_title(_wrap(title, 90), fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------------------
# k-mers and profiles

AUC_AXIS = "Mann–Whitney AUC: P(a positive's occurrence outscores a negative's) (0.5: no difference)"


def plotly_kmer_contrast(df, title: str, top: int = 20):
    """The ``top`` k-mers of :func:`core.lenses.sets.kmer_contrast` (ranked by p) as horizontal bars of the named
    contrast statistic, the Mann–Whitney AUC; hover shows counts, mean scores, p and q."""
    import plotly.graph_objects as go

    d = df.dropna(subset=["auc"]).head(top).iloc[::-1]
    custom = np.stack(
        [d.count_pos, d.count_neg, d.mean_score_pos.round(4), d.mean_score_neg.round(4), d.p, d.q], axis=1
    )
    fig = go.Figure(
        go.Bar(
            x=d.auc,
            y=d.kmer,
            orientation="h",
            marker_color=np.where(d.auc >= 0.5, OKABE_ITO[0], OKABE_ITO[1]),
            customdata=custom,
            hovertemplate="%{y}: AUC %{x:.3f}<br>occurrences: %{customdata[0]} in positives, %{customdata[1]} in "
            "negatives<br>mean score %{customdata[2]} vs %{customdata[3]}<br>p %{customdata[4]:.2e} · q "
            "%{customdata[5]:.2e}<extra></extra>",
        )
    )
    fig.add_vline(x=0.5, line_dash="dot", line_color="grey")
    fig.update_layout(
        title=title,
        height=max(300, 24 * len(d) + 140),
        xaxis=dict(title=AUC_AXIS, range=[0, 1]),
        yaxis=dict(title="k-mer (ranked by p, smallest on top)", tickfont=dict(family="monospace")),
        margin=dict(l=90, r=20, t=60, b=50),
    )
    return fig


def kmer_contrast_figure(df, title: str = "", top: int = 20):
    """The same ranked chart, static."""
    plt = _mpl()
    d = df.dropna(subset=["auc"]).head(top).iloc[::-1]
    fig, ax = plt.subplots(figsize=(6.5, max(2.5, 0.25 * len(d) + 1.2)))
    ax.barh(np.arange(len(d)), d.auc, color=np.where(d.auc >= 0.5, OKABE_ITO[0], OKABE_ITO[1]))
    ax.set_yticks(np.arange(len(d)))
    ax.set_yticklabels(d.kmer, family="monospace", fontsize=7)
    ax.axvline(0.5, color="grey", ls=":", lw=1)
    ax.set_xlim(0, 1)
    ax.set_xlabel(_wrap(AUC_AXIS, 70), fontsize=7)
    ax.set_ylabel("k-mer (ranked by p)", fontsize=7)
    if title:
        ax.set_title(_wrap(title, 80), fontsize=8)
    fig.tight_layout()
    return fig


def profile_xlabel(align: str) -> str:
    return {
        "left": POSITION,
        "center": "offset from each sequence's centre (bp)",
        "peak": "offset from each track's peak (bp)",
    }[align]


def plotly_profiles(df, title: str, score_name: str, align: str):
    """Average lens profile of positives and negatives (:func:`core.lenses.sets.profile_contrast`), mean ± standard
    error as bands, on one offset axis."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for side, name, colour in (("pos", "positives", OKABE_ITO[0]), ("neg", "negatives", OKABE_ITO[1])):
        m, e, n = df[f"mean_{side}"].to_numpy(), df[f"sem_{side}"].fillna(0).to_numpy(), df[f"n_{side}"].to_numpy()
        x = df["offset"].to_numpy()
        fig.add_trace(
            go.Scatter(
                x=np.concatenate([x, x[::-1]]),
                y=np.concatenate([m + e, (m - e)[::-1]]),
                fill="toself",
                fillcolor=colour,
                opacity=0.2,
                line=dict(width=0),
                hoverinfo="skip",
                showlegend=False,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=m,
                mode="lines",
                line=dict(color=colour, width=1.8),
                name=name,
                customdata=np.stack([e, n], axis=1),
                hovertemplate=f"{name}<br>offset %{{x}}<br>mean %{{y:.4g}} ± %{{customdata[0]:.2g}} (sem)<br>"
                "%{customdata[1]} sequences<extra></extra>",
            )
        )
    fig.update_layout(
        title=title,
        height=380,
        xaxis_title=profile_xlabel(align),
        yaxis_title=f"mean {score_name}",
        margin=dict(l=70, r=20, t=60, b=50),
    )
    return fig


def profile_figure(df, title: str, score_name: str, align: str):
    """The same profiles, static."""
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(8, 3))
    for side, name, colour in (("pos", "positives", OKABE_ITO[0]), ("neg", "negatives", OKABE_ITO[1])):
        x, m, e = df["offset"], df[f"mean_{side}"], df[f"sem_{side}"].fillna(0)
        ax.plot(x, m, color=colour, lw=1.2, label=name)
        ax.fill_between(x, m - e, m + e, color=colour, alpha=0.2, lw=0)
    ax.set_xlabel(profile_xlabel(align))
    ax.set_ylabel(_wrap(f"mean {score_name}", 30), fontsize=7)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(_wrap(title, 110), fontsize=8)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------------------
# a discovered motif beside its JASPAR match


def _framed_heights(alignment, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Letter heights of query and target ``[width, 4]`` in the alignment's frame (zeros where a motif has no
    column)."""
    from .logos import logo_heights

    out = []
    for ppm, start in ((alignment.query, alignment.query_start), (alignment.target, alignment.target_start)):
        h = np.zeros((alignment.width, 4))
        h[start : start + len(ppm)] = logo_heights(ppm, mode)
        out.append(h)
    return out[0], out[1]


def aligned_logos_figure(alignment, query_title: str, target_title: str, title: str = "", mode: str = "information"):
    """Two logos on one column axis: the discovered motif above, its JASPAR match below in the matched orientation,
    placed by TOMTOM's offset (:func:`core.motifs.jaspar.match_alignment`)."""
    from .logos import LETTER_WIDTH, MODES, letter_patches

    plt = _mpl()
    qh, th = _framed_heights(alignment, mode)
    ylabel, ymax = MODES[mode]
    W = alignment.width
    fig, axes = plt.subplots(2, 1, figsize=(max(4.0, 0.35 * W + 1.2), 4.2), sharex=True)
    for ax, h, sub in ((axes[0], qh, query_title), (axes[1], th, target_title)):
        for patch in letter_patches(h):
            ax.add_artist(patch)
        ax.axhline(0, color="black", lw=0.5)
        ax.set_ylim(0, ymax)
        ax.set_ylabel(ylabel)
        ax.set_title(sub, fontsize=8, loc="left")
    axes[1].set_xlim(-LETTER_WIDTH / 2, W - 1 + LETTER_WIDTH / 2)
    axes[1].set_xticks(range(W))
    axes[1].set_xticklabels([str(i + 1) for i in range(W)], fontsize=7)
    axes[1].set_xlabel("column of the alignment (bp)")
    if title:
        fig.suptitle(_wrap(title, 100), fontsize=9)
    fig.tight_layout()
    return fig


def plotly_aligned_logos(alignment, query_title: str, target_title: str, title: str, mode: str = "information"):
    """The aligned pair as stacked bars (one colour per base, letters on the bars; hover: column, base, height)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from .logos import BASE_COLORS, MODES

    qh, th = _framed_heights(alignment, mode)
    ylabel, ymax = MODES[mode]
    cols = np.arange(1, alignment.width + 1)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, subplot_titles=[query_title, target_title])
    for row, h in ((1, qh), (2, th)):
        for j, base in enumerate("ACGT"):
            fig.add_trace(
                go.Bar(
                    x=cols,
                    y=h[:, j],
                    name=base,
                    marker_color=BASE_COLORS[base],
                    text=np.where(h[:, j] > 0.08 * ymax, base, ""),
                    textposition="inside",
                    insidetextanchor="middle",
                    showlegend=row == 1,
                    hovertemplate=f"column %{{x}}<br>{base}: %{{y:.3f}} {ylabel}<extra></extra>",
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(title_text=ylabel, range=[0, ymax], row=row, col=1)
    fig.update_xaxes(title_text="column of the alignment (bp)", row=2, col=1)
    fig.update_layout(title=title, barmode="stack", bargap=0.05, height=460, margin=dict(l=60, r=20, t=90, b=50))
    fig.update_annotations(font_size=11)
    return fig
