"""dnalens dashboard: `streamlit run dashboard/app.py` (or `dnalens app`). Opens on the demo model and sample data."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

st.set_page_config(page_title="dnalens", page_icon="🧬", layout="wide")

from dashboard import state  # noqa: E402
from dashboard.chart import ensure_plotly_js, preload  # noqa: E402

state.init()
ensure_plotly_js()  # the charts' plotly.js, served from dashboard/static/
VIEWS = Path(__file__).resolve().parent / "views"
pages = [
    st.Page(str(VIEWS / "sequences.py"), title="Sequences", icon=":material/list:", url_path="sequences"),
    st.Page(
        str(VIEWS / "attention.py"),
        title="Attention",
        icon=":material/local_fire_department:",
        url_path="attention",
        default=True,
    ),
    st.Page(str(VIEWS / "heads.py"), title="Heads", icon=":material/hub:", url_path="heads"),
    st.Page(str(VIEWS / "motifs.py"), title="Motifs", icon=":material/text_fields:", url_path="motifs"),
    st.Page(str(VIEWS / "lenses.py"), title="Lenses", icon=":material/stacked_line_chart:", url_path="lenses"),
    st.Page(str(VIEWS / "sets.py"), title="Sets", icon=":material/scatter_plot:", url_path="sets"),
    st.Page(str(VIEWS / "mutations.py"), title="Mutations", icon=":material/science:", url_path="mutations"),
    st.Page(str(VIEWS / "genome.py"), title="Genome", icon=":material/genetics:", url_path="genome"),
    st.Page(str(VIEWS / "export.py"), title="Export", icon=":material/download:", url_path="export"),
]
nav = st.navigation(pages)
try:  # a new server loads the model first: its spinner shows here, in the main area, not only in the sidebar
    state.load_model_cached(*state.model_key())
except Exception:  # the sidebar says what is wrong (state.model), next to the controls that choose another model
    pass

with st.sidebar:
    preload()  # plotly.js starts loading now, while the page runs
    st.markdown("### Model")
    ss = st.session_state
    from core.model.loading import known_models

    ss.setdefault("model_folders", [])
    cards = known_models(ss.model_folders)
    names = [c["name"] for c in cards if not c.get("error")]  # a broken folder is listed below, not offered
    for c in cards:
        if c.get("error"):
            st.warning(f"**{c['name']}** cannot be used: {c['error']}", icon=":material/block:")
    # the model's controls in a popover: drawn only when opened, so a new page shows its landscape ~0.4 s sooner
    chooser = st.popover("Choose or load a model", icon=":material/tune:", width="stretch")
    with chooser:
        pick = st.selectbox(
            "model",
            names + ["another folder or hub id ..."],
            index=names.index(ss.model_name) if ss.model_name in names else 0,
            key="model_pick",
            help="the demo model, fine-tuned outputs under models/, and folders you added",
        )
        typed = ""
        if pick.startswith("another"):
            typed = st.text_input("checkpoint folder or Hugging Face id (local cache only)", key="model_input")
        c1, c2 = st.columns(2)
        device = c1.selectbox("device", ["auto", "cpu", "cuda"], index=["auto", "cpu", "cuda"].index(ss.device))
        dtype = c2.selectbox(
            "dtype", ["float32", "bfloat16", "float16"], index=["float32", "bfloat16", "float16"].index(ss.dtype)
        )
        trust = st.checkbox(
            "trust remote code",
            value=ss.trust_remote_code,
            key="trust_pick",
            help="let the checkpoint run the Python code in its folder (DNABERT-2 needs it); "
            "only for checkpoints you trust",
        )
        if st.button("Load model", width="stretch"):  # the popover stays open: what loading said shows in it
            name = typed.strip() or (pick if not pick.startswith("another") else "demo")
            try:
                state.load_model_cached(name, device, dtype, trust)
                ss.model_name, ss.device, ss.dtype, ss.trust_remote_code = name, device, dtype, trust
                if name not in names and name != "demo":
                    ss.model_folders.append(name)
                st.success(f"Loaded {name}")
            except Exception as exc:  # keep the previous model
                state.show_error(exc)
                st.caption(f"**{ss.model_name}** stays loaded.")
        with st.expander("model cards"):
            import pandas as pd

            st.dataframe(pd.DataFrame(cards), hide_index=True, width="stretch")
    lm = state.model()
    card = lm.card()
    st.caption(
        f"**{card['name']}** · {card['architecture']} · {card['family']}"
        f"{' k=' + str(card['k']) if card['k'] else ''} · {card['layers']} layers × {card['heads']} heads · "
        f"{card['device']}/{card['dtype']}"
    )
    if card["remote_code"]:
        st.caption(f"runs its own code (trusted) · attention {card['attention']}")
    if not lm.has_classifier:
        st.warning("This checkpoint has no classification head: attention works, predictions are absent.")
    elif card.get("metrics"):
        m = card["metrics"]
        st.caption(f"held-out accuracy {m.get('accuracy')} · AUROC {m.get('auroc')}")
    st.markdown("### Lens")
    state.lens_picker(lm)  # every page's per-nucleotide scores: state.current_lens()
    loaded = st.empty()  # filled after the page ran, so it counts what the page just loaded
    session_box = st.expander("Session: save or open")
    with session_box:
        opened = st.file_uploader("Open session", type=["zip"], key="session_up")
        if opened is not None and st.button("Restore this session", key="session_restore", width="stretch"):
            try:
                what = state.open_session(opened.getvalue(), opened.name)
                ss.session_note = f"Restored {opened.name}: {what}"
                st.rerun()
            except Exception as exc:  # the current session stays as it was
                state.show_error(exc)
        if ss.get("session_note"):
            st.success(ss.pop("session_note"))

try:
    nav.run()
finally:  # also after st.stop() in a page: what the page just did is in the count and in the saved session
    loaded.caption(f"{len(state.seqs())} sequences loaded: {ss.get('source_label', '')}")
    with session_box:
        from core.reports.session import session_bytes

        box = ss.setdefault("_snapshot", {})  # a fragment's rerun refreshes it too (state.fragment_done)
        box["session"] = state.session_snapshot()
        st.download_button(
            "Save session",
            lambda: session_bytes(box["session"]),  # built on click from the last run's snapshot (no session access)
            file_name="dnalens_session.zip",
            mime="application/zip",
            key="dl_session",
            on_click="ignore",
            help="one file: sequences and input files, settings, model choice, the shown tracks, predictions "
            "and result tables (JSON, NumPy and Parquet in a zip; no pickle)",
            width="stretch",
        )
    state.freeze_heap()  # after the run: what this run imported is frozen out of the collector's walks
