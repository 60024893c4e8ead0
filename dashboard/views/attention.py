"""Attention page: the selected sequence's track, the landscape of many sequences, layer x head grid, T x T matrix."""

import numpy as np
import streamlit as st

from core.lenses.attention import cls_grid, landscape, landscape_order
from core.model.inference import token_matrices
from core.reports import figures as plots
from dashboard import state

st.title("Attention")
lm = state.model()
seqs = state.seqs()
if not seqs:
    st.info("No sequences loaded: add some on the Sequences page.")
    st.stop()
with st.expander("How attention becomes a track (recipe, layers, heads, strand)", expanded=False):
    lens = state.lens_controls(lm)
    st.caption(
        "dnabert-viz: last layer, [CLS] row, summed over heads, each k-mer's score spread over its bases "
        "and averaged, L2-normalised (without DNABERT-viz's [SEP]/padding dilution of the last bases)."
    )
try:
    tracks = state.tracks_for(lens)
except Exception as exc:
    state.show_error(exc)
    st.stop()
by_id = {s.id: i for i, s in enumerate(seqs)}
preds = state.predictions()

# ---- selected sequence
seq = state.select_sequence()
i = by_id[seq.id]
tr = tracks[i]
p_txt = f" · p({lm.label_names[-1]}) = {preds[seq.id][-1]:.3f}" if preds else ""
title = f"{seq.id}{p_txt} · {lens.describe()}"
genomic = seq.genomic_positions() if seq.has_coordinates else None
fig = plots.plotly_track(seq.seq, tr, title, genomic, seq.chrom)
st.plotly_chart(fig, width="stretch", key="track_chart")
st.caption(
    f"peak at position {int(np.argmax(tr))} ({seq.seq[int(np.argmax(tr))]}); bases are written on the "
    "strip for sequences up to 150 bp, and in the hover otherwise"
)
state.downloads(
    f"attention_{seq.id}",
    lambda: plots.attention_track_figure(seq.seq, tr, title, genomic, seq.chrom),
    fig,
    key="track",
)

# ---- landscape
st.subheader("Landscape")
c1, c2, c3 = st.columns(3)
order_by = c1.selectbox("sort rows by", ["prediction", "label", "peak", "input"], key="land_sort")
align = c2.selectbox("align", ["left", "center"], key="land_align")
max_rows = c3.slider("rows", 5, max(5, len(seqs)), min(len(seqs), 200), key="land_rows")
order = landscape_order(
    order_by, tracks, [preds.get(s.id, [None])[-1] if preds else None for s in seqs], [s.label for s in seqs]
)[:max_rows]
M, offsets = landscape([tracks[j] for j in order], align)
ids = [seqs[j].id for j in order]
lfig = plots.plotly_landscape(
    M,
    ids,
    [seqs[j].seq for j in order],
    offsets,
    title=f"{lens.describe()}: {len(order)} sequences, sorted by {order_by}",
)
st.plotly_chart(lfig, width="stretch", key="landscape_chart")
state.downloads("landscape", lambda: plots.landscape_figure(M, ids), lfig, key="landscape")

# ---- layer x head grid
st.subheader("Layer × head [CLS] attention")
outs = state.outputs()
rec = outs[i]
grid = cls_grid(rec, "forward")
gfig = plots.plotly_grid(grid, title=f"{seq.id}: [CLS] attention per layer and head (nucleotide level)")
st.plotly_chart(gfig, width="stretch", key="grid_chart")
state.downloads(f"layer_head_grid_{seq.id}", lambda: plots.grid_figure(grid, seq.id), gfig, key="grid")

# ---- token x token matrix
st.subheader("Token × token attention")
L = len(seq.seq)
win_nt = min(L, lm.tokenizer.window_nt())
c1, c2, c3, c4 = st.columns(4)
layer = c1.selectbox("layer", list(range(lm.n_layers)), index=lm.n_layers - 1, key="mat_layer")
head = c2.selectbox("head", list(range(lm.n_heads)), key="mat_head")
size = c3.slider("crop: tokens shown", 10, 200, min(64, win_nt), key="mat_size")
start = c4.slider("crop: first token", 0, max(0, win_nt - 1), 0, key="mat_start")
try:
    att, toks, _ = token_matrices(lm, seq.seq, 0, win_nt)
except Exception as exc:
    state.show_error(exc)
    st.stop()
a, b = start, min(len(toks), start + size)
sub = att[layer, head, a:b, a:b]
labels = toks[a:b]
mfig = plots.plotly_matrix(sub, labels, f"{seq.id}: layer {layer}, head {head}, tokens {a}–{b - 1}")
st.plotly_chart(mfig, width="stretch", key="matrix_chart")
state.downloads(
    f"matrix_{seq.id}_L{layer}H{head}",
    lambda: plots.matrix_figure(sub, labels, f"{seq.id} L{layer} H{head}"),
    mfig,
    key="matrix",
)
