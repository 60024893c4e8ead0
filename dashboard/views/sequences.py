"""Sequences page: paste, upload FASTA, BED + reference, sample data; the table of what is loaded."""

from pathlib import Path

import streamlit as st

from core.errors import InputError
from core.io.files import check_regular_file
from core.io.sequences import (
    bed_on_uploaded_reference,
    bed_sequences,
    count_fasta_records,
    parse_bed,
    parse_text,
    read_bed,
    read_fasta,
    read_upload,
    sequences_table,
    upload_text,
    with_label,
)
from dashboard import state

st.title("Sequences")
ss = st.session_state
mode = st.radio("new sequences", ["replace what is loaded", "add to what is loaded"], horizontal=True, key="load_mode")


def commit(new, label, raw: dict):
    if not new:
        st.error("Nothing was read.")
        return
    if mode.startswith("add"):
        have = {s.id for s in ss.seqs}
        clash = [s.id for s in new if s.id in have]
        if clash:
            st.error(f"Not added: id '{clash[0]}' is already loaded ({len(clash)} clashes). Ids must be unique.")
            return
        ss.seqs = ss.seqs + new
        ss.inputs.update(raw)
        ss.source_label += f" + {label}"
    else:
        ss.seqs = new
        ss.inputs = raw
        ss.source_label = label
    ss.selected = new[0].id
    st.success(f"Loaded {len(new)} sequence{'' if len(new) == 1 else 's'} from {label}.")


tab_paste, tab_fasta, tab_bed, tab_sample = st.tabs(["Paste", "Upload a file", "BED + reference", "Sample data"])
with tab_paste:
    text = st.text_area(
        "raw sequence(s) or FASTA",
        height=150,
        key="paste_text",
        placeholder=">my_seq label=1\nACGTTGCA...\n\n(or raw bases; blank lines separate sequences)",
    )
    if st.button("Load pasted text", key="load_paste"):
        try:
            commit(parse_text(text), "pasted text", {"pasted.txt": text.encode()})
        except Exception as exc:
            state.show_error(exc)
with tab_fasta:
    up = st.file_uploader(
        "FASTA (.fa, .fasta, .fna, .gz) or DNABERT train.tsv / dev.tsv (sequence label, k-mer text)",
        type=["fa", "fasta", "fna", "fas", "gz", "txt", "tsv", "csv"],
        key="fasta_up",
    )
    label = st.number_input(
        "label for these sequences (optional, -1 = keep labels from headers)", -1, 99, -1, key="fasta_label"
    )
    if up is not None and st.button("Load file", key="load_fasta"):
        try:
            new = read_upload(up.getvalue(), up.name)  # FASTA (plain or gzip) or a DNABERT table, from the bytes
            if label >= 0:
                new = with_label(new, int(label))
            commit(new, up.name, {up.name: up.getvalue()})
        except Exception as exc:
            state.show_error(exc)
with tab_bed:
    bed = st.file_uploader("BED3/BED6 intervals", type=["bed", "txt", "tsv"], key="bed_up")
    c1, c2 = st.columns(2)
    ref_up = c1.file_uploader("reference FASTA (small genomes)", type=["fa", "fasta", "fna"], key="ref_up")
    ref_path = c2.text_input("…or a reference FASTA path on this machine (large genomes)", key="ref_path")
    if bed is not None and st.button("Load intervals", key="load_bed"):
        try:  # uploads are parsed from their bytes; only the typed reference path is a path, a regular file
            intervals = parse_bed(upload_text(bed.getvalue(), bed.name).splitlines(), bed.name)
            if ref_up is not None:
                new = bed_on_uploaded_reference(intervals, ref_up.getvalue(), ref_up.name, bed.name)
                ref_name = ref_up.name
            elif ref_path.strip():
                ref_file = check_regular_file(Path(ref_path.strip()).expanduser(), "reference FASTA")
                new, ref_name = bed_sequences(intervals, ref_file, bed.name), Path(ref_file).name
            else:
                raise InputError("give a reference FASTA (upload or path)")
            commit(new, f"{bed.name} on {ref_name}", {bed.name: bed.getvalue()})
        except Exception as exc:
            state.show_error(exc)
with tab_sample:
    choice = st.selectbox(
        "sample set",
        [
            f"demo.fa ({count_fasta_records(state.SAMPLE / 'demo.fa')} labelled, positives and negatives)",
            "held-out positives + negatives "
            f"({sum(count_fasta_records(state.SAMPLE / f) for f in ('demo_positives.fa', 'demo_negatives.fa'))})",
            "BED intervals on reference.fa "
            f"({len(parse_bed((state.SAMPLE / 'intervals.bed').read_text().splitlines()))})",
        ],
        key="sample_choice",
    )
    if st.button("Load sample data", key="load_sample"):
        S = state.SAMPLE
        try:
            if choice.startswith("demo"):
                new = read_fasta(S / "demo.fa")
                commit(new, state.sample_label("sample demo.fa", new), {"demo.fa": (S / "demo.fa").read_bytes()})
            elif choice.startswith("held"):
                new = read_fasta(S / "demo_positives.fa") + read_fasta(S / "demo_negatives.fa")
                commit(
                    new,
                    state.sample_label("sample held-out sets", new),
                    {f: (S / f).read_bytes() for f in ("demo_positives.fa", "demo_negatives.fa")},
                )
            else:
                new = read_bed(S / "intervals.bed", S / "reference.fa")
                commit(
                    new,
                    state.sample_label("sample BED intervals", new),
                    {"intervals.bed": (S / "intervals.bed").read_bytes()},
                )
        except Exception as exc:
            state.show_error(exc)

st.subheader(f"Loaded: {len(ss.seqs)} sequences")
table = sequences_table(ss.seqs)
lm = state.model()
if lm.has_classifier and len(ss.seqs):
    preds = state.predictions()
    names = lm.label_names
    table[f"p_{names[-1]}"] = [float(preds[i][-1]) for i in table["id"]]
    table["predicted"] = [names[int(preds[i].argmax())] for i in table["id"]]
else:
    st.info("The model has no classification head: no predictions.")
st.dataframe(table, width="stretch", hide_index=True, key="seq_table")
state.table_downloads(table, "sequences", key="seqtable")
state.select_sequence("selected sequence (used by the other pages)")
