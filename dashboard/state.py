"""Shared dashboard plumbing: session state, cached model runs, downloads, error display. UI only; logic is core."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

import numpy as np
import streamlit as st

from core.errors import DnalensError
from core.paths import SAMPLE_DATA as SAMPLE

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# ------------------------------------------------------------------------------------------------ session state
# Set once this browser tab has drawn the Attention page's landscape (dashboard/views/attention.py sends the rest of
# the page after it); AppTest runs no browser, so tests set it themselves.
LANDSCAPE_SHOWN = "landscape_shown"
# Widget settings that are kept across pages and saved in a session file (fixed options only: values that depend
# on the loaded data or model, such as a chosen sequence or layer, are not restored into widgets). A page's widget
# with one of these keys also takes persist_state="session": without it, coming back to the page showed the widget's
# default while the page used the kept value.
SETTINGS_KEYS = (
    "att_recipe",
    "att_strand",
    "att_hagg",
    "att_lagg",
    "att_norm",
    "lens_name",
    "ism_summary",
    "attr_output",
    "ig_steps",
    "ig_baseline",
    "eg_steps",
    "eg_shuffles",
    "mlm_score",
    "mlm_combine",
    "land_sort",
    "land_align",
    "mt_pos",
    "mt_thr",
    "mt_bg",
    "mt_w",
    "mt_minlen",
    "mt_cut",
    "mt_minn",
    "mt_parity",
    "mt_rule",
    "mt_release",
    "mt_logo",
    "nv_thr",
    "bv_kind",
    "exp_html",
)


def sample_label(name: str, items) -> str:
    """What a sample set is, from what was read: ``demo.fa: 200 sequences (100 labelled 1, 100 labelled 0)``."""
    from collections import Counter

    counts = Counter(s.label for s in items)
    parts = [f"{n} labelled {lab}" for lab, n in sorted(counts.items(), key=lambda x: (x[0] is None, -(x[0] or 0)))]
    parts = [p.replace("labelled None", "unlabelled") for p in parts]
    return f"{name}: {len(items)} sequences ({', '.join(parts)})"


def init() -> None:
    """Defaults for a new browser session: the demo model and the sample data, already loaded."""
    ss = st.session_state
    if "seqs" not in ss:
        from core.io.sequences import read_fasta

        ss.seqs = read_fasta(SAMPLE / "demo.fa")
        ss.source_label = sample_label("sample demo.fa", ss.seqs)
        ss.inputs = {"demo.fa": (SAMPLE / "demo.fa").read_bytes()}
    ss.setdefault("model_name", "demo")
    ss.setdefault("device", "auto")
    ss.setdefault("dtype", "float32")
    ss.setdefault("trust_remote_code", False)
    ss.setdefault("selected", ss.seqs[0].id if ss.seqs else None)
    ss.setdefault("exports", {})  # figure name -> (matplotlib builder, plotly figure), for the Export page
    ss.setdefault("params", {})
    ss.setdefault("settings", {})  # SETTINGS_KEYS values, kept when a page's widgets are not on screen
    ss.setdefault("restored", None)  # results from an opened session file (see tracks_for)
    for key, value in ss.settings.items():  # widgets of the page about to be drawn start where they were left
        if key not in ss:
            ss[key] = value


def keep_settings() -> None:
    """Remember the settings widgets hold (called at the end of every run)."""
    ss = st.session_state
    ss.settings.update({k: ss[k] for k in SETTINGS_KEYS if k in ss})


def fragment_done() -> None:
    """The end of a fragment's run (a fragment rerun does not reach the app's last lines): the settings are kept
    and the snapshot the "Save session" button writes is brought up to date."""
    box = st.session_state.get("_snapshot")
    if box is not None:
        box["session"] = session_snapshot()
    else:
        keep_settings()


_heap = {"modules": 0}  # how many modules were loaded when the heap was last frozen (one count per process)


def freeze_heap() -> None:
    """Keep Python's full garbage collections off the long-lived heap. A full collection walks every object the
    process holds (torch, transformers, plotly, the model: 100-500 ms on our machines), and the objects a Streamlit
    rerun allocates set one off on nearly every rerun: that was half of a control change's time. After a run that
    imported something (a new page, the first model), the heap is collected once and frozen (``gc.freeze``: out of
    the collector's sight for good); what later runs allocate is collected as before. Called at the end of each
    full run; costs a length check when nothing new was imported."""
    import gc

    if len(sys.modules) == _heap["modules"]:
        return
    _heap["modules"] = len(sys.modules)
    gc.collect()
    gc.freeze()


def seqs():
    return st.session_state.seqs


def _pick(key: str) -> None:
    st.session_state.selected = st.session_state[key]


def select_sequence(label: str = "sequence", key: str | None = None):
    """The selected sequence, shared by every page (and set by a click on the landscape). Each page has its own
    widget (``select_seq_<page>``), set from the shared selection before it is drawn, so a value another page's
    widget left behind in the browser never overrides it. Inside a fragment, a change reruns that fragment only."""
    from pathlib import Path

    ss = st.session_state
    key = key or f"select_seq_{Path(sys._getframe(1).f_code.co_filename).stem}"
    ids = [s.id for s in seqs()]
    if not ids:
        st.info("No sequences loaded: add some on the Sequences page.")
        st.stop()
    if ss.get("selected") not in ids:
        ss.selected = ids[0]
    if ss.get(key) != ss.selected:
        ss[key] = ss.selected
    sid = st.selectbox(label, ids, key=key, on_change=_pick, args=(key,))
    ss.selected = sid
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
def run_model(mkey: tuple, key: tuple, _progress=None):
    """Model outputs (probabilities, [CLS] rows of every layer/head, forward reading) for the layer x head grid;
    cached by content. ``_progress(n)``: as for :func:`lens_tracks`."""
    from core.model.inference import run

    lm = load_model_cached(*mkey)
    items = from_key(key)
    if _progress is not None:
        return list(run(lm, items, batch_size=32, progress=_progress))
    bar, update = _bar(f"Running {lm.name} on {len(items)} sequences ...", len(items))
    out = list(run(lm, items, batch_size=32, progress=update))
    bar.empty()
    return out


@st.cache_data(show_spinner=False, max_entries=32)
def lens_tracks(mkey: tuple, key: tuple, lens, _progress=None):
    """Every sequence's :class:`core.lenses.Tracks` under ``lens``; cached by model, content and lens.
    ``_progress(n)`` (not part of the key): sequences done, from a run in a thread (:mod:`dashboard.jobs`); without
    it a progress bar is drawn on the page."""
    from core.lenses import tracks

    lm = load_model_cached(*mkey)
    items = from_key(key)
    if _progress is not None:
        from dashboard.lens_runs import costly, sliced

        if costly(lens):  # small slices: the progress counts sequences and Stop acts between slices
            return sliced(mkey, key, lens, _progress)
        return tracks(lm, items, lens, progress=_progress)
    bar, update = _bar(f"{lens.describe()} on {len(items)} sequences ...", len(items))
    out = tracks(lm, items, lens, progress=update)
    bar.empty()
    return out


@st.cache_data(show_spinner=False, max_entries=64)
def token_attention(mkey: tuple, bases: str, start: int, end: int):
    """``(att [layers, heads, T, T], tokens)`` of one window (:func:`core.model.inference.token_matrices`), cached
    by model and content: the head views redraw from here instead of running the model again."""
    from core.model.inference import token_matrices

    with one_torch_thread():
        att, toks, _ = token_matrices(load_model_cached(*mkey), bases, start, end)
    return att, list(toks)


@contextmanager
def one_torch_thread():
    """torch on one thread for a small, latency-bound forward pass: one window's. With two threads, each parallel
    region waits for the slower one, and while a page is shown the browser keeps the other core busy drawing it: one
    window took 17-110 ms (200-290 ms in the app) instead of 6. ``set_num_threads`` is per thread for threads already
    running (another session's run keeps its count) and the default for threads started meanwhile; it is restored."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@st.cache_resource(show_spinner=False, max_entries=128)
def figure(builder: str, *args, **kwargs):
    """``core.reports.figures.<builder>(*args, **kwargs)``, built once per distinct input (hashed by content) and
    shared, never changed after: a rerun that shows the same data does not build its figure again."""
    from core.reports import figures

    return getattr(figures, builder)(*args, **kwargs)


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
    out = _predictions(model_key(), seq_key(seqs()))
    st.session_state.shown_preds = (model_key(), seq_key(seqs()), out)
    return out


# ------------------------------------------------------------------------------------------------ output helpers
def show_error(exc: Exception) -> None:
    if isinstance(exc, DnalensError):
        st.error(str(exc))
    else:
        st.error(f"Something went wrong ({type(exc).__name__}: {exc}). Your loaded data is unchanged.")


def input_digests() -> dict:
    """``{input name: sha256}`` of every input the loaded sequences came from (each hashed once per session)."""
    import hashlib

    ss = st.session_state
    cache = ss.setdefault("_input_sha", {})
    out = {}
    for name, data in ss.get("inputs", {}).items():
        k = (name, len(data), id(data))
        if k not in cache:
            cache[k] = hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()
        out[name] = cache[k]
    return out


def sequence_set() -> dict:
    """The loaded sequence set: its label, count, a sha256 of ids and bases, and its inputs' sha256."""
    import hashlib

    ss = st.session_state
    items = seqs()
    got = ss.get("_set_sha")
    if not got or got[0] is not items:
        h = hashlib.sha256()
        for s in items:
            h.update(f"{s.id}\t{s.seq}\n".encode())
        ss._set_sha = got = (items, h.hexdigest())
    return {"label": ss.get("source_label", ""), "n": len(items), "sha256": got[1], "inputs_sha256": input_digests()}


def made_with(lens=None) -> dict:
    """What a figure or table shown now was made with (for the export's provenance): the lens (``describe()`` and
    settings; default the sidebar's; a string for a method that is not a lens), the model, the sequence set."""
    lens = current_lens() if lens is None else lens
    out = {"lens": lens} if isinstance(lens, str) else {"lens": lens.describe(), "lens_settings": lens.params()}
    return {**out, "model": st.session_state.get("model_name"), "sequences": sequence_set()}


def downloads(name: str, mpl_builder=None, plotly_fig=None, key: str | None = None, lens=None) -> None:
    """PNG/SVG/PDF (matplotlib rendering of the same data, no browser needed) and HTML (interactive plotly).
    ``lens``: what the figure was made with (default the sidebar's lens), kept for the export's provenance."""
    from core.reports.figures import close, figure_bytes

    key = key or name
    row = st.container(horizontal=True)  # one block, not a column block per button: less for the browser to render

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
        for fmt in ("png", "svg", "pdf"):
            row.download_button(
                fmt.upper(),
                render(fmt),
                file_name=f"{name}.{fmt}",
                mime=mimes[fmt],
                key=f"dl_{key}_{fmt}",
                on_click="ignore",
            )
    if plotly_fig is not None:
        row.download_button(
            "HTML",
            lambda: plotly_fig.to_html(include_plotlyjs=True, full_html=True),
            file_name=f"{name}.html",
            mime="text/html",
            key=f"dl_{key}_html",
            on_click="ignore",
        )
    st.session_state.exports[name] = (mpl_builder, plotly_fig)
    st.session_state.setdefault("export_meta", {})[f"figures/{name}"] = made_with(lens)


def pvalue_columns(df) -> dict:
    """column_config showing p-, q- and E-value columns in scientific notation (0.0000 hides 3e-15)."""
    names = [
        c
        for c in df.columns
        if c in ("p", "q") or c.endswith(("_p", "_q")) or c.lower() in ("p-value", "q-value", "e-value")
    ]
    return {c: st.column_config.NumberColumn(format="%.2e") for c in names}


def table_downloads(df, name: str, key: str | None = None, lens=None) -> None:
    """CSV and Parquet downloads of ``df``; ``lens`` as for :func:`downloads`."""
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
    st.session_state.setdefault("export_meta", {})[f"tables/{name}"] = made_with(lens)


LENS_HELP = {
    "attention": "what the model attends to from [CLS] (not an explanation: compare with ISM on the Mutations page)",
    "ism": "in-silico mutagenesis: 3 model calls per base, the prediction change of every substitution",
    "grad-input": "gradient × input on the token embeddings, spread to bases",
    "ig": "integrated gradients from a neutral baseline (n steps forward+backward per sequence)",
    "expected-gradients": "integrated gradients averaged over dinucleotide-shuffled references",
    "mlm": "masked-LM probability of each base (every token covering it masked)",
}
LENS_KEYS = ("lens_name", "att_recipe", "att_strand", "att_layers", "att_heads", "att_hagg", "att_lagg", "att_norm")
LENS_KEYS += ("lens_target", "ism_summary", "attr_output", "ig_steps", "ig_baseline", "eg_steps", "eg_shuffles")
LENS_KEYS += ("mlm_score", "mlm_combine")


def lens_choices(lm) -> list[str]:
    """The registered lenses (:data:`core.lenses.LENSES`) that apply to ``lm``: attribution lenses and ISM need a
    classification head, ``mlm`` a masked-LM head."""
    from core.lenses import LENSES

    out = []
    for name, cls in LENSES.items():
        if (cls.needs_classifier and not lm.has_classifier) or (cls.needs_masked_lm and not lm.is_masked_lm):
            continue
        why = getattr(cls, "applies_to", None)
        if why is not None and why(cls(), lm):
            continue
        out.append(name)
    return out


def _attention_options(lm, box) -> dict:
    recipe = box.selectbox(
        "recipe",
        ["dnabert-viz", "custom", "rollout"],
        key="att_recipe",
        help="dnabert-viz: last layer [CLS] row, heads summed, k-mer mean, L2 (DNABERT-viz); custom: layers, heads "
        "and aggregation; rollout: attention rollout (Abnar & Zuidema)",
    )
    opts = {"recipe": recipe}
    if recipe == "custom":
        layers = box.multiselect("layers", list(range(lm.n_layers)), default=[lm.n_layers - 1], key="att_layers")
        opts["layers"] = tuple(sorted(layers)) or (lm.n_layers - 1,)
        opts["heads"] = tuple(box.multiselect("heads (empty = all)", list(range(lm.n_heads)), key="att_heads")) or None
        opts["head_agg"] = box.selectbox("head aggregation", ["sum", "mean", "max"], key="att_hagg")
        opts["layer_agg"] = box.selectbox("layer aggregation", ["mean", "sum", "max"], key="att_lagg")
    if recipe != "dnabert-viz":
        opts["normalize"] = box.selectbox("normalisation", ["l2", "max", "sum", "none"], key="att_norm")
    return opts


def _target(lm, box) -> dict:
    names = lm.label_names
    pick = box.selectbox(
        "scored class",
        ["default"] + names,
        key="lens_target",
        help="default: the positive (last) class of a binary model, else each sequence's predicted class",
    )
    return {} if pick == "default" else {"target": pick}


def _lens_options(name: str, lm, box) -> dict:
    """The main options of lens ``name`` as widgets in ``box``; returns the lens's keyword arguments."""
    from core.lenses.attribution import BASELINES, OUTPUTS
    from core.lenses.ism import SUMMARIES
    from core.lenses.mlm import COMBINE, SCORES

    if name == "attention":
        return _attention_options(lm, box)
    if name == "mlm":
        return {
            "score": box.selectbox("score", list(SCORES), key="mlm_score"),
            "combine": box.selectbox("covering k-mers combined by", list(COMBINE), key="mlm_combine"),
        }
    opts = _target(lm, box)
    if name == "ism":
        opts["summary"] = box.selectbox(
            "per-position summary", list(SUMMARIES), key="ism_summary", help="maxabs: max |Δp| over the 3 substitutions"
        )
        return opts
    if name in ("grad-input", "ig", "expected-gradients"):
        opts["output"] = box.selectbox("scored output", list(OUTPUTS), key="attr_output")
    if name == "ig":
        opts["n_steps"] = int(box.number_input("IG steps", 1, 512, 32, key="ig_steps"))
        opts["baseline"] = box.selectbox(
            "baseline", list(BASELINES), key="ig_baseline", help="pad: all-[PAD] embeddings inside [CLS]/[SEP]"
        )
    if name == "expected-gradients":
        opts["n_steps"] = int(box.number_input("steps per reference", 1, 256, 16, key="eg_steps"))
        opts["shuffles"] = int(box.number_input("shuffled references", 1, 64, 8, key="eg_shuffles"))
    return opts


def lens_picker(lm) -> None:
    """The sidebar's lens picker: every registered lens that applies to the loaded model, its main options and the
    orientation. Sets what :func:`current_lens` returns (one source of truth for every page)."""
    from core.errors import InputError
    from core.lenses import make_lens

    ss = st.session_state
    names = lens_choices(lm)
    if ss.get("lens_name") not in names:
        ss.lens_name = "attention"
    name = st.selectbox("lens", names, key="lens_name", help="; ".join(f"{n}: {LENS_HELP.get(n, n)}" for n in names))
    orientation = st.selectbox(
        "orientation",
        ["forward", "reverse", "both"],
        key="att_strand",
        help="reverse: the model reads the reverse complement; scores shown at the sequence's own positions; "
        "both: the two readings combined",
    )
    with st.expander("lens options", expanded=False):
        opts = _lens_options(name, lm, st)
    try:
        ss.lens = make_lens(name, orientation=orientation, **opts)
    except InputError as exc:
        st.error(str(exc))
        ss.lens = make_lens("attention", orientation=orientation)
    st.caption(f"**{ss.lens.describe()}** · {LENS_HELP.get(name, '')}")


def current_lens():
    """The lens chosen in the sidebar (a frozen dataclass from :mod:`core.lenses`: hashable, a cache key); the
    default attention lens before the sidebar ran."""
    lens = st.session_state.get("lens")
    if lens is None:
        from core.lenses import Attention

        lens = Attention()
    return lens


def tracks_for(lens, items=None) -> list[np.ndarray]:
    """The score arrays of ``items`` (default: every loaded sequence) under ``lens``. An opened session file's saved
    tracks are used when model, sequences and lens are the ones it was saved with (nothing is recomputed)."""
    ss = st.session_state
    every = items is None
    items = seqs() if items is None else items
    saved = ss.get("restored")
    if saved and saved["model"] == model_key() and saved["lens"] == lens and saved["seq_key"] == seq_key(seqs()):
        return [saved["tracks"][s.id] for s in items]
    try:
        if every:  # the long one (every loaded sequence): in a thread, with progress and a Stop button
            from dashboard import jobs

            mkey, key = model_key(), seq_key(items)
            out = jobs.run(
                "tracks",
                (mkey, key, lens),
                lambda progress: lens_tracks(mkey, key, lens, lambda n: progress(n, len(key))).scores,
                f"{lens.describe()} on {len(items)} sequences",
            )
        else:
            out = lens_tracks(model_key(), seq_key(items), lens).scores
    except DnalensError as exc:
        st.error(str(exc))
        st.stop()
    if every:  # what a saved session keeps to redraw
        ss.shown = {"model": model_key(), "seq_key": seq_key(items), "lens": lens, "tracks": out}
    return out


# ------------------------------------------------------------------------------------------------ session files
def session_snapshot():
    """This session as a :class:`core.reports.session.Session` (references only, nothing is computed): inputs,
    settings, model, the tracks last shown for every loaded sequence and their predictions, the result tables."""
    from core.reports.session import Session

    ss = st.session_state
    keep_settings()
    shown = ss.get("shown")
    if not shown or shown["model"] != model_key() or shown["seq_key"] != seq_key(seqs()):
        shown = None
    preds = ss.get("shown_preds")
    preds = preds[2] if preds and preds[:2] == (model_key(), seq_key(seqs())) else None
    return Session(
        sequences=list(seqs()),
        model={"name": ss.model_name, "device": ss.device, "dtype": ss.dtype, "trust": ss.trust_remote_code},
        settings=dict(ss.settings),
        selected=ss.get("selected"),
        source_label=ss.get("source_label", ""),
        inputs=dict(ss.get("inputs", {})),
        lens=shown["lens"].params() if shown else None,
        tracks=shown["tracks"] if shown else None,
        predictions=np.stack([preds[s.id] for s in seqs()]) if preds and seqs() else None,
        tables=dict(ss.get("tables", {})),
    )


def open_session(data: bytes, name: str) -> str:
    """Restore a session file into this browser session; returns what was restored (raises DnalensError)."""
    from core.reports.session import lens_of, read_session

    ss = st.session_state
    saved = read_session(data, source=name)
    m = saved.model
    mkey = (m.get("name", "demo"), m.get("device", "auto"), m.get("dtype", "float32"), bool(m.get("trust", False)))
    load_model_cached(*mkey)  # refuses a model that is not here before anything changes
    ss.model_name, ss.device, ss.dtype, ss.trust_remote_code = mkey
    ss.seqs, ss.inputs = saved.sequences, saved.inputs
    ss.source_label = saved.source_label or name
    ss.selected = saved.selected
    ss.tables = dict(saved.tables)
    ss.exports, ss.params, ss.export_meta = {}, {}, {}
    for key in [k for k in ss.settings if k in ss]:  # the saved values replace what the widgets hold
        del ss[key]
    ss.settings = {k: (tuple(v) if isinstance(v, list) else v) for k, v in saved.settings.items() if k in SETTINGS_KEYS}
    ss.restored = None
    lens = lens_of(saved.lens)
    if lens is not None and saved.tracks is not None:
        ss.restored = {
            "model": mkey,
            "lens": lens,
            "seq_key": seq_key(saved.sequences),
            "tracks": {s.id: t for s, t in zip(saved.sequences, saved.tracks)},
        }
    return f"{len(saved.sequences)} sequences, model {mkey[0]}, {len(ss.settings)} settings, {len(saved.tables)} tables"


# ------------------------------------------------------------------------------------------------ masked LM
def mlm_key() -> tuple:
    """The model key of the masked LM behind the masked-LM features (zero-shot llr, dependency maps, the mlm track
    beside a classifier's lenses): the loaded model when it has a masked-LM head, else the shipped demo MLM."""
    ss = st.session_state
    if model().is_masked_lm:
        return model_key()
    return ("demo-mlm", ss.device, ss.dtype, False)


def mlm_model():
    """The masked LM of :func:`mlm_key`, loaded once per server."""
    try:
        return load_model_cached(*mlm_key())
    except DnalensError as exc:
        st.error(f"Cannot load the masked LM: {exc}")
        st.stop()
