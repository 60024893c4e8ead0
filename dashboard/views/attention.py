"""Attention page: the landscape of many sequences (a click on a row selects that sequence everywhere), then the
selected sequence's track, layer x head grid and token x token matrix (cropped in tokens).

Fragments, so a control reruns only what depends on it: the landscape (its sort, alignment and rows), the selected
sequence's panels (a new sequence, picked or clicked: one run) and, nested, the matrix (layer, head, crop). Figures
come from :func:`dashboard.state.figure` (built once per input) and the token matrices from
:func:`state.token_attention` (the model runs once per sequence), so a rerun only sends what is already there; the
charts (:mod:`dashboard.chart`) redraw in place.

The first time a browser tab shows the page, the selected sequence's panels are sent only after the landscape's first
draw is on screen (the chart reports it): the browser renders the page's elements on one thread, and the ~60 elements
below the landscape would otherwise be rendered before it is drawn (new tab on a running server, interleaved A/B:
4.39 -> 3.64 s)."""

import threading

import numpy as np
import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from core.lenses.attention import cls_grid, landscape, landscape_order
from core.reports import figures as plots
from dashboard import lens_runs, state
from dashboard.chart import after_first_chart, chart, figure_json

ss = st.session_state
SORTS = ["prediction", "label", "peak", "input"]  # the landscape's row orders (core.lenses.attention.landscape_order)
FEW = 12  # layers or heads picked with one click (a segmented control) up to this many; more: a selectbox
PREPARED_CELLS = 400_000  # landscapes up to this many cells get their other sort orders built ahead (memory: 4x)
st.title("Attention")
lm = state.model()
seqs = state.seqs()
if not seqs:
    st.info("No sequences loaded: add some on the Sequences page.")
    st.stop()
ROWS_KEY = f"land_rows_{len(seqs)}"  # the landscape's rows slider, one per set size: a kept value fits its range
ROWS_DEFAULT = min(len(seqs), 200)
lens = state.current_lens()  # the sidebar's lens picker: one source of truth for every page
by_id = {s.id: i for i, s in enumerate(seqs)}
shown = lens_runs.set_tracks(lens, seqs[by_id.get(ss.get("selected"), 0)])
tracks, set_lens = shown.scores, shown.lens  # set_lens: the lens of the set's tracks (stopped: the one before)
track_lens = lens if shown.pending else set_lens
where = "" if set_lens == lens else f" (not {lens.name}: that lens is not computed for the set)"
shown_as = (
    f"Track and landscape: **{track_lens.describe()}**"
    if tracks and set_lens == track_lens
    else f"Track: **{track_lens.describe()}** · landscape: **{set_lens.describe() if tracks else 'none yet'}**{where}"
)
st.caption(f"{shown_as} (change the lens and its options in the sidebar).")
preds = state.predictions()


def _selected():
    """The selected sequence (shared by every page), without drawing a widget."""
    return seqs[by_id.get(ss.get("selected"), 0)]


def track_panel() -> None:
    seq = state.select_sequence(key="select_seq_attention")
    if shown.pending:  # the sidebar's lens for this one sequence, computed at once
        try:
            tr = lens_runs.one_track(lens, seq)[0]
        except Exception as exc:
            state.show_error(exc)
            return
    else:
        tr = tracks[by_id[seq.id]]
    score = track_lens.score_name
    p_txt = f" · p({lm.label_names[-1]}) = {preds[seq.id][-1]:.3f}" if preds else ""
    title = f"{seq.id}{p_txt} · {track_lens.describe()}"
    genomic = seq.genomic_positions() if seq.has_coordinates else None
    fig = state.figure("plotly_track", seq.seq, tr, title, genomic, seq.chrom, score_name=score)
    chart(fig, key="track_chart", name=f"attention_{seq.id}")
    peak = int(np.argmax(tr))
    where = f", {seq.chrom}:{genomic[peak]}" if genomic is not None else ""
    st.caption(
        f"peak at position {peak} ({seq.seq[peak]}; 0-based){where}"
        "; bases are written on the strip up to 150 bp and shown in the hover beyond"
    )
    state.downloads(
        f"attention_{seq.id}",
        lambda: plots.attention_track_figure(seq.seq, tr, title, genomic, seq.chrom, score_name=score),
        fig,
        key="track",
        lens=track_lens,
    )


def _landscape_drawn() -> None:
    """The landscape is on the user's screen: the selected sequence's panels are sent now (their fragment reruns)
    and the landscape's other sort orders prepared meanwhile."""
    ss[state.LANDSCAPE_SHOWN] = True
    _prepare_other_orders()


def _landscape_clicked() -> None:
    """A click on a landscape row selects that sequence; only the selected sequence's panels rerun."""
    clicked = (ss.get("landscape_chart") or {}).get("click")
    if clicked in by_id and clicked != ss.get("selected"):
        ss.selected = clicked
        st.rerun("att_selected")


def landscape_view(order_by: str, align: str, max_rows: int):
    """The set's landscape sorted by ``order_by`` (one of :data:`SORTS`), aligned ``align``, its first ``max_rows``
    rows: (row order, matrix [rows, columns], ids, title, x label, plotly figure, built once per input)."""
    labels = [s.label for s in seqs]
    p_last = [preds.get(s.id, [None])[-1] if preds else None for s in seqs]
    order = landscape_order(order_by, tracks, p_last, labels)[:max_rows]
    M, offsets = landscape([tracks[j] for j in order], align)
    ids = [seqs[j].id for j in order]
    shown = f"{len(order)} of {len(seqs)}" if len(order) < len(seqs) else f"{len(order)}"
    title = f"{set_lens.describe()}: {shown} sequences, sorted by {order_by}, aligned {align}"
    xlabel = "position (bp, 0-based)" if align == "left" else "column (bp; each sequence centred)"
    fig = state.figure(
        "plotly_landscape", M, ids, [seqs[j].seq for j in order], offsets, title=title,
        score_name=set_lens.score_name, xlabel=xlabel,
    )  # fmt: skip
    return order, M, ids, title, xlabel, fig


def _prepare_other_orders() -> None:
    """Build the landscape's figure (and its JSON) in the other sort orders in a background thread, once per view
    (lens, set, alignment, rows), after the landscape is on screen: the first pick of another order then only sends
    it (a sort order shown for the first time: 0.31-0.38 s, against 0.24-0.27 s for one built before). Not for
    landscapes over :data:`PREPARED_CELLS` cells (long sequences: four figures of those would take memory)."""
    if tracks is None:
        return
    align = ss.get("land_align", "left")
    max_rows = ss.get(ROWS_KEY, ROWS_DEFAULT) if len(seqs) > 5 else len(seqs)
    if max_rows * max(map(len, tracks), default=0) > PREPARED_CELLS:  # a large landscape: each order when picked
        return
    view = (id(tracks), set_lens.describe(), align, max_rows)
    if ss.get("_land_prepared") == view:
        return
    ss["_land_prepared"] = view
    others = [o for o in SORTS if o != ss.get("land_sort", SORTS[0])]
    work = lambda: [figure_json(landscape_view(o, align, max_rows)[-1]) for o in others]
    thread = threading.Thread(target=work, name="dnalens-landscape-orders", daemon=True)
    add_script_run_ctx(thread, get_script_run_ctx())  # the caches' calls know their session, as in the page
    thread.start()


@st.fragment(key="att_landscape")
def landscape_panel() -> None:
    """The landscape and its controls (its heading is written outside: a rerun of this sends only what changes)."""
    if tracks is None:
        st.info(f"No landscape yet: compute {lens.name} for the set with the button above.")
        return
    score = set_lens.score_name
    controls = st.container(horizontal=True, gap="medium")  # one block for the three controls
    order_by = controls.segmented_control(
        "sort rows by", SORTS, default=SORTS[0], required=True, key="land_sort", persist_state="session"
    )
    align = controls.segmented_control(
        "align",
        ["left", "center"],
        default="left",
        required=True,
        key="land_align",
        persist_state="session",
        help="center: each sequence centred on the middle column; the same as left when all have one length",
    )
    max_rows = len(seqs)  # five or fewer: all of them (a slider needs a range)
    if len(seqs) > 5:
        max_rows = controls.slider("rows", 5, len(seqs), ROWS_DEFAULT, key=ROWS_KEY, persist_state="session")
    order, M, ids, land_title, xlabel, lfig = landscape_view(order_by, align, max_rows)
    chart(lfig, key="landscape_chart", name="landscape", on_click=_landscape_clicked, scroll_to="selected_sequence")
    if ss.get(state.LANDSCAPE_SHOWN):  # a new tab: once its landscape is drawn (_landscape_drawn)
        _prepare_other_orders()
    rest = f" Showing the first {len(order)} of {len(seqs)} by this order: raise 'rows' to see the rest." * (
        len(order) < len(seqs)
    )
    st.caption(
        f"Click a row to show that sequence below: the page scrolls to its track, grid and matrix (the Heads and "
        f"Mutations pages show it too).{rest}"
    )
    state.downloads(
        "landscape",
        lambda: plots.landscape_figure(M, ids, land_title, score, xlabel),
        lfig,
        key="landscape",
        lens=set_lens,
    )
    state.fragment_done()


def grid_panel(seq) -> None:
    st.subheader("Layer × head [CLS] attention")
    grid = cls_grid(state.outputs()[by_id[seq.id]], "forward")
    grid_title = (
        f"{seq.id}: [CLS] attention of every layer and head ({lm.n_layers} × {lm.n_heads}), raw weights spread to "
        "bases, forward"
    )
    gfig = state.figure("plotly_grid", grid, title=grid_title)
    chart(gfig, key="grid_chart", name=f"layer_head_grid_{seq.id}")
    state.downloads(
        f"layer_head_grid_{seq.id}",
        lambda: plots.grid_figure(grid, grid_title),
        gfig,
        key="grid",
        lens="[CLS] attention of every layer and head, raw weights spread to bases",
    )


def _pick(where, label: str, n: int, default: int, key: str) -> int:
    """One of ``0..n-1``: a segmented control (one click) for up to :data:`FEW` options, else a selectbox; kept
    when the user comes back from another page, as the matrix's crop and the landscape's rows are."""
    if n <= FEW:
        return where.segmented_control(
            label, list(range(n)), default=default, required=True, key=key, persist_state="session"
        )
    return where.selectbox(label, list(range(n)), index=default, key=key, persist_state="session")


def _crop(n_tok: int) -> tuple[int, int, int, int]:
    """(layer, head, first token, end token) from the matrix's widgets; the crop is in tokens and never empty."""
    controls = st.container(horizontal=True, gap="medium")  # one block (it wraps when narrow)
    layer = _pick(controls, "layer", lm.n_layers, lm.n_layers - 1, f"mat_layer_{lm.n_layers}")  # one per model shape:
    head = _pick(controls, "head", lm.n_heads, 0, f"mat_head_{lm.n_heads}")  # a kept value is always an option
    size = n_tok
    if n_tok > 2:
        size = controls.slider(
            "crop: tokens shown", 2, n_tok, min(64, n_tok), key=f"mat_size_{n_tok}", persist_state="session"
        )
    start = 0
    if size < n_tok:
        key = f"mat_start_{n_tok}"
        if ss.get(key, 0) > n_tok - size:  # a wider crop: the first token moves back only as far as it must
            ss[key] = n_tok - size
        start = controls.slider(  # None: from 0, or as kept
            "crop: first token", 0, n_tok - size, None, key=key, persist_state="session"
        )
    else:
        controls.caption(f"all {n_tok} tokens shown")
    return layer, head, start, min(n_tok, start + size)


def matrix_panel(seq) -> None:
    """The token x token matrix of ``seq`` and its controls (under a heading written outside its fragment)."""
    try:
        att, toks = state.token_attention(state.model_key(), seq.seq, 0, min(len(seq.seq), lm.tokenizer.window_nt()))
    except Exception as exc:
        state.show_error(exc)
        return
    n_tok = len(toks)
    layer, head, a, b = _crop(n_tok)
    sub = att[layer, head, a:b, a:b]
    labels = toks[a:b]
    mat_title = f"{seq.id}: layer {layer}, head {head}, tokens {a}–{b - 1} of {n_tok} (forward; 0 = [CLS])"
    mfig = state.figure("plotly_matrix", sub, labels, mat_title, first=a)
    chart(mfig, key="matrix_chart", name=f"matrix_{seq.id}_L{layer}H{head}")
    state.downloads(
        f"matrix_{seq.id}_L{layer}H{head}", lambda: plots.matrix_figure(sub, labels, mat_title), mfig, key="matrix"
    )


@st.fragment(key="att_matrix")
def matrix_fragment() -> None:
    """The matrix alone: its layer, head and crop rerun only this."""
    matrix_panel(_selected())
    state.fragment_done()


@st.fragment(key="att_selected")
def selected_panels() -> None:
    """Everything that shows the selected sequence: a new one (picked here or clicked on the landscape) is one run."""
    with st.container(key="selected_sequence"):  # a landscape click scrolls here
        st.subheader(f"Selected sequence: {_selected().id}")
        if tracks is not None and not ss.get(state.LANDSCAPE_SHOWN):  # sent once the landscape is on screen
            st.caption("Its track, layer × head grid and token matrix follow once the landscape is drawn.")
            after_first_chart("att_after_landscape", _landscape_drawn)
        else:
            track_panel()
            grid_panel(_selected())
            st.subheader("Token × token attention")
            matrix_fragment()
    state.fragment_done()


st.subheader("Landscape")
landscape_panel()
selected_panels()
