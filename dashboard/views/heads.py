"""Heads page: bertviz head view / model view (offline) and a native head view for a window of tokens."""

import streamlit as st

from core.lenses import Attention
from core.model.inference import token_matrices
from core.reports import figures as plots
from core.reports.headview import MAX_TOKENS, MissingJavaScript, bertviz_html, frame_height, standalone_html
from dashboard import state

st.title("Heads")
lm = state.model()
seq = state.select_sequence()
L = len(seq.seq)
k = lm.k or 1
max_nt = min(L, (MAX_TOKENS - 2) + k - 1, lm.tokenizer.window_nt())
st.caption(
    f"Head views show at most {MAX_TOKENS} tokens (bertviz writes every attention value into the page); "
    f"move the window along the sequence ({L} bp)."
)
peak = int(state.tracks_for(Attention(), [seq])[0].argmax())
c1, c2 = st.columns(2)
width = c1.slider("window (bp)", min(k, max_nt), max_nt, min(max_nt, 60), key="hv_width")
start = c2.slider(
    "window start (bp)",
    0,
    max(0, L - width),
    min(max(0, L - width), max(0, peak - width // 2)),
    key=f"hv_start_{seq.id}",
    help="starts centred on the attention peak",
)


@st.cache_data(show_spinner="Computing attention for the window ...", max_entries=8)
def window_attention(mkey, sequence, a, b):
    lm_ = state.load_model_cached(*mkey)
    return token_matrices(lm_, sequence, a, b)


try:
    att, toks, spans = window_attention(state.model_key(), seq.seq, start, start + width)
except Exception as exc:
    state.show_error(exc)
    st.stop()
st.caption(f"{len(toks)} tokens for bases {start}–{start + width - 1}")

st.subheader("Native head view")
c1, c2, c3, c4 = st.columns(4)
layer = c1.selectbox("layer", list(range(lm.n_layers)), index=lm.n_layers - 1, key="nv_layer")
heads = c2.multiselect("heads", list(range(lm.n_heads)), default=list(range(lm.n_heads)), key="nv_heads")
token = c3.selectbox(
    "query token", list(range(len(toks))), format_func=lambda j: f"{j}: {toks[j]}", key=f"nv_tok_{len(toks)}"
)
thr = c4.slider(
    "threshold",
    0.0,
    1.0,
    0.05,
    0.01,
    key="nv_thr",
    persist_state="session",
    help="draw a line only where attention is at least this (the DNABERT paper's Fig. 4e)",
)
head_txt = "all heads" if sorted(heads) == list(range(lm.n_heads)) else f"heads {', '.join(map(str, heads))}"
hv_title = (
    f"{seq.id} bases {start}–{start + width - 1}: layer {layer}, {head_txt}, attention from token {token} "
    f"({toks[token]}) ≥ {thr:.2f}, forward"
)
hfig = plots.plotly_head_lines(att[layer], toks, token, heads, thr, hv_title)
st.plotly_chart(hfig, width="content", key="native_head_chart")
state.downloads(
    f"headview_{seq.id}_L{layer}_t{token}",
    lambda: plots.head_lines_figure(att[layer], toks, token, heads, thr, hv_title),
    hfig,
    key="native_head",
)

st.subheader("bertviz")
kind = st.radio("view", ["head view", "model view"], horizontal=True, key="bv_kind", persist_state="session")
try:
    view = "head" if kind == "head view" else "model"
    html = bertviz_html(att, toks, view, layer=layer)
    st.iframe(html, height=frame_height(view, len(toks), lm.n_layers, lm.n_heads))  # sized to its content
    st.download_button(
        "HTML",
        standalone_html(html, f"bertviz {kind}: {seq.id}, bases {start}–{start + width - 1}"),
        file_name=f"bertviz_{kind.split()[0]}_{seq.id}.html",
        mime="text/html",
        key="dl_bertviz_html",
        on_click="ignore",
    )
except MissingJavaScript as exc:
    st.warning(str(exc))
except Exception as exc:
    state.show_error(exc)
