"""Attention page: the selected sequence's track, the landscape of many sequences (a click on a row selects that
sequence everywhere), layer x head grid, token x token matrix (cropped in tokens)."""

import numpy as np
import streamlit as st

from core.lenses.attention import cls_grid, landscape, landscape_order
from core.model.inference import token_matrices
from core.reports import figures as plots
from dashboard import state

ss = st.session_state
st.title("Attention")
lm = state.model()
seqs = state.seqs()
if not seqs:
    st.info("No sequences loaded: add some on the Sequences page.")
    st.stop()
lens = state.current_lens()  # the sidebar's lens picker: one source of truth for every page
st.caption(f"Track and landscape: **{lens.describe()}** (change the lens and its options in the sidebar).")
try:
    tracks = state.tracks_for(lens)
except Exception as exc:
    state.show_error(exc)
    st.stop()
by_id = {s.id: i for i, s in enumerate(seqs)}
preds = state.predictions()
score = lens.score_name

# ---- selected sequence
seq = state.select_sequence()
i = by_id[seq.id]
tr = tracks[i]
p_txt = f" · p({lm.label_names[-1]}) = {preds[seq.id][-1]:.3f}" if preds else ""
title = f"{seq.id}{p_txt} · {lens.describe()}"
genomic = seq.genomic_positions() if seq.has_coordinates else None
fig = plots.plotly_track(seq.seq, tr, title, genomic, seq.chrom, score_name=score)
st.plotly_chart(fig, width="stretch", key="track_chart")
peak = int(np.argmax(tr))
st.caption(
    f"peak at position {peak} ({seq.seq[peak]}; 0-based){f', {seq.chrom}:{genomic[peak]}' if genomic is not None else ''}"
    "; bases are written on the strip up to 150 bp and shown in the hover beyond"
)
state.downloads(
    f"attention_{seq.id}",
    lambda: plots.attention_track_figure(seq.seq, tr, title, genomic, seq.chrom, score_name=score),
    fig,
    key="track",
)

# ---- landscape: a click on a row selects that sequence on every page
st.subheader("Landscape")
c1, c2, c3 = st.columns(3)
order_by = c1.selectbox("sort rows by", ["prediction", "label", "peak", "input"], key="land_sort")
align = c2.selectbox("align", ["left", "center"], key="land_align")
max_rows = c3.slider("rows", min(5, len(seqs)), max(5, len(seqs)), min(len(seqs), 200), key="land_rows")
order = landscape_order(
    order_by, tracks, [preds.get(s.id, [None])[-1] if preds else None for s in seqs], [s.label for s in seqs]
)[:max_rows]
M, offsets = landscape([tracks[j] for j in order], align)
ids = [seqs[j].id for j in order]
land_title = f"{lens.describe()}: {len(order)} sequences, sorted by {order_by}, aligned {align}"
xlabel = "position (bp, 0-based)" if align == "left" else "column (bp; each sequence centred)"
lfig = plots.plotly_landscape(
    M, ids, [seqs[j].seq for j in order], offsets, title=land_title, score_name=score, xlabel=xlabel
)
ss.setdefault("land_gen", 0)
event = st.plotly_chart(
    lfig, width="stretch", key=f"landscape_chart_{ss.land_gen}", on_select="rerun", selection_mode="points"
)
clicked = [p.get("y") for p in (event.selection.points if event else []) if p.get("y") in by_id]
if clicked and clicked[0] != ss.selected:
    ss.selected = clicked[0]
    ss.land_gen += 1  # a fresh chart: the selection is consumed, the next click counts again
    st.rerun()
st.caption("Click a row to show that sequence's track above (and on the Heads and Mutations pages).")
state.downloads("landscape", lambda: plots.landscape_figure(M, ids, land_title, score, xlabel), lfig, key="landscape")

# ---- layer x head grid
st.subheader("Layer × head [CLS] attention")
outs = state.outputs()
rec = outs[i]
grid = cls_grid(rec, "forward")
grid_title = (
    f"{seq.id}: [CLS] attention of every layer and head ({lm.n_layers} × {lm.n_heads}), raw weights spread to "
    "bases, forward"
)
gfig = plots.plotly_grid(grid, title=grid_title)
st.plotly_chart(gfig, width="stretch", key="grid_chart")
state.downloads(f"layer_head_grid_{seq.id}", lambda: plots.grid_figure(grid, grid_title), gfig, key="grid")

# ---- token x token matrix, cropped in tokens
st.subheader("Token × token attention")
win_nt = min(len(seq.seq), lm.tokenizer.window_nt())
try:
    att, toks, _ = token_matrices(lm, seq.seq, 0, win_nt)
except Exception as exc:
    state.show_error(exc)
    st.stop()
n_tok = len(toks)
c1, c2, c3, c4 = st.columns(4)
layer = c1.selectbox("layer", list(range(lm.n_layers)), index=lm.n_layers - 1, key="mat_layer")
head = c2.selectbox("head", list(range(lm.n_heads)), key="mat_head")
size = c3.slider("crop: tokens shown", min(2, n_tok), n_tok, min(64, n_tok), key=f"mat_size_{n_tok}")
start = 0
if size < n_tok:
    start = c4.slider("crop: first token", 0, n_tok - size, 0, key=f"mat_start_{n_tok}")
else:
    c4.caption(f"all {n_tok} tokens shown")
a, b = start, min(n_tok, start + size)
sub = att[layer, head, a:b, a:b]
labels = toks[a:b]
mat_title = f"{seq.id}: layer {layer}, head {head}, tokens {a}–{b - 1} of {n_tok} (forward; 0 = [CLS])"
mfig = plots.plotly_matrix(sub, labels, mat_title, first=a)
st.plotly_chart(mfig, width="stretch", key="matrix_chart")
state.downloads(
    f"matrix_{seq.id}_L{layer}H{head}", lambda: plots.matrix_figure(sub, labels, mat_title), mfig, key="matrix"
)
