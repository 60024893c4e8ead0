"""Shared dashboard plumbing: session state, cached model runs, downloads, error display. UI only; logic is core."""

from __future__ import annotations

import os

import numpy as np
import streamlit as st

from core.errors import DnalensError
from core.paths import SAMPLE_DATA as SAMPLE

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# ------------------------------------------------------------------------------------------------ session state
def init() -> None:
    """Defaults for a new browser session: the demo model and the sample data, already loaded."""
    ss = st.session_state
    if "seqs" not in ss:
        from core.io.sequences import read_fasta

        ss.seqs = read_fasta(SAMPLE / "demo.fa")
        ss.source_label = "sample data (demo.fa)"
        ss.inputs = {"demo.fa": (SAMPLE / "demo.fa").read_bytes()}
    ss.setdefault("model_name", "demo")
    ss.setdefault("device", "auto")
    ss.setdefault("dtype", "float32")
    ss.setdefault("trust_remote_code", False)
    ss.setdefault("selected", ss.seqs[0].id if ss.seqs else None)
    ss.setdefault("exports", {})  # name -> (bytes, mime) collected for the Export page
    ss.setdefault("params", {})


def seqs():
    return st.session_state.seqs


def select_sequence(label: str = "sequence", key: str = "select_seq"):
    ids = [s.id for s in seqs()]
    if not ids:
        st.info("No sequences loaded: add some on the Sequences page.")
        st.stop()
    cur = st.session_state.get("selected")
    idx = ids.index(cur) if cur in ids else 0
    sid = st.selectbox(label, ids, index=idx, key=key)
    st.session_state.selected = sid
    return next(s for s in seqs() if s.id == sid)


def seq_key(items) -> tuple:
    """Hashable, content-based cache key of sequences."""
    return tuple((s.id, s.seq, s.chrom, s.start, s.end, s.strand) for s in items)


def from_key(key: tuple):
    from core.io.sequences import Sequence

    return [Sequence(i, q, chrom=c, start=a, end=b, strand=st_) for i, q, c, a, b, st_ in key]


# ------------------------------------------------------------------------------------------------ cached work
@st.cache_resource(show_spinner="Loading the model ...")
def load_model_cached(name: str, device: str, dtype: str, trust_remote_code: bool = False):
    from core.model.loading import load_model

    return load_model(None if name == "demo" else name, device=device, dtype=dtype, trust_remote_code=trust_remote_code)


def model_key() -> tuple:
    """(name, device, dtype, trust_remote_code) of the loaded model: the cache key of everything computed with it."""
    ss = st.session_state
    return ss.model_name, ss.device, ss.dtype, ss.trust_remote_code


def model():
    ss = st.session_state
    try:
        return load_model_cached(*model_key())
    except DnalensError as exc:
        st.error(f"Cannot load model '{ss.model_name}': {exc}")
        st.stop()


def _bar(text: str, total: int):
    bar = st.progress(0.0, text=text)
    return bar, (lambda n: bar.progress(min(1.0, n / max(1, total)), text=f"{n}/{total} sequences"))


@st.cache_data(show_spinner=False, max_entries=16)
def run_model(mkey: tuple, key: tuple):
    """Model outputs (probabilities, [CLS] rows of every layer/head, forward reading) for the layer x head grid;
    cached by content."""
    from core.model.inference import run

    lm = load_model_cached(*mkey)
    items = from_key(key)
    bar, update = _bar(f"Running {lm.name} on {len(items)} sequences ...", len(items))
    out = list(run(lm, items, batch_size=32, progress=update))
    bar.empty()
    return out


@st.cache_data(show_spinner=False, max_entries=32)
def lens_tracks(mkey: tuple, key: tuple, lens):
    """Every sequence's :class:`core.lenses.Tracks` under ``lens``; cached by model, content and lens."""
    from core.lenses import tracks

    lm = load_model_cached(*mkey)
    items = from_key(key)
    bar, update = _bar(f"{lens.describe()} on {len(items)} sequences ...", len(items))
    out = tracks(lm, items, lens, progress=update)
    bar.empty()
    return out


def outputs(items=None):
    items = seqs() if items is None else items
    try:
        return run_model(model_key(), seq_key(items))
    except DnalensError as exc:
        st.error(str(exc))
        st.stop()


@st.cache_data(show_spinner=False, max_entries=16)
def _predictions(mkey: tuple, key: tuple) -> dict:
    from core.model.scoring import class_probabilities

    lm = load_model_cached(*mkey)
    items = from_key(key)
    probs = class_probabilities(lm, items, batch_size=64)
    return {s.id: p for s, p in zip(items, probs)}


def predictions() -> dict:
    """{id: probs} for the loaded sequences (empty when the model has no classification head)."""
    lm = model()
    if not lm.has_classifier:
        return {}
    return _predictions(model_key(), seq_key(seqs()))


# ------------------------------------------------------------------------------------------------ output helpers
def show_error(exc: Exception) -> None:
    if isinstance(exc, DnalensError):
        st.error(str(exc))
    else:
        st.error(f"Something went wrong ({type(exc).__name__}: {exc}). Your loaded data is unchanged.")


def downloads(name: str, mpl_builder=None, plotly_fig=None, key: str | None = None) -> None:
    """PNG/SVG/PDF (matplotlib rendering of the same data, no browser needed) and HTML (interactive plotly)."""
    from core.reports.figures import close, figure_bytes

    key = key or name
    cols = st.columns(4)

    def render(fmt):
        def make():
            fig = mpl_builder()
            try:
                return figure_bytes(fig, fmt)
            finally:
                close(fig)

        return make

    mimes = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
    if mpl_builder is not None:
        for col, fmt in zip(cols, ("png", "svg", "pdf")):
            col.download_button(
                fmt.upper(),
                render(fmt),
                file_name=f"{name}.{fmt}",
                mime=mimes[fmt],
                key=f"dl_{key}_{fmt}",
                on_click="ignore",
            )
    if plotly_fig is not None:
        cols[3].download_button(
            "HTML",
            lambda: plotly_fig.to_html(include_plotlyjs=True, full_html=True),
            file_name=f"{name}.html",
            mime="text/html",
            key=f"dl_{key}_html",
            on_click="ignore",
        )
    st.session_state.exports[name] = (mpl_builder, plotly_fig)


def pvalue_columns(df) -> dict:
    """column_config showing p-, q- and E-value columns in scientific notation (0.0000 hides 3e-15)."""
    names = [
        c
        for c in df.columns
        if c in ("p", "q") or c.endswith(("_p", "_q")) or c.lower() in ("p-value", "q-value", "e-value")
    ]
    return {c: st.column_config.NumberColumn(format="%.2e") for c in names}


def table_downloads(df, name: str, key: str | None = None) -> None:
    import io

    key = key or name
    c1, c2 = st.columns(2)
    c1.download_button(
        f"{name}.csv",
        lambda: df.to_csv(index=False),
        file_name=f"{name}.csv",
        mime="text/csv",
        key=f"dl_{key}_csv",
        on_click="ignore",
    )

    def pq():
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return buf.getvalue()

    c2.download_button(
        f"{name}.parquet",
        pq,
        file_name=f"{name}.parquet",
        mime="application/octet-stream",
        key=f"dl_{key}_parquet",
        on_click="ignore",
    )
    st.session_state.setdefault("tables", {})[name] = df


def lens_controls(lm, prefix: str = "att"):
    """Recipe / layers / heads / aggregation / orientation controls; returns an attention lens."""
    from core.lenses import Attention

    c1, c2, c3 = st.columns(3)
    recipe = c1.selectbox(
        "recipe",
        ["dnabert-viz", "custom", "rollout"],
        key=f"{prefix}_recipe",
        help="dnabert-viz: last layer [CLS] row, heads summed, k-mer mean, L2 (DNABERT-viz)",
    )
    orientation = c2.selectbox(
        "orientation",
        ["forward", "reverse", "both"],
        key=f"{prefix}_strand",
        help="reverse: the model reads the reverse complement; scores shown at the "
        "sequence's own positions; both: the two readings averaged",
    )
    layers = heads = None
    head_agg, layer_agg, norm = "sum", "mean", "l2"
    if recipe == "custom":
        layers = tuple(
            c1.multiselect("layers", list(range(lm.n_layers)), default=[lm.n_layers - 1], key=f"{prefix}_layers")
        ) or (lm.n_layers - 1,)
        heads = tuple(c2.multiselect("heads (empty = all)", list(range(lm.n_heads)), key=f"{prefix}_heads")) or None
        head_agg = c3.selectbox("head aggregation", ["sum", "mean", "max"], key=f"{prefix}_hagg")
        layer_agg = c3.selectbox("layer aggregation", ["mean", "sum", "max"], key=f"{prefix}_lagg")
    if recipe != "dnabert-viz":
        norm = c3.selectbox("normalisation", ["l2", "max", "sum", "none"], key=f"{prefix}_norm")
    return Attention(
        recipe=recipe,
        layers=layers,
        heads=heads,
        head_agg=head_agg,
        layer_agg=layer_agg,
        normalize=norm,
        orientation=orientation,
    )


def tracks_for(lens, items=None) -> list[np.ndarray]:
    """The score arrays of ``items`` (default: every loaded sequence) under ``lens``."""
    items = seqs() if items is None else items
    try:
        return lens_tracks(model_key(), seq_key(items), lens).scores
    except DnalensError as exc:
        st.error(str(exc))
        st.stop()
