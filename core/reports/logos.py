"""Sequence logos: the letters logomaker draws (its font, widths, heights and stacking), drawn as a few matplotlib
paths, and many PNG logos written at once.

logomaker builds one ``TextPath`` and one patch per letter and validates every call, about 0.3 s per logo; here the
four letter outlines are made once, each logo is four compound paths (one per base), and :func:`write_logo_pngs`
draws the axes, ticks and labels of a logo size once, puts only letters and title on a copy of them per logo, and
encodes the PNGs on worker threads (Pillow releases the GIL while it writes to a file). ``tests/test_fast_paths.py``
checks letter heights against logomaker's glyphs and the fast PNGs against full renderings of :func:`logo_figure`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from .figures import BASE_COLORS

LETTER_WIDTH = 0.95  # logomaker's Glyph default: a letter fills 95 % of its column
FONT = {"family": "DejaVu Sans Mono", "weight": "bold"}
MODES = {"information": ("bits", 2.0), "probability": ("probability", 1.0)}
_TINY = np.finfo(float).tiny


def logo_heights(ppm: np.ndarray, mode: str = "information") -> np.ndarray:
    """Letter heights ``[W, 4]`` (A, C, G, T): the probabilities, or (``information``) each probability times the
    column's information content in bits against a uniform background, as ``logomaker.transform_matrix`` gives."""
    if mode not in MODES:
        raise ValueError("logo mode must be 'information' or 'probability'")
    p = np.asarray(ppm, dtype=np.float64)
    p = p / p.sum(axis=1, keepdims=True)
    if mode == "probability":
        return p
    bits = (p * (np.log2(p + _TINY) - np.log2(0.25 + _TINY))).sum(axis=1)
    return p * bits[:, None]


@lru_cache(maxsize=1)
def _outlines() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each base's outline scaled as logomaker scales a glyph: ``LETTER_WIDTH`` wide at most (and no wider than 'E'),
    centred on x = 0, from y = 0 to 1."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    prop = FontProperties(**FONT)
    e_width = TextPath((0, 0), "E", size=1, prop=prop).get_extents().width
    out = {}
    for base in "ACGT":
        path = TextPath((0, 0), base, size=1, prop=prop)
        box = path.get_extents()
        stretch = min(LETTER_WIDTH / box.width, LETTER_WIDTH / e_width)
        xy = (path.vertices - [box.xmin, box.ymin]) * [stretch, 1.0 / box.height]
        xy[:, 0] -= stretch * box.width / 2
        out[base] = (xy, path.codes)
    return out


def letter_patches(heights: np.ndarray) -> list:
    """Four ``PathPatch`` (one per base) holding every letter of a logo: column ``i`` centred on x = i, letters
    stacked from y = 0 with the tallest on top (logomaker's ``big_on_top``); zero heights are not drawn."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    shapes = _outlines()
    parts: dict[str, list] = {b: [] for b in "ACGT"}
    for i, col in enumerate(np.asarray(heights, dtype=np.float64)):
        floor = 0.0
        for j in np.argsort(col):
            h = float(col[j])
            if h > 0:
                xy, codes = shapes["ACGT"[j]]
                parts["ACGT"[j]].append((xy * [1.0, h] + [i, floor], codes))
            floor += abs(h)
    return [
        PathPatch(
            MplPath(np.concatenate([xy for xy, _ in parts[b]]), np.concatenate([c for _, c in parts[b]])),
            facecolor=BASE_COLORS[b],
            edgecolor="none",
            linewidth=0,
        )
        for b in "ACGT"
        if parts[b]
    ]


def _logo_axes(n: int, mode: str, title: str, width_per_col: float):
    """A figure with the logo's axes (limits, labels, ticks, baseline), laid out for a one-line title."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    ylabel, ymax = MODES[mode]
    fig = Figure(figsize=(max(3.0, width_per_col * n + 1), 2.2))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.axhline(0, color="black", linewidth=0.5, zorder=-1)  # logomaker's baseline
    ax.set_xlim(-LETTER_WIDTH / 2, n - 1 + LETTER_WIDTH / 2)
    ax.set_ylim(0, ymax)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("position in motif window (bp)")
    ax.set_xticks(range(n))
    ax.set_xticklabels([str(i + 1) for i in range(n)], fontsize=7)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig, ax


def logo_figure(ppm: np.ndarray, mode: str = "information", title: str = "", width_per_col: float = 0.35):
    """Sequence logo of a PPM ``[W, 4]`` (A, C, G, T): ``information`` (bits, uniform background) or
    ``probability``. A matplotlib ``Figure`` (not registered with pyplot)."""
    heights = logo_heights(ppm, mode)
    fig, ax = _logo_axes(len(heights), mode, title, width_per_col)
    for patch in letter_patches(heights):
        ax.add_artist(patch)  # not add_patch: limits are fixed, and its data-limit update walks every curve
    return fig


class _Frame:
    """One logo size drawn once without letters, spines and title; logos of that size are painted on a copy."""

    def __init__(self, n: int, mode: str, width_per_col: float, dpi: float):
        self.fig, self.ax = _logo_axes(n, mode, "(0)", width_per_col)  # laid out as logo_figure, with a title
        self.fig.set_dpi(dpi)  # then drawn at the file's resolution, as savefig does
        canvas, title = self.fig.canvas, self.ax.title
        spines = list(self.ax.spines.values())
        for s in spines:
            s.set_visible(False)
        title.set_alpha(0)  # placed by the draw (above the axes), but not painted
        canvas.draw()
        self.background = canvas.copy_from_bbox(self.fig.bbox)
        for s in spines:
            s.set_visible(True)
        title.set_alpha(None)
        title.set_text("")  # an empty title keeps its place and adds nothing to the box
        self.box = self.fig.get_tightbbox(canvas.get_renderer()).transformed(self.fig.dpi_scale_trans)

    def paint(self, heights: np.ndarray, title: str):
        """The logo as a PIL RGB image, cropped as ``savefig(bbox_inches="tight")`` crops (white beyond the canvas;
        the size is the padded box's width and height truncated); None when the title does not fit the figure."""
        from matplotlib.transforms import Bbox
        from PIL import Image

        canvas, ax = self.fig.canvas, self.ax
        canvas.restore_region(self.background)
        patches = letter_patches(heights)
        for p in patches:
            ax.add_artist(p)
            ax.draw_artist(p)
        for s in ax.spines.values():  # drawn over the letters, as in a full draw
            ax.draw_artist(s)
        ax.title.set_text(title)
        ax.draw_artist(ax.title)
        for p in patches:
            p.remove()
        drawn = Bbox.union([self.box, ax.title.get_window_extent(canvas.get_renderer())])
        width, height = canvas.get_width_height(physical=True)
        if drawn.x0 < 0 or drawn.x1 > width or drawn.y0 < 0 or drawn.y1 > height:
            return None  # e.g. a title wider than the figure: only a full rendering shows all of it
        box = drawn.padded(0.1 * self.fig.dpi)
        w, h = int(box.width), int(box.height)
        left, top = int(round(box.x0)), int(round(height - box.y1))
        inside = (max(0, left), max(0, top), min(width, left + w), min(height, top + h))
        full = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        out = Image.new("RGB", (w, h), "white")
        out.paste(full.crop(inside).convert("RGB"), (inside[0] - left, inside[1] - top))
        return out


def _write_png(image, path: Path, dpi: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, format="png", dpi=(dpi, dpi), compress_level=3)  # level 3: twice as fast as 6, files ~9 % larger


def write_logo_pngs(
    logos: list[tuple[np.ndarray, str, str, str | os.PathLike]],
    dpi: float = 200,
    width_per_col: float = 0.35,
    workers: int | None = None,
) -> list[Path]:
    """Write many logos as PNG: ``logos`` is ``[(ppm [W, 4], mode, title, path), ...]``. The same picture as
    ``save_figure(logo_figure(ppm, mode, title), path)`` in a fraction of the time; encoding runs on ``workers``
    threads (default: the CPU count, at most 4)."""
    from concurrent.futures import ThreadPoolExecutor

    workers = workers or min(4, os.cpu_count() or 1)
    frames: dict[tuple[int, str], _Frame] = {}
    paths = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = []
        for ppm, mode, title, path in logos:
            heights = logo_heights(ppm, mode)
            key = (len(heights), mode)
            if key not in frames:
                frames[key] = _Frame(len(heights), mode, width_per_col, dpi)
            paths.append(Path(path))
            image = frames[key].paint(heights, title)
            if image is None:
                from .figures import save_figure

                save_figure(logo_figure(ppm, mode, title, width_per_col), paths[-1], dpi)
            else:
                jobs.append(pool.submit(_write_png, image, paths[-1], dpi))
        for job in jobs:
            job.result()
    return paths
