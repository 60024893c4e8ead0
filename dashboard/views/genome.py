"""Genome page: an igv.js browser over the loaded sequences, fully offline (igv.min.js and this session's files
served by the app from dashboard/static/): the reference, the loaded intervals, each chosen lens as a wiggle track,
motif instances (after a run on the Motifs page) and scored variants (a VCF uploaded here). Clicking a sequence or
a motif instance selects that sequence on the other pages."""

import hashlib
import secrets
import shutil
import time
from pathlib import Path

import streamlit as st

from dashboard import state

ss = st.session_state
STATIC = Path(__file__).resolve().parent.parent / "static"
SESSIONS = STATIC / "sessions"

JS = """
export default function(component) {
  const { data, parentElement, setTriggerValue } = component;
  let holder = parentElement.querySelector("#dnalens-igv");
  if (holder && holder.dataset.build === data.build) return;
  if (!holder) {
    holder = document.createElement("div");
    holder.id = "dnalens-igv";
    parentElement.appendChild(holder);
  }
  holder.dataset.build = data.build;
  const pick = (items) => {
    for (const it of items || []) {
      const v = String(it && it.value !== undefined ? it.value : "").trim();
      const id = data.ids.includes(v) ? v : v.split(" in ").pop();
      if (data.ids.includes(id)) { setTriggerValue("selected", id); return; }
    }
  };
  const start = () => {
    try { if (window.igvBrowser) igv.removeBrowser(window.igvBrowser); } catch (e) { /* its page is gone */ }
    window.igvBrowser = null;
    holder.innerHTML = "";
    igv.createBrowser(holder, data.options).then((b) => {
      window.igvBrowser = b;
      holder.dataset.ready = data.build;
      b.on("trackclick", (track, items) => { pick(items); return undefined; });
    }).catch((e) => holder.insertAdjacentHTML("beforeend", "<pre id='igv-error'>" + e + "</pre>"));
  };
  if (window.igv) { start(); return; }
  const s = document.createElement("script");
  s.src = "app/static/igv.min.js";
  s.onload = start;
  document.head.appendChild(s);
}
"""
IGV = st.components.v2.component("dnalens_igv", js=JS, isolate_styles=False)


def _folder() -> tuple[Path, str]:
    """This session's folder and its address: a random name, never derived from anything the user typed."""
    if "genome_token" not in ss:
        ss.genome_token = secrets.token_urlsafe(16)
        cutoff = time.time() - 24 * 3600
        for old in SESSIONS.glob("*") if SESSIONS.exists() else []:
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
    return SESSIONS / ss.genome_token, f"app/static/sessions/{ss.genome_token}/"


def _lens_tracks(names: list[str]) -> dict:
    from core.lenses import make_lens

    return {name: state.tracks_for(make_lens(name)) for name in names}


def _build(seqs, reference, lenses, instances, vcf, window):
    """Write the view's files (only when what it shows changed) and return the view."""
    from core.reports.genome_view import build_genome_view

    key = hashlib.sha256(
        repr((state.seq_key(seqs), reference, lenses, state.model_key(), window)).encode()
        + (b"" if instances is None else instances.to_csv().encode())
        + (b"" if vcf is None else vcf[1])
    ).hexdigest()[:16]
    if ss.get("genome_view_key") == key:
        return ss.genome_view
    root, url = _folder()
    shutil.rmtree(root, ignore_errors=True)
    view = build_genome_view(
        root / key,
        seqs,
        reference=reference,
        tracks=_lens_tracks(lenses),
        instances=instances,
        vcf=vcf,
        model=state.model(),
        window=window,
        url=f"{url}{key}/",
    )
    ss.genome_view, ss.genome_view_key = view, key
    return view


st.subheader("Genome browser")
if not (STATIC / "igv.min.js").exists():
    st.error("igv.js is not installed: run `make js` (it comes from the npm registry at set-up).")
    st.stop()
seqs = state.seqs()
if not seqs:
    st.info("No sequences loaded: add some on the Sequences page.")
    st.stop()
from core.lenses import lens_names  # noqa: E402

c1, c2, c3 = st.columns([2, 2, 1])
lenses = c1.multiselect("lens tracks", lens_names(), default=["attention"], key="gv_lenses")
has_coords = all(s.has_coordinates for s in seqs)
ref_text = c2.text_input(
    "reference FASTA path (BED intervals)",
    value=ss.get("reference_path", ""),
    key="gv_ref",
    disabled=not has_coords,
    help="the genome the intervals come from; empty: their own bases, N elsewhere",
)
window = c3.number_input("variant window", 10, 2000, 100, key="gv_window")
up = st.file_uploader("VCF to score and show (CHROM: a chromosome, or a sequence id)", type=["vcf", "gz", "bcf"])
instances = ss.get("tables", {}).get("instances")
reference = ref_text.strip() or None if has_coords else None
try:
    view = _build(seqs, reference, tuple(lenses), instances, (up.name, up.getvalue()) if up else None, int(window))
except Exception as exc:
    state.show_error(exc)
    st.stop()
if instances is None:
    st.caption("Motif instances appear here after a run on the Motifs page.")
from core.reports.genome_view import locus  # noqa: E402

here = locus(seqs, ss.get("selected"))  # opens on the selected sequence
result = IGV(
    data={"options": {**view.options, "locus": here}, "ids": [s.id for s in seqs], "build": ss.genome_view_key + here},
    key="igv_view",
    height=560,
    on_selected_change=lambda: None,
)
if result.selected and result.selected != ss.get("selected"):
    ss.selected = result.selected
    st.rerun()  # the other pages, and this view, now open on it
st.markdown(f"Selected sequence: **{ss.get('selected')}** (click a sequence or motif instance to select it)")
if view.variants is not None:
    st.markdown(f"**Scored variants**: {len(view.variants)} alleles; {len(view.skipped)} skipped")
    state.table_downloads(view.variants, "genome_variants", key="gv_variants")
    st.dataframe(view.variants, hide_index=True, width="stretch", key="gv_variants_table")
    if len(view.skipped):
        st.dataframe(view.skipped, hide_index=True, width="stretch", key="gv_skipped_table")
