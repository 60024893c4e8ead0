"""Long records are streamed: windows run batch by batch, the track is stitched into a disk-backed array, the writer
takes it in pieces. The numbers equal the in-memory path, and memory does not grow with the record's length."""

import os
import tracemalloc

import numpy as np
import pandas as pd
import pytest

from core.io.ondisk import Behind, release, scratch_array
from core.io.sequences import Sequence
from core.io.tables import TrackWriter
from core.lenses import iter_tracks
from core.lenses.attention import Attention, nucleotide_scores
from core.model import inference
from core.model.tokenization import plan_windows, stitch_stream, stitch_windows


def random_seq(n, seed, **kw):
    return Sequence(f"r{n}", "".join(np.random.default_rng(seed).choice(list("ACGT"), n)), **kw)


@pytest.mark.parametrize("length,window,overlap", [(10, 10, None), (100, 30, 10), (1000, 67, 20), (300, 67, 66)])
def test_stitch_stream_is_stitch_windows_bit_for_bit(length, window, overlap):
    wins = plan_windows(length, window, overlap)
    rng = np.random.default_rng(length)
    tracks = [rng.random(e - s) for s, e in wins]
    pieces = list(stitch_stream(iter(tracks), wins, length))
    assert [a for a, _ in pieces] == sorted(a for a, _ in pieces)
    assert np.array_equal(np.concatenate([v for _, v in pieces]), stitch_windows(tracks, wins, length))


@pytest.mark.parametrize(
    "spec",
    [
        Attention(),
        Attention(orientation="reverse"),
        Attention(orientation="both"),
        Attention(recipe="rollout", normalize="max"),
        Attention(recipe="custom", layers=(0, 1), normalize="sum", orientation="both"),
    ],
    ids=["dnabert-viz", "reverse", "both", "rollout-max", "custom-both"],
)
def test_streamed_record_gives_the_in_memory_numbers(tiny_model, spec):
    seq = random_seq(700, 3)
    opts = spec.run_options(tiny_model)
    whole = next(inference.run(tiny_model, [seq], overlap=20, **opts))
    streamed = next(inference.run(tiny_model, [seq], overlap=20, chunk_windows=4, **opts))
    reading = streamed.forward or streamed.reverse
    assert isinstance(reading, inference.StreamedOrientation) and len(reading.plan) > 4
    a = nucleotide_scores(whole, spec, k=6, n_layers=tiny_model.n_layers)
    b = nucleotide_scores(streamed, spec, k=6, n_layers=tiny_model.n_layers)
    assert isinstance(b, np.memmap) and b.shape == (700,)
    np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(streamed.probs, whole.probs, rtol=1e-6)


def test_records_keep_input_order_around_a_streamed_one(tiny_model):
    seqs = [random_seq(80, 1), random_seq(4000, 2), random_seq(90, 4)]  # 4 kb: 80 windows > 64 (8 x batch)
    got = list(iter_tracks(tiny_model, seqs, Attention(), batch_size=8))
    assert [t.id for t in got] == ["r80", "r4000", "r90"]
    assert isinstance(got[1].scores, np.memmap) and not isinstance(got[0].scores, np.memmap)
    assert all(np.isclose(np.linalg.norm(t.scores), 1) for t in got)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "npy"])
def test_writer_takes_a_disk_backed_track_in_pieces(tmp_path, fmt):
    seq = random_seq(1000, 5, chrom="chr2", start=500, end=1500, strand="-")
    values = np.random.default_rng(6).random(1000)
    disk = scratch_array(1000)
    disk[:] = values
    release(disk, 0, 1000)
    for name, scores in (("mem", values), ("disk", disk)):
        with TrackWriter(
            tmp_path / f"{name}.{fmt}", coordinates=True, n_records=1, max_length=1000, chunk_rows=128
        ) as w:
            w.write(seq, scores)
    if fmt == "npy":
        assert np.array_equal(np.load(tmp_path / "mem.npy"), np.load(tmp_path / "disk.npy"))
        return
    read = pd.read_parquet if fmt == "parquet" else pd.read_csv
    a, b = read(tmp_path / f"mem.{fmt}"), read(tmp_path / f"disk.{fmt}")
    pd.testing.assert_frame_equal(a, b)
    assert a["position"].tolist() == list(range(1000)) and "".join(a["base"]) == seq.seq
    assert a["genomic_position"].tolist() == seq.genomic_positions().tolist()
    assert np.allclose(a["score"], values.astype(np.float32))


def _peak_bytes(lm, length: int, tmp_path) -> int:
    seq = random_seq(length, 7)
    tracemalloc.start()
    tracemalloc.reset_peak()
    with TrackWriter(tmp_path / f"t{length}.parquet", chunk_rows=1024) as w:
        for t in iter_tracks(lm, [seq], Attention(), batch_size=16):
            w.write(t.sequence, t.scores)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


@pytest.mark.slow
def test_memory_does_not_grow_with_the_record(tiny_model, tmp_path):
    """Python-side peak allocations (numpy's included) for one 4-kb and one 16-kb record: about the same, not four
    times as much (the in-memory path held every window's outputs and full-length stitching arrays)."""
    _peak_bytes(tiny_model, 4000, tmp_path)  # warm-up: imports, caches
    small = _peak_bytes(tiny_model, 4000, tmp_path)
    big = _peak_bytes(tiny_model, 16_000, tmp_path)
    assert big < 1.3 * small, (small, big)


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="reads /proc (Linux)")
def test_release_keeps_a_scratch_track_out_of_resident_memory():
    """Written in window-sized pieces (smaller than a page pair) and released behind, a 40-MB scratch track stays
    out of resident memory, and every value reads back."""

    def resident_kib(arr):
        start = arr.ctypes.data
        total, inside = 0, False
        for line in open("/proc/self/smaps"):
            head = line.split()[0]
            if "-" in head and not line.startswith(("Rss", "Size")) and ":" not in head:
                lo, hi = (int(x, 16) for x in head.split("-"))
                inside = lo <= start < hi
            elif inside and line.startswith("Rss:"):
                total += int(line.split()[1])
        return total

    arr, rev = scratch_array(5_000_000), scratch_array(5_000_000)
    forward, backward = Behind(arr), Behind(rev)
    for a in range(0, len(arr), 385):
        b = min(len(arr), a + 385)
        arr[a:b] = np.arange(a, b)
        forward.passed(a, b)
        rev[len(rev) - b : len(rev) - a] = -1.0  # a reverse reading is written from the end
        backward.passed(len(rev) - b, len(rev) - a)
    assert resident_kib(arr) < 4096 and resident_kib(rev) < 4096, (resident_kib(arr), resident_kib(rev))
    forward.flush()
    assert arr[4_321_000] == 4_321_000 and (np.diff(np.asarray(arr[:200_000])) == 1).all()
