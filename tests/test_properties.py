"""Property tests (hypothesis) for every parser: random and mutated inputs end either in a result or in the project's
own error (:class:`DnalensError`), never in another exception; valid inputs round-trip.

Parsers: FASTA (text, file, gzip), BED, variant tables, VCF (pysam), score files (.npy and tables), DNABERT
train/dev.tsv. Mutations insert, delete and replace characters drawn from what breaks parsers (tabs, newlines,
'>', '#', signs, dots, letters, digits, non-ASCII).
"""

import gzip
import io
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import DnalensError
from core.io.scores import read_score_file
from core.io.sequences import Sequence, parse_bed, parse_fasta_text, read_fasta, read_upload, table_from_text
from core.variants.variants import parse_variant_bytes, parse_variants

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NASTY = "\t\n\r >#,.;:=-+*<>[]/\\|\"' 0123456789eEinfaNACGTacgtX\x00\ufeffé𝔸"
IDS = st.text(alphabet=string.ascii_letters + string.digits + "_.:|-", min_size=1, max_size=20)
DESC = st.text(alphabet=st.characters(codec="ascii", exclude_categories=("Cc",)), max_size=40)


@st.composite
def fasta_records(draw):
    """([(id, description, sequence)], text): wrapped or not, LF/CRLF, optional blank lines (recipes-2.md §8)."""
    recs = [
        (
            i,
            draw(DESC).strip().replace("label=", "lbl="),
            draw(st.text(alphabet="ACGTNacgtn", min_size=1, max_size=300)),
        )
        for i in draw(st.lists(IDS, min_size=1, max_size=8, unique=True))
    ]
    w, eol, blank = draw(st.none() | st.integers(1, 120)), draw(st.sampled_from(["\n", "\r\n"])), draw(st.booleans())
    text = "".join(
        eol.join([f">{i} {d}".rstrip()] + ([s] if w is None else [s[k : k + w] for k in range(0, len(s), w)]))
        + eol
        + (eol if blank else "")
        for i, d, s in recs
    )
    return recs, text


@st.composite
def mutated(draw, base: str):
    """``base`` with a few random insertions, deletions and replacements."""
    text = list(base)
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        pos = draw(st.integers(0, max(0, len(text) - (op != "insert"))))
        ch = draw(st.text(alphabet=NASTY, min_size=1, max_size=3))
        if op == "insert":
            text[pos:pos] = list(ch)
        elif text:
            text[pos : pos + 1] = [] if op == "delete" else list(ch)
    return "".join(text)


def only_our_errors(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except DnalensError as exc:
        assert str(exc), "an error without a message"
        return None


# ---------------------------------------------------------------------------------------------------------- FASTA
@FAST
@given(fasta_records())
def test_fasta_roundtrip(case):
    recs, text = case
    got = parse_fasta_text(text)
    assert [(s.id, s.description, s.seq) for s in got] == [(i, d, q.upper()) for i, d, q in recs]


VALID_FASTA = ">a label=1 x\nACGTACGTNN\nacgt\n>b\nTTTTGGGG\n"


@FAST
@given(st.one_of(st.text(alphabet=NASTY, max_size=200), st.text(max_size=100), mutated(VALID_FASTA)))
def test_fasta_text_never_crashes(text):
    only_our_errors(parse_fasta_text, text)


@FAST
@given(st.one_of(st.binary(max_size=300), mutated(VALID_FASTA).map(str.encode)), st.booleans(), st.booleans())
def test_fasta_files_and_uploads_never_crash(tmp_path_factory, data, gz, cut):
    if gz:
        data = gzip.compress(data)
        data = data[: len(data) // 2] if cut else data
    path = tmp_path_factory.mktemp("fa") / "x.fa.gz"
    path.write_bytes(data)
    only_our_errors(read_fasta, path)
    only_our_errors(read_upload, data, "upload.fa")


# ---------------------------------------------------------------------------------------------------------- BED
VALID_BED = "track name=x\n# note\nchr1\t0\t10\tiv1\t0\t+\nchr1\t5\t20\tiv2\t0\t-\nchr2 3 9\n"


@FAST
@given(st.one_of(st.text(alphabet=NASTY, max_size=200), mutated(VALID_BED)))
def test_bed_never_crashes(text):
    out = only_our_errors(parse_bed, io.StringIO(text), "x.bed")
    for iv in out or []:
        assert 0 <= iv.start < iv.end and iv.strand in ("+", "-")


# ---------------------------------------------------------------------------------------------------------- variants
SEQS = [Sequence("s1", "ACGTACGTACGTACGTACGT"), Sequence("s2", "TTTTGGGGCCCCAAAATTTT")]
VALID_TABLE = "seq_id\tpos\tref\talt\tnote\ns1\t4\tT\tG\tsnv\ns1\t5\tA\t-\tdel\ns2\t3\t-\tCC\tins\n"


@FAST
@given(st.one_of(st.text(alphabet=NASTY, max_size=200), mutated(VALID_TABLE), mutated(VALID_TABLE.replace("\t", ","))))
def test_variant_tables_never_crash(text):
    out = only_our_errors(parse_variants, text, SEQS, "v.tsv")
    for v in out or []:
        s = next(x for x in SEQS if x.id == v.seq_id)
        assert s.seq[v.offset : v.offset + len(v.ref)] == v.ref  # every variant read fits its sequence


VALID_VCF = (
    "##fileformat=VCFv4.2\n##contig=<ID=s1,length=20>\n"
    '##INFO=<ID=DP,Number=1,Type=Integer,Description="depth">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    "s1\t2\tv1\tC\tA,G\t.\tPASS\tDP=3\ns1\t3\tv2\tG\t.\t.\tPASS\t.\ns2\t4\tv3\tT\t<DEL>\t.\tPASS\t.\n"
)


@settings(max_examples=60, deadline=None)
@given(mutated(VALID_VCF), st.sampled_from(["plain", "gzip", "bgzip-cut"]))
def test_vcf_never_crashes(text, packing):
    data = text.encode()
    if packing == "gzip":
        data = gzip.compress(data)
    elif packing == "bgzip-cut":
        data = gzip.compress(data)[:-9]
    out = only_our_errors(parse_variant_bytes, data, SEQS, "v.vcf")
    for v in out or []:
        s = next(x for x in SEQS if x.id == v.seq_id)
        assert s.seq[v.offset : v.offset + len(v.ref)] == v.ref
    for skip in getattr(out, "skipped", []):
        assert skip.reason


# ---------------------------------------------------------------------------------------------------------- scores
NUMS = st.floats(allow_nan=True, allow_infinity=True, width=32)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.sampled_from(["float", "int", "bool", "complex", "str", "object", "npz"]),
    st.lists(st.integers(0, 40), min_size=0, max_size=3),
    st.lists(NUMS, min_size=1, max_size=8),
)
def test_score_arrays_never_crash(tmp_path_factory, kind, shape, values):
    seqs = [Sequence("a", "ACGTACGTAC"), Sequence("b", "ACGTA")]
    size = int(np.prod(shape)) if shape else 1
    flat = np.resize(np.array(values, dtype=np.float64), size)
    arr = {
        "float": flat,
        "int": np.clip(np.nan_to_num(flat, posinf=0, neginf=0), -1e9, 1e9).astype(np.int64),
        "bool": flat > 0,
        "complex": flat.astype(np.complex128),
        "str": flat.astype(str),
        "object": flat.astype(object),
        "npz": flat,
    }[kind].reshape(shape)
    path = tmp_path_factory.mktemp("npy") / "s.npy"
    with open(path, "wb") as fh:
        np.savez(fh, arr) if kind == "npz" else np.save(fh, arr, allow_pickle=True)
    rows = only_our_errors(read_score_file, path, seqs)
    if rows is not None:
        assert len(rows) == 2 and all(np.isfinite(r[: len(s.seq)]).all() for r, s in zip(rows, seqs))


VALID_SCORES = "id,position,score\na,0,0.1\na,1,0.2\na,2,0.3\nb,0,1.5\nb,1,-2\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated(VALID_SCORES), st.sampled_from(["csv", "tsv"]))
def test_score_tables_never_crash(tmp_path_factory, text, fmt):
    path = tmp_path_factory.mktemp("sc") / f"s.{fmt}"
    path.write_text(text.replace(",", "\t") if fmt == "tsv" else text)
    seqs = [Sequence("a", "ACG"), Sequence("b", "AC")]
    rows = only_our_errors(read_score_file, path, seqs)
    if rows is not None:
        assert [len(r) for r in rows] and all(np.isfinite(r).all() for r in rows)


# ---------------------------------------------------------------------------------------------------------- dev.tsv
@st.composite
def dnabert_tsv(draw):
    """DNABERT's dev.tsv: a header, then space-separated overlapping k-mers, a tab, the label."""
    k = draw(st.integers(3, 6))
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        seq = draw(st.text(alphabet="ACGT", min_size=k, max_size=40))
        rows.append((seq, draw(st.integers(0, 3))))
    text = "sequence\tlabel\n" + "".join(
        " ".join(s[i : i + k] for i in range(len(s) - k + 1)) + f"\t{lab}\n" for s, lab in rows
    )
    return rows, text


@FAST
@given(dnabert_tsv())
def test_dev_tsv_roundtrip(case):
    rows, text = case
    assert [(s.seq, s.label) for s in table_from_text(text, "dev.tsv")] == rows


@FAST
@given(st.data())
def test_dev_tsv_never_crashes(data):
    _, text = data.draw(dnabert_tsv())
    text = data.draw(st.one_of(mutated(text), st.text(alphabet=NASTY, max_size=150)))
    out = only_our_errors(table_from_text, text, "dev.tsv")
    for s in out or []:
        assert set(s.seq) <= set("ACGTN") and 0 <= s.label < 1000


@pytest.mark.parametrize("label", ["inf", "-inf", "nan", "1e300", "-1", "1.5", "99999999999999999999"])
def test_bad_labels_are_our_errors(label):
    with pytest.raises(DnalensError, match="label"):
        table_from_text(f"sequence\tlabel\nACGT\t{label}\n", "t.tsv")
    with pytest.raises(DnalensError, match="label"):
        parse_fasta_text(f">a label={label}\nACGT\n")
