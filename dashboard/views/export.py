"""Export page: tables (CSV/Parquet), bedGraph of BED-derived sequences, and a zip of everything (figures shown this
session, tables, MEME, bedGraph, provenance), built here with a progress bar."""

import pandas as pd
import streamlit as st

from core.io.tables import bedgraph_lines, provenance, tracks_frame, zip_bundle
from core.lenses import Attention
from core.reports.export import export_files
from dashboard import jobs, state

ss = st.session_state
st.title("Export")
lm = state.model()
seqs = state.seqs()
lens = Attention()
tracks = state.tracks_for(lens, seqs)
att_table = tracks_frame(seqs, tracks)
st.subheader(f"Track table: {lens.describe()}, one row per base")
st.caption(f"columns id, position (0-based), base, score ({lens.score_name}); BED input adds chrom, genomic_position")
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
bedgraph = None
st.subheader("bedGraph (genome browser)")
if bed_seqs:
    lines = [f'track type=bedGraph name="dnalens attention" description="{lens.describe()}, {lm.name}" visibility=full']
    for s, t in sorted(bed_seqs, key=lambda x: (x[0].chrom, x[0].start)):
        lines += bedgraph_lines(s, t)  # each base at its forward-strand genomic position (- strand reads too)
    bedgraph = "\n".join(lines) + "\n"
    st.download_button(
        "bedGraph", bedgraph, file_name="attention.bedGraph", mime="text/plain", key="dl_bedgraph", on_click="ignore"
    )
    st.caption(f"{len(bed_seqs)} BED-derived sequences, genomic 0-based half-open coordinates, forward strand")
else:
    st.info("No BED-derived sequences loaded (load BED + reference on the Sequences page for a bedGraph).")

# ---- everything, built here (progress) and then downloaded
st.subheader("Everything (zip)")
ss.setdefault("export_meta", {})["tables/attention"] = state.made_with(lens)
if bedgraph:
    ss.export_meta["attention.bedGraph"] = state.made_with(lens)


def zip_provenance(figures, tables, texts) -> dict:
    """provenance.json: the model, packages, every input the zipped files came from (sha256) and, per file (figures
    by their path without the format), the lens and settings and sequence set it was made with; a file made from
    a sequence set loaded earlier says so (``from_loaded_sequences: false``)."""
    from core.reports.figures import safe_name

    meta = ss.get("export_meta", {})
    now = state.sequence_set()
    files, inputs = {}, {}
    paths = [(f"figures/{n}", f"figures/{safe_name(n)}") for n in figures]
    paths += [(f"tables/{n}", f"tables/{safe_name(n)}") for n in tables] + [(n, n) for n in texts]
    for key, path in paths:
        m = meta.get(key)
        if m is None:
            continue
        files[path] = {**m, "from_loaded_sequences": m["sequences"]["sha256"] == now["sha256"]}
        for name, digest in m["sequences"]["inputs_sha256"].items():
            inputs[name if inputs.get(name, digest) == digest else f"{name} ({m['sequences']['label']})"] = digest
    prov = provenance(lm.card(), {"track_table": lens.params(), **ss.params}, {})
    prov["inputs_sha256"] = {**inputs, **now["inputs_sha256"]}
    prov["loaded_sequences"] = {k: v for k, v in now.items() if k != "inputs_sha256"}
    prov["files"] = files
    return prov


figures = dict(ss.exports)
tables = {"attention": att_table, **dict(ss.get("tables", {}))}
texts = dict(ss.get("texts", {}))
if bedgraph:
    texts["attention.bedGraph"] = bedgraph
c1, c2 = st.columns([2, 1])
formats = c1.multiselect("figure formats", ["png", "svg", "pdf"], default=["png", "svg", "pdf"], key="exp_formats")
html = c2.checkbox(
    "interactive HTML figures",
    key="exp_html",
    persist_state="session",
    help="each plotly figure as HTML; the zip then carries plotly.js once (4.7 MB), shared by every page",
)
now_set = state.sequence_set()["sha256"]
earlier = [
    n for n in figures if ss.export_meta.get(f"figures/{n}", {}).get("sequences", {}).get("sha256", now_set) != now_set
]
if earlier:
    st.caption(
        f"{len(earlier)} figures were made from a sequence set loaded earlier ({', '.join(earlier)}); provenance.json "
        "names the set and inputs of each file."
    )
st.markdown(
    f"**{len(figures)} figures** shown this session: {', '.join(figures) or 'none yet (visit the other pages)'}  \n"
    f"**{len(tables)} tables**: {', '.join(tables)}  \n"
    f"**texts**: {', '.join(texts) or 'none'}; and provenance.json"
)
signature = (state.model_key(), state.seq_key(seqs), tuple(figures), tuple(tables), tuple(texts), tuple(formats), html)
if st.button("Build the zip", key="exp_build", type="primary"):
    ss.zip_wanted = signature
if ss.get("zip_wanted") == signature:  # built in a thread, with progress and a Stop button; stopped: the last zip stays
    prov = zip_provenance(figures, tables, texts)

    def build(progress):
        files = export_files(
            figures, tables, texts, prov, tuple(formats), html, lambda d, n, what: progress(d, n, what)
        )
        return zip_bundle(files), {k: len(v) for k, v in files.items()}

    try:
        data, sizes = jobs.run("zip", signature, build, "Building the zip", keep=True)
    except Exception as exc:
        ss.zip_wanted = None
        state.show_error(exc)
        st.stop()
    if not jobs.current("zip").stopped:
        ss.export_zip = {"signature": signature, "data": data, "sizes": sizes}
        ss.zip_wanted = None
        jobs.forget("zip")
built = ss.get("export_zip")
if built and built["signature"] == signature:
    st.download_button(
        f"Download all (zip, {len(built['data']) / 2**20:.1f} MB)",
        built["data"],
        file_name="dnalens_export.zip",
        mime="application/zip",
        key="dl_zip",
        on_click="ignore",
        type="primary",
    )
    sizes = pd.DataFrame({"file": list(built["sizes"]), "bytes": list(built["sizes"].values())})
    st.dataframe(sizes, hide_index=True, width="stretch", key="zip_contents")
elif built:
    st.info("What is shown changed since the zip was built: build it again.")
