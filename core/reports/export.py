"""The dashboard's "everything" zip: every figure shown (static formats drawn by matplotlib; interactive HTML on
request, all pages sharing one ``plotly.min.js``), every table (CSV and Parquet), text files (MEME, bedGraph) and
``provenance.json``. Built in the page's own run, so it can report progress and read nothing from elsewhere."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pandas as pd

FigureSpec = tuple  # (matplotlib builder or None, plotly figure or None)


def export_files(
    figures: dict[str, FigureSpec],
    tables: dict[str, pd.DataFrame],
    texts: dict[str, str | bytes],
    provenance: dict,
    formats: tuple[str, ...] = ("png", "svg", "pdf"),
    html: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[str, bytes]:
    """``{path in the zip: bytes}``: ``figures/<name>.<fmt>`` for each static format, ``figures/<name>.html`` (with
    ``figures/plotly.min.js`` once) when ``html``, ``tables/<name>.csv|parquet``, the texts and ``provenance.json``.
    ``progress(done, total, what)`` is called after each item."""
    from .figures import close, figure_bytes, safe_name

    files: dict[str, bytes] = {}
    total = len(figures) + len(tables) + 1
    done = 0
    step = progress or (lambda done, total, what: None)
    for name, (builder, pfig) in figures.items():
        stem = f"figures/{safe_name(name)}"
        if builder is not None and formats:
            fig = builder()
            try:
                for fmt in formats:
                    files[f"{stem}.{fmt}"] = figure_bytes(fig, fmt)
            finally:
                close(fig)
        if html and pfig is not None:
            files[f"{stem}.html"] = pfig.to_html(include_plotlyjs="directory", full_html=True).encode()
        done += 1
        step(done, total, name)
    if html and any(p is not None for _, p in figures.values()):
        from plotly.offline import get_plotlyjs

        files["figures/plotly.min.js"] = get_plotlyjs().encode()
    for name, df in tables.items():
        files[f"tables/{safe_name(name)}.csv"] = df.to_csv(index=False).encode()
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        files[f"tables/{safe_name(name)}.parquet"] = buf.getvalue()
        done += 1
        step(done, total, name)
    for name, text in texts.items():
        files[name] = text if isinstance(text, bytes) else text.encode()
    files["provenance.json"] = json.dumps(provenance, indent=2, default=str).encode()
    step(total, total, "provenance.json")
    return files
