import numpy as np
import pytest

from core.errors import InputError
from core.lenses.attention import Attention, dnabert_viz_parity_row, normalise, nucleotide_scores, token_scores
from core.model.inference import OrientationOutput, RecordOutput, WindowOutput
from core.model.tokenization import KmerTokenizer


def window(seq, cls, k=3, start=0):
    enc = KmerTokenizer.dnabert(k).encode(seq)
    return WindowOutput(start=start, end=start + len(seq), spans=enc.spans, ids=enc.ids, cls=np.asarray(cls))


def test_dnabert_viz_recipe_by_hand():
    # 1 layer... last layer used; 2 heads; k = 3; L = 5 -> tokens [CLS] t0 t1 t2 [SEP]
    cls = np.zeros((2, 2, 5))
    cls[-1, 0] = [0.5, 0.1, 0.2, 0.05, 0.15]
    cls[-1, 1] = [0.4, 0.1, 0.0, 0.25, 0.25]
    cls[0] = 99.0  # first layer must be ignored
    rec = RecordOutput("r", 0, 5, forward=OrientationOutput([window("ACGTA", cls)], 5))
    t = np.array([0.2, 0.2, 0.3])  # heads summed over the three k-mers
    raw = np.array([t[0], (t[0] + t[1]) / 2, t.mean(), (t[1] + t[2]) / 2, t[2]])
    expected = raw / np.linalg.norm(raw)
    got = nucleotide_scores(rec, Attention(), k=3)
    assert np.allclose(got, expected)
    assert np.isclose(np.linalg.norm(got), 1.0)


def test_custom_layers_heads_and_aggregation():
    cls = np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5)
    assert np.allclose(token_scores(cls, Attention(recipe="custom", head_agg="max")), cls[-1].max(0))
    assert np.allclose(
        token_scores(cls, Attention(recipe="custom", layers=(0, 1), heads=(0, 2), head_agg="mean", layer_agg="sum")),
        cls[:, [0, 2]].mean(1).sum(0),
    )
    with pytest.raises(InputError, match="layer 5 does not exist"):
        token_scores(cls, Attention(recipe="custom", layers=(5,)))


def test_normalise():
    assert np.allclose(normalise(np.array([3.0, 4.0]), "l2"), [0.6, 0.8])
    assert np.allclose(normalise(np.array([1.0, 3.0]), "sum"), [0.25, 0.75])
    assert np.allclose(normalise(np.array([1.0, 4.0]), "max"), [0.25, 1.0])
    assert np.allclose(normalise(np.zeros(3), "l2"), 0)


def test_strand_flip_and_mean():
    # reverse strand: the model read revcomp; its track is flipped back to forward coordinates
    cls_rev = np.zeros((1, 1, 5))
    cls_rev[0, 0, 1:4] = [1.0, 0.0, 0.0]  # first k-mer of the reverse complement
    rev = OrientationOutput([window("TACGT", cls_rev)], 5)
    rec = RecordOutput("r", 0, 5, reverse=rev)
    tr = nucleotide_scores(rec, Attention(orientation="reverse"), k=3)
    # reverse-strand bases 0..2 carry the score -> forward bases 4..2
    raw = np.array([0, 0, 1 / 3, 1 / 2, 1.0])
    assert np.allclose(tr, raw / np.linalg.norm(raw))
    cls_fwd = np.zeros((1, 1, 5))
    cls_fwd[0, 0, 1:4] = [1.0, 0.0, 0.0]
    rec.forward = OrientationOutput([window("ACGTA", cls_fwd)], 5)
    fwd = nucleotide_scores(rec, Attention(orientation="forward"), k=3)
    mean = nucleotide_scores(rec, Attention(orientation="both"), k=3)
    expected = (fwd + tr) / 2
    assert np.allclose(mean, expected / np.linalg.norm(expected))
    with pytest.raises(InputError, match="the reverse reading was not computed"):
        nucleotide_scores(RecordOutput("x", 0, 5, forward=rec.forward), Attention(orientation="both"), k=3)


def test_window_stitching_of_tracks():
    # two windows of a 10-base sequence; each window's CLS row gives a constant track -> stitched constant
    k = 3
    seq = "ACGTACGTAC"
    w1 = window(seq[0:6], np.ones((1, 1, 6)), k, 0)
    w2 = window(seq[4:10], np.ones((1, 1, 6)), k, 4)
    rec = RecordOutput("r", 0, 10, forward=OrientationOutput([w1, w2], 10))
    tr = nucleotide_scores(rec, Attention(normalize="none", recipe="custom"), k=3)
    assert np.allclose(tr, 1.0)


def test_parity_row_zero_fix_and_dilution():
    # k = 3, T = 8, a 5-bp sequence: tokens [CLS] a b c [SEP], then 3 pads (exact 0)
    a, b, c, sep = 0.3, 0.2, 0.1, 0.25
    row = dnabert_viz_parity_row(np.array([0.15, a, b, c, sep]), k=3, T=8)
    # t = [a, b, c, sep, 0, 0]; zero-fix zeroes sep (the token before the first 0)
    r = np.array([a, (a + b) / 2, (a + b + c) / 3, (b + c) / 3, c / 3, 0, 0, 0])
    assert row.shape == (8,)
    assert np.allclose(row, r / np.linalg.norm(r))
    # without padding (sequence fills T) no zero-fix happens and [SEP] stays outside the loop range
    row2 = dnabert_viz_parity_row(np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]), k=3, T=6)
    t = np.array([0.2, 0.3, 0.4, 0.5])
    r2 = np.array([t[0], t[:2].mean(), t[:3].mean(), t[1:4].mean(), t[2:4].mean(), t[3]])
    assert np.allclose(row2, r2 / np.linalg.norm(r2))


def test_parity_recipe_differs_from_default_at_the_end(demo_model):
    from core.io.sequences import Sequence
    from core.model import inference

    seq = Sequence("s", "ACGTTGCATGCATTTATAAAAGGCATGCATGCCACCAGGGGGCGCTAGCTAGGATCGATCGA")
    rec = next(inference.run(demo_model, [seq]))
    ours = nucleotide_scores(rec, Attention(), k=6)
    parity = nucleotide_scores(rec, Attention(recipe="dnabert-viz-parity", max_seq_length=80), k=6)
    L = len(seq.seq)
    assert parity.shape == (80,)  # DNABERT-viz's row: always T columns
    # the parity row dilutes the last base with [SEP]/padding: ratio to the base before differs from ours
    assert not np.allclose(ours, parity[:L])
    assert parity[L - 1] / parity[L - 2] < ours[L - 1] / ours[L - 2]
    with pytest.raises(InputError, match="needs more than max_seq_length"):
        nucleotide_scores(rec, Attention(recipe="dnabert-viz-parity", max_seq_length=40), k=6)
    # through the lens, a sequence longer than T - 2 k-mers is cut as DNABERT-viz cuts it (its first T-2+k-1 bases)
    from core.lenses import tracks

    t = tracks(demo_model, [seq], Attention(recipe="dnabert-viz-parity", max_seq_length=40))[0]
    cut = nucleotide_scores(
        next(inference.run(demo_model, [Sequence("c", seq.seq[: 40 - 2 + 5])])),
        Attention(recipe="dnabert-viz-parity", max_seq_length=40),
        k=6,
    )
    assert t.detail["parity_row"].shape == (40,) and np.allclose(t.detail["parity_row"], cut)
    assert t.scores.shape == (L,) and np.isnan(t.scores[40:]).all() and t.sequence.seq == seq.seq
    with pytest.raises(InputError, match="shorter than the k-mer size 6"):
        tracks(demo_model, [seq], Attention(recipe="dnabert-viz-parity", max_seq_length=5))


def test_bad_spec():
    with pytest.raises(InputError, match="unknown recipe"):
        Attention(recipe="nope")
    with pytest.raises(InputError, match="aggregation"):
        Attention(head_agg="median")


def test_ensemble_is_the_sum_of_single_model_tracks(tmp_path, demo_model):
    from checkpoints import make_dnabert_checkpoint

    from core.io.sequences import Sequence
    from core.lenses import tracks
    from core.model import inference
    from core.model.loading import load_model

    k3 = load_model(str(make_dnabert_checkpoint(tmp_path / "k3", k=3, layers=1, hidden=16, heads=2)))
    rng = np.random.default_rng(3)
    seqs = [Sequence(f"s{i}", "".join(rng.choice(list("ACGT"), int(rng.integers(30, 90))))) for i in range(6)]
    ens = tracks([k3, demo_model], seqs, Attention())
    for (seq, track, probs), s in zip([(t.sequence, t.scores, t.probs) for t in ens], seqs):
        a = nucleotide_scores(next(inference.run(k3, [s])), Attention(), k=3)
        b = nucleotide_scores(next(inference.run(demo_model, [s])), Attention(), k=6)
        assert seq.id == s.id and np.allclose(track, a + b, atol=1e-6)
        pa = next(inference.run(k3, [s], attention=False)).probs
        pb = next(inference.run(demo_model, [s], attention=False)).probs
        assert np.allclose(probs, (pa + pb) / 2, atol=1e-6)
