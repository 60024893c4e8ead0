"""Sequence logos: the letters logomaker draws (its font, widths, heights and stacking), drawn as a few matplotlib
paths, and many PNG logos written at once.

logomaker builds one ``TextPath`` and one patch per letter and validates every call, about 0.3 s per logo; here the
four letter outlines are made once, each logo is four compound paths (one per base), and :func:`write_logo_pngs`
draws the axes, ticks and labels of a logo size once, puts only letters and title on a copy of them per logo, and
encodes the PNGs on worker threads (unfiltered rows deflated by zlib, which releases the GIL).
``tests/test_fast_paths.py`` checks letter heights against logomaker's glyphs and the fast PNGs against full
renderings of :func:`logo_figure`.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

# colour-blind-safe base colours (Okabe-Ito): A green, C blue, G orange, T vermillion
BASE_COLORS = {"A": "#009E73", "C": "#0072B2", "G": "#E69F00", "T": "#D55E00"}
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

    h = np.asarray(heights, dtype=np.float64)
    order = np.argsort(h, axis=1)  # per column, smallest at the bottom
    stacked = np.take_along_axis(np.abs(h), order, axis=1)
    floors_sorted = np.zeros_like(stacked)
    floors_sorted[:, 1:] = np.cumsum(stacked, axis=1)[:, :-1]  # the running sum logomaker's loop makes
    floors = np.empty_like(h)
    np.put_along_axis(floors, order, floors_sorted, axis=1)
    patches = []
    for j, base in enumerate("ACGT"):
        cols = np.flatnonzero(h[:, j] > 0)
        if len(cols) == 0:
            continue
        xy, codes = _outlines()[base]
        scale = np.stack([np.ones(len(cols)), h[cols, j]], axis=1)[:, None, :]
        shift = np.stack([cols, floors[cols, j]], axis=1)[:, None, :]
        path = MplPath((xy[None] * scale + shift).reshape(-1, 2), np.tile(codes, len(cols)))
        patches.append(PathPatch(path, facecolor=BASE_COLORS[base], edgecolor="none", linewidth=0))
    return patches


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
        """The logo as RGBA PNG scanlines (:func:`_png_rows`), cropped as ``savefig(bbox_inches="tight")`` crops
        (white beyond the canvas; the size is the padded box's width and height truncated); None when the title
        does not fit the figure."""
        from matplotlib.transforms import Bbox

        canvas, ax = self.fig.canvas, self.ax
        renderer = canvas.get_renderer()  # what draw_artist fetches for every artist
        canvas.restore_region(self.background)
        patches = letter_patches(heights)
        for p in patches:
            ax.add_artist(p)  # the axes' clipping and transform, as in a full draw
            p.draw(renderer)
        for s in ax.spines.values():  # drawn over the letters, as in a full draw
            s.draw(renderer)
        ax.title.set_text(title)
        ax.title.draw(renderer)
        for p in patches:
            p.remove()
        drawn = Bbox.union([self.box, ax.title.get_window_extent(renderer)])
        width, height = canvas.get_width_height(physical=True)
        if drawn.x0 < 0 or drawn.x1 > width or drawn.y0 < 0 or drawn.y1 > height:
            return None  # e.g. a title wider than the figure: only a full rendering shows all of it
        box = drawn.padded(0.1 * self.fig.dpi)
        w, h = int(box.width), int(box.height)
        left, top = int(round(box.x0)), int(round(height - box.y1))
        x0, x1, y0, y1 = max(0, left), min(width, left + w), max(0, top), min(height, top + h)
        rows = _png_rows(h, w, 4)
        out = rows[:, 1:].reshape(h, w, 4)  # the pixels, written in place into the PNG's row layout
        out[: y0 - top], out[y1 - top :] = 255, 255  # opaque white where the padded box leaves the canvas
        out[:, : x0 - left], out[:, x1 - left :] = 255, 255
        out[y0 - top : y1 - top, x0 - left : x1 - left] = np.asarray(canvas.buffer_rgba())[y0:y1, x0:x1]
        return rows


def _png_rows(h: int, w: int, channels: int) -> np.ndarray:
    """PNG scanlines ``[H, 1 + channels * W]``: a 0 byte (filter type "None") before each row of pixels."""
    rows = np.empty((h, 1 + channels * w), dtype=np.uint8)
    rows[:, 0] = 0
    return rows


def png_bytes(pixels: np.ndarray, dpi: float) -> bytes:
    """An RGB or RGBA array ``[H, W, 3 or 4]`` uint8 as PNG (8 bits per channel, the resolution in pHYs; RGBA as
    matplotlib writes it)."""
    h, w, channels = pixels.shape
    rows = _png_rows(h, w, channels)
    rows[:, 1:] = pixels.reshape(h, channels * w)
    return _png_from_rows(rows, channels, dpi)


def _png_from_rows(rows: np.ndarray, channels: int, dpi: float) -> bytes:
    """PNG bytes from unfiltered scanlines (:func:`_png_rows`), deflated at level 3: on logos (mostly white) ~2.5x
    faster than Pillow's adaptively filtered PNG, and the file is no larger; zlib releases the GIL, so several logos
    compress at once on threads."""
    import struct
    import zlib

    h, w = rows.shape[0], (rows.shape[1] - 1) // channels

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))

    per_metre = round(dpi / 0.0254)
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, {3: 2, 4: 6}[channels], 0, 0, 0)),
            chunk(b"pHYs", struct.pack(">IIB", per_metre, per_metre, 1)),
            chunk(b"IDAT", zlib.compress(rows, 3)),
            chunk(b"IEND", b""),
        ]
    )


def _write_png(rows: np.ndarray, path: Path, dpi: float) -> None:
    """Write a painted logo (RGBA scanlines from :meth:`_Frame.paint`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_png_from_rows(rows, 4, dpi))


def write_logo_pngs(
    logos: list[tuple[np.ndarray, str, str, str | os.PathLike]],
    dpi: float = 200,
    width_per_col: float = 0.35,
    workers: int | None = None,
    frames: dict | None = None,
) -> list[Path]:
    """Write many logos as PNG: ``logos`` is ``[(ppm [W, 4], mode, title, path), ...]``. The same picture as
    ``save_figure(logo_figure(ppm, mode, title), path)`` in a fraction of the time; encoding runs on ``workers``
    threads (default: the CPU count, at most 4). ``frames``: frames drawn beforehand (see :class:`LogoWorker`)."""
    from concurrent.futures import ThreadPoolExecutor

    workers = workers or min(4, os.cpu_count() or 1)
    frames = {} if frames is None else frames
    paths = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        jobs = []
        for ppm, mode, title, path in logos:
            heights = logo_heights(ppm, mode)
            key = (len(heights), mode, width_per_col, dpi)
            if key not in frames:
                frames[key] = _Frame(len(heights), mode, width_per_col, dpi)
            paths.append(Path(path))
            image = frames[key].paint(heights, title)
            if image is None:  # drawn whole, as figures.save_figure draws it
                paths[-1].parent.mkdir(parents=True, exist_ok=True)
                logo_figure(ppm, mode, title, width_per_col).savefig(
                    paths[-1], format="png", dpi=dpi, bbox_inches="tight"
                )
            else:
                jobs.append(pool.submit(_write_png, image, paths[-1], dpi))
        for job in jobs:
            job.result()
    return paths


def _logo_process(conn, width: int | None, dpi: float, width_per_col: float, modes: tuple[str, ...]) -> None:
    """The helper process: import matplotlib and draw the frames of ``width`` columns (for ``modes``), fork a copy
    of itself (:class:`_Sibling`), then write the logos sent, half of them each."""
    import gc

    gc.disable()  # a short-lived process: the collections during matplotlib's import cost ~0.09 s of its ~1 s
    try:
        frames = {(width, m, width_per_col, dpi): _Frame(width, m, width_per_col, dpi) for m in modes} if width else {}
        sibling = _Sibling.start(conn, lambda job: write_logo_pngs(job, dpi, width_per_col, frames=frames))
        job = conn.recv()
        if sibling is not None:
            sibling.send(job[1::2] if job else None)
        if job is None and sibling is not None:
            sibling.result()  # it exits at once; reaped here
        if job is not None:
            paths = write_logo_pngs(job[::2], dpi, width_per_col, frames=frames)
            theirs = sibling.result() if sibling is not None else None
            if theirs is None:  # no sibling, or it failed: the rest is written here
                theirs = write_logo_pngs(job[1::2], dpi, width_per_col, frames=frames)
            merged = [None] * len(job)
            merged[::2], merged[1::2] = paths, theirs
            conn.send(("ok", [str(p) for p in merged]))
    except Exception as exc:  # reported; the parent then writes the logos itself (and shows the real error)
        conn.send(("error", repr(exc)))


class _Sibling:
    """A copy of the helper, forked once its imports and frames are done (so it starts at once), that writes every
    other logo: while the parent waits for them, both CPUs paint. Linux only (the helper runs one thread then)."""

    def __init__(self, conn, pid: int):
        self.conn, self.pid = conn, pid

    @classmethod
    def start(cls, parent_conn, write) -> _Sibling | None:
        import multiprocessing
        import sys

        if not sys.platform.startswith("linux") or _cpus() < 2:
            return None
        mine, theirs = multiprocessing.Pipe()
        pid = os.fork()
        if pid:
            theirs.close()
            return cls(mine, pid)
        parent_conn.close()  # the main process must see the helper's end of the pipe close when the helper ends
        mine.close()
        status = 1
        try:
            job = theirs.recv()
            if job is not None:
                theirs.send([str(p) for p in write(job)])
            status = 0
        except BaseException:  # the helper sees a failure (EOF) and writes these logos itself
            pass
        finally:
            os._exit(status)  # no interpreter shutdown in a forked copy

    def send(self, job) -> None:
        self.conn.send(job)

    def result(self) -> list[str] | None:
        """The paths the sibling wrote, or None when it failed."""
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            return None
        finally:
            self.conn.close()
            os.waitpid(self.pid, 0)


def _cpus() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _stop_helper(process, conn) -> None:
    """End the helper: at once when it has nothing to write (no waiting for its imports), else it has already
    sent its result and is returning."""
    if process is None:
        return
    if process.is_alive():
        process.terminate()
        process.join(timeout=5)
    conn.close()


def _start_method() -> str:
    """How the helper starts: ``fork`` on Linux while this process runs a single thread and has not imported torch
    (the helper begins at once, numpy already imported: ~0.25 s sooner than a new interpreter; the dnalens CLI with
    given scores), else ``spawn`` (a fresh interpreter: safe whatever this process runs, e.g. the dashboard's
    server, or a Python session that has used a model)."""
    import sys
    import threading

    forced = os.environ.get("DNALENS_LOGO_START")  # "fork" / "spawn" (benchmarks, tests)
    if forced in ("fork", "spawn"):
        return forced
    quiet = threading.active_count() == 1 and "torch" not in sys.modules  # torch's thread pools do not fork well
    return "fork" if sys.platform.startswith("linux") and quiet else "spawn"


class LogoWorker:
    """PNG logos written by a helper process started before discovery, so that importing matplotlib and drawing
    the frames (~0.3 s) overlap the parent's work instead of following it. :meth:`start` hands the logos over,
    :meth:`finish` waits for them; when the helper cannot run or fails, the parent writes them itself (same files).
    Only worth it with a second CPU; ``width`` is the expected motif width (the window size). A context manager;
    the helper is also stopped when the object is dropped, and exits by itself when this process ends."""

    def __init__(
        self, width: int | None, dpi: float = 200, width_per_col: float = 0.35, modes: tuple[str, ...] = tuple(MODES)
    ):
        import multiprocessing
        import weakref

        self.dpi, self.width_per_col, self.logos = dpi, width_per_col, None
        ctx = multiprocessing.get_context(_start_method())
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_logo_process, args=(child, width, dpi, width_per_col, modes), daemon=True)
        try:
            self.process.start()
        except Exception:  # no interpreter to start, or this process may not have children (a daemon): no helper
            self.process = None
        child.close()
        self._stop = weakref.finalize(self, _stop_helper, self.process, self.conn)

    def start(self, logos: list) -> None:
        self.logos = logos
        try:
            if self.process is not None:
                self.conn.send(logos)
        except OSError:
            self.close()

    def finish(self) -> list[Path]:
        status, paths = "none", None
        if self.process is not None and self.logos is not None:
            try:
                if self.conn.poll(60 + 2 * len(self.logos)):  # a helper that hangs is given up on
                    status, paths = self.conn.recv()
                    self.process.join(timeout=2)  # it returns once it has sent the result
            except (EOFError, OSError):
                status = "broken"
        self.close()
        if status == "ok":
            return [Path(p) for p in paths]
        return write_logo_pngs(self.logos or [], self.dpi, self.width_per_col)

    def close(self) -> None:
        """Stop the helper (it returns by itself once it has written the logos; an idle one is terminated)."""
        self._stop()
        self.process = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start_logo_worker(
    formats: tuple[str, ...], width: int, modes: tuple[str, ...] = ("information",)
) -> LogoWorker | None:
    """A :class:`LogoWorker` for PNG logos when this process may use a second CPU, else None. The helper moves work
    (importing matplotlib, painting) rather than adding any, so it is started on a busy machine too: the logos cost
    the same CPU either way, and whatever CPU is free overlaps them with discovery. Start it early (this module
    imports nothing heavy) and hand it to ``motifs_report``."""
    choice = os.environ.get("DNALENS_LOGO_HELPER", "auto")  # "on" / "off" override the guess (benchmarks, tests)
    if "png" not in formats or choice == "off" or (choice != "on" and _cpus() < 2):
        return None
    if choice != "on" and _start_method() != "fork":  # a new interpreter re-imports __main__ (in a Streamlit or
        return None  # test process that is the app script: seconds); the logos are then drawn here

    return LogoWorker(width, modes=modes)
