"""Dashboard sessions are isolated: two sessions at once on the same cached model get exactly what each gets alone;
uploads are read from their bytes (never from a path a client names); limits and broken models give messages."""

import threading

import numpy as np
import pytest
from app_charts import dashboard_app, figure, figures

FEW = (
    ">few1\nACGTTGCATGCATTTATAAAAGGCATGCATGCCACCAGGGGGCGCTAGCTAGGATCCATGCAAGTCTATAAAAGCCGGATCCATTGCAGTCAAGGTACCA\n"
    ">few2\nTTTTGGGGCCCCAAAATTTTACGTACGTGGCCAATTGGCCAATATATAGCGCCGCTAGCAGGGGGCGCAATCGATCGTTAGCTAGCAAGCTTGGTACCAT\n"
)

# session A: the default recipe, forward; session B: custom (layer 0, head 1, max), read as the reverse complement
SETTINGS = {
    "A": {},
    "B": {"att_recipe": "custom", "att_strand": "reverse", "att_layers": [0], "att_heads": [1], "att_hagg": "max"},
}


def _app(name: str):

    from core.io.sequences import parse_fasta_text

    at = dashboard_app(300)
    at.session_state["seqs"] = parse_fasta_text(FEW, "few.fa")
    at.session_state["inputs"] = {"few.fa": FEW.encode()}
    at.session_state["source_label"] = "few.fa"
    for key, value in SETTINGS[name].items():
        at.session_state[key] = value
    return at


def _track(at) -> np.ndarray:
    """The track chart's track (the selected sequence's per-base scores)."""
    import base64

    assert not at.exception, [e.value for e in at.exception]
    y = figure(at, "track_chart")["data"][1]["y"]
    if isinstance(y, dict):
        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).astype(np.float64)
    return np.asarray(y, dtype=np.float64)


@pytest.mark.slow
def test_two_sessions_at_once_get_what_each_gets_alone(monkeypatch):
    import ast

    import streamlit as st

    # Each AppTest has a script cache of its own, so both sessions parse the app at once, and CPython 3.11's parser is
    # not thread-safe ("SystemError: AST constructor recursion depth mismatch", seen once in CI). A server has one
    # cache that compiles each page once under a lock, so real sessions never parse at the same time; here the
    # parsing is serialised (the runs still overlap, as asserted below).
    parse, parsing = ast.parse, threading.Lock()

    def parse_one_at_a_time(*args, **kwargs):
        with parsing:
            return parse(*args, **kwargs)

    monkeypatch.setattr(ast, "parse", parse_one_at_a_time)

    alone = {}
    for name in SETTINGS:
        st.cache_data.clear()  # the model stays cached (st.cache_resource); the tracks are computed anew
        alone[name] = _track(_app(name).run())
    assert not np.allclose(alone["A"], alone["B"])  # the two settings really give different tracks
    st.cache_data.clear()
    apps, results, spans = {n: _app(n) for n in SETTINGS}, {}, {}
    gate = threading.Barrier(len(apps))

    def session(name):
        import time

        gate.wait()
        t0 = time.perf_counter()
        results[name] = _track(apps[name].run())
        spans[name] = (t0, time.perf_counter())

    threads = [threading.Thread(target=session, args=(n,)) for n in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(results) == set(SETTINGS), "a session failed"
    (a0, a1), (b0, b1) = spans["A"], spans["B"]
    assert a0 < b1 and b0 < a1  # the two runs overlapped in time
    for name in SETTINGS:
        np.testing.assert_allclose(results[name], alone[name], rtol=1e-6, atol=1e-9)


@pytest.mark.slow  # over 1 s on 2 cores: the fast tier stays under a minute
def test_fasta_upload_is_read_from_its_bytes_not_its_name(tmp_path):
    """A client may send any file name; nothing is written or read under it."""
    import gzip

    target = tmp_path / "written_by_upload.fa"
    at = _app("A").run()
    at.switch_page("views/sequences.py").run()
    upload = FEW.replace("few", "up")
    at.file_uploader(key="fasta_up").set_value((str(target), gzip.compress(upload.encode()), "application/gzip")).run()
    at.button(key="load_fasta").click().run()
    assert not at.exception and [s.id for s in at.session_state.seqs] == ["up1", "up2"]
    assert not target.exists()


@pytest.mark.slow  # over 1 s on 2 cores: the fast tier stays under a minute
def test_upload_limit_and_typed_reference_path_give_messages(tmp_path, monkeypatch):

    import core.io.sequences as sequences

    monkeypatch.setattr(sequences, "MAX_UPLOAD_BYTES", 64)
    at = _app("A").run()
    at.switch_page("views/sequences.py").run()
    at.file_uploader(key="fasta_up").set_value(("big.fa", FEW.encode(), "text/plain")).run()
    at.button(key="load_fasta").click().run()
    assert any("MB limit" in e.value for e in at.error), [e.value for e in at.error]
    assert [s.id for s in at.session_state.seqs] == ["few1", "few2"]  # what was loaded stays
    monkeypatch.setattr(sequences, "MAX_UPLOAD_BYTES", 200 << 20)
    at.file_uploader(key="bed_up").set_value(("x.bed", b"chr1\t0\t10\n", "text/plain")).run()
    at.text_input(key="ref_path").set_value(str(tmp_path)).run()  # a folder where a FASTA path belongs
    at.button(key="load_bed").click().run()
    assert any("this is a folder, not a reference FASTA" in e.value for e in at.error), [e.value for e in at.error]
    assert not at.exception


def test_variant_upload_naming_a_server_file_is_read_as_text(tmp_path):
    """The old hole: variant text that names an existing file was read from disk and echoed back."""
    from core.errors import InputError
    from core.io.sequences import parse_fasta_text
    from core.variants.variants import parse_variant_bytes

    secret = tmp_path / "secret.tsv"
    secret.write_text("seq_id\tpos\tref\talt\nfew1\t1\tA\tG\n# TOP SECRET\n")
    seqs = parse_fasta_text(FEW)
    with pytest.raises(InputError) as err:
        parse_variant_bytes(str(secret).encode(), seqs, "upload.tsv")
    assert "needs a header with seq_id" in str(err.value) and "SECRET" not in str(err.value)


def test_broken_model_folder_is_listed_as_broken_and_the_app_works(tmp_path):
    from checkpoints import make_dnabert_checkpoint

    from core.model.tokenization import dnabert_vocab

    broken = make_dnabert_checkpoint(tmp_path / "k3vocab", k=6, layers=1, hidden=16, heads=2)
    (broken / "vocab.txt").write_text("\n".join(dnabert_vocab(3)) + "\n")
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "config.json").write_text('{"model_type": "bert", ')
    at = _app("A")
    at.session_state["model_folders"] = [str(broken), str(damaged)]
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = " ".join(w.value for w in at.sidebar.warning)
    assert "holds 3-mers (69 tokens) but its weights were trained on 6-mers" in warnings
    assert "config.json of" in warnings and "is not valid JSON" in warnings
    assert str(broken) not in at.selectbox(key="model_pick").options
    assert at.title[0].value == "Attention" and len(figures(at)) == 4  # the demo model still works


def test_bed_on_an_uploaded_reference_leaves_nothing_behind(tmp_path, monkeypatch):
    """An uploaded reference (gzip here) is written only to a private temporary folder, which is removed."""
    import gzip
    import tempfile

    from core.io.sequences import bed_on_uploaded_reference, parse_bed, read_upload

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ref = b">chr1\n" + b"ACGTTGCATGCATTTATAAAAGGCATGCATGCCACCAGGG\n"
    seqs = bed_on_uploaded_reference(parse_bed(["chr1\t2\t12\tx\t0\t-\n"]), gzip.compress(ref), "genome.fa.gz", "x.bed")
    assert [(s.id, s.seq, s.strand) for s in seqs] == [("x", "TGCATGCAAC", "-")]
    assert list(tmp_path.iterdir()) == []  # the private copy and its .fai are gone
    table = read_upload(b"\xef\xbb\xbfid,sequence,label\nr1,ACGTACGT,1\n", "t.csv")
    assert [(s.id, s.seq, s.label) for s in table] == [("r1", "ACGTACGT", 1)]


@pytest.mark.slow
def test_vcf_upload_on_the_mutations_page_scores_and_lists_skipped_alleles():
    import pysam

    from core.io.sequences import parse_fasta_text

    at = _app("A")
    seq = parse_fasta_text(FEW)[0].seq
    hdr = pysam.VariantHeader()
    hdr.contigs.add("few1", length=len(seq))
    rows = [
        f"few1\t5\tv1\t{seq[4]}\t{'A' if seq[4] != 'A' else 'C'}\t.\tPASS\t.",
        f"few1\t9\tv2\t{seq[8]}\t.\t.\tPASS\t.",
    ]
    vcf = tempfile_bgzip(str(hdr) + "\n".join(rows) + "\n")
    at.run()
    at.switch_page("views/mutations.py").run()
    at.file_uploader(key="var_up").set_value(("calls.vcf.gz", vcf, "application/gzip")).run()
    at.button(key="var_run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "logOR" in d.value.columns)
    assert list(table["variant_id"]) == ["v1"]
    assert any("Skipped 1 alleles (ALT is '.': 1)" in i.value for i in at.info)


def tempfile_bgzip(text: str) -> bytes:
    """``text`` bgzip-compressed, as bcftools writes VCF."""
    import os
    import tempfile

    import pysam

    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "x.vcf")
        with open(plain, "w") as fh:
            fh.write(text)
        pysam.tabix_compress(plain, plain + ".gz")
        with open(plain + ".gz", "rb") as fh:
            return fh.read()
