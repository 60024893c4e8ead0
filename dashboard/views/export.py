"""Export page: tables (CSV/Parquet), bedGraph of BED-derived sequences, MEME, and a zip of everything with
provenance (model, config hash, parameters, package versions, input checksums)."""

import io
import json

import pandas as pd
import streamlit as st

from core.io.tables import bedgraph_lines, provenance, tracks_frame, zip_bundle
from core.lenses import Attention
from core.reports.figures import close, figure_bytes
from dashboard import state

st.title("Export")
lm = state.model()
seqs = state.seqs()
lens = Attention()
tracks = state.tracks_for(lens)
att_table = tracks_frame(seqs, tracks)
st.subheader("Attention (DNABERT-viz recipe), one row per base")
state.table_downloads(att_table, "attention", key="exp_att")
if lm.has_classifier:
    preds = state.predictions()
    ptab = pd.DataFrame(
        [
            {
                "id": s.id,
                "length": len(s.seq),
                **{f"p_{n}": float(preds[s.id][j]) for j, n in enumerate(lm.label_names)},
                "label": s.label,
            }
            for s in seqs
        ]
    )
    st.subheader("Predictions")
    state.table_downloads(ptab, "predictions", key="exp_pred")

bed_seqs = [(s, t) for s, t in zip(seqs, tracks) if s.has_coordinates]
st.subheader("bedGraph (genome browser)")
if bed_seqs:

    def bedgraph():
        lines = [
            f'track type=bedGraph name="dnalens attention" description="DNABERT-viz recipe, {lm.name}" visibility=full'
        ]
        for s, t in sorted(bed_seqs, key=lambda x: (x[0].chrom, x[0].start)):
            lines += bedgraph_lines(s, t)
        return "\n".join(lines) + "\n"

    st.download_button(
        "bedGraph", bedgraph, file_name="attention.bedGraph", mime="text/plain", key="dl_bedgraph", on_click="ignore"
    )
    st.caption(f"{len(bed_seqs)} BED-derived sequences, genomic 0-based half-open coordinates, forward strand")
else:
    st.info("No BED-derived sequences loaded (load BED + reference on the Sequences page for a bedGraph).")


def everything() -> bytes:
    files = {}
    for name, (builder, pfig) in st.session_state.exports.items():
        if builder is not None:
            fig = builder()
            try:
                for fmt in ("png", "svg", "pdf"):
                    files[f"figures/{name}.{fmt}"] = figure_bytes(fig, fmt)
            finally:
                close(fig)
        if pfig is not None:
            files[f"figures/{name}.html"] = pfig.to_html(include_plotlyjs=True, full_html=True)
    tables = dict(st.session_state.get("tables", {}))
    tables["attention"] = att_table
    for name, df in tables.items():
        files[f"tables/{name}.csv"] = df.to_csv(index=False)
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        files[f"tables/{name}.parquet"] = buf.getvalue()
    for name, text in st.session_state.get("texts", {}).items():
        files[name] = text
    if bed_seqs:
        files["attention.bedGraph"] = bedgraph()
    prov = provenance(
        lm.card(), {"attention": lens.params(), **st.session_state.params}, st.session_state.get("inputs", {})
    )
    files["provenance.json"] = json.dumps(prov, indent=2, default=str)
    return zip_bundle(files)


st.subheader("Everything")
st.caption(
    f"{len(st.session_state.exports)} figures shown so far this session (PNG/SVG/PDF, HTML for interactive "
    "ones), every table, motifs (MEME) when computed, bedGraph, and provenance.json."
)
st.download_button(
    "Download all (zip)",
    everything,
    file_name="dnalens_export.zip",
    mime="application/zip",
    key="dl_zip",
    on_click="ignore",
    type="primary",
)
