"""Session files (issue 14, item 15): one zip of plain formats that restores what was saved, and refuses anything
else (no pickle is ever loaded)."""

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.io.sequences import Sequence
from core.lenses import Attention
from core.reports.session import Session, lens_of, read_session, session_bytes


def _session():
    seqs = [
        Sequence("a", "ACGTACGTAA", label=1),
        Sequence("chr1:10-16(-)", "TTGACA", chrom="chr1", start=10, end=16, strand="-", description="bed"),
    ]
    lens = Attention(recipe="custom", layers=(0, 1), heads=(2,), orientation="both")
    return Session(
        sequences=seqs,
        model={"name": "demo", "device": "auto", "dtype": "float32", "trust": False},
        settings={"land_sort": "peak", "mt_w": 20, "mt_parity": True},
        selected="chr1:10-16(-)",
        source_label="pasted text",
        inputs={"pasted.txt": b">a\nACGTACGTAA\n"},
        lens=lens.params(),
        tracks=[np.linspace(0, 1, 10), np.array([0.5, np.nan, 0.1, 0.2, 0.3, 0.4])],
        predictions=np.array([[0.2, 0.8], [0.9, 0.1]]),
        tables={"motifs": pd.DataFrame({"name": ["TATA"], "q": [1e-9]})},
    )


def test_round_trip():
    s = _session()
    back = read_session(session_bytes(s))
    assert back.sequences == s.sequences and back.sequences[1].strand == "-" and back.sequences[0].label == 1
    assert back.model == s.model and back.settings == s.settings and back.selected == s.selected
    assert back.inputs == s.inputs and back.source_label == "pasted text"
    for a, b in zip(back.tracks, s.tracks):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(back.predictions, s.predictions)
    pd.testing.assert_frame_equal(back.tables["motifs"], s.tables["motifs"])
    assert lens_of(back.lens) == Attention(recipe="custom", layers=(0, 1), heads=(2,), orientation="both")


def _zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for k, v in members.items():
            z.writestr(k, v)
    return buf.getvalue()


def test_refuses_what_is_not_a_session():
    good = session_bytes(_session())
    with pytest.raises(InputError, match="not a zip archive"):
        read_session(b"PK\x03\x04 not really", source="x.zip")
    with pytest.raises(InputError, match="no session.json"):
        read_session(_zip({"a.txt": "hi"}))
    with pytest.raises(InputError, match="another format"):
        read_session(_zip({"session.json": json.dumps({"format": "other"})}))
    doc = json.loads(zipfile.ZipFile(io.BytesIO(good)).read("session.json"))
    doc["sequences"][0]["seq"] = "ACGU"
    with pytest.raises(InputError, match="not A/C/G/T/N"):
        read_session(_zip({"session.json": json.dumps(doc)}))
    # an object array needs pickle to load: refused, never unpickled
    buf = io.BytesIO()
    np.save(buf, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    doc["sequences"][0]["seq"] = "ACGT"
    bad = _zip({"session.json": json.dumps(doc), "results/tracks.npy": buf.getvalue()})
    with pytest.raises(InputError, match="not a plain numeric array"):
        read_session(bad, source="evil.zip")
