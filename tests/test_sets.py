"""Set-level views: top k-mers of any lens, positives against negatives, average profiles, embeddings and PCA."""

import numpy as np
import pytest

from core.io.sequences import Sequence
from core.lenses import GradInput, Track, Tracks
from core.lenses.sets import (
    average_profile,
    kmer_contrast,
    kmer_embedding_table,
    pca,
    profile_contrast,
    sequence_embeddings,
    top_kmers,
)


def _t(seq, scores, sid="s"):
    return Track(Sequence(sid, seq), np.asarray(scores, dtype=np.float64))


def test_top_kmers_by_hand():
    tr = [_t("AACGTN", [0, 0, 4, 2, 0, 9]), _t("CGTT", [3, 1, 0, 0], "t")]
    df = top_kmers(tr, k=2, top=10, min_count=1)
    got = dict(zip(df.kmer, df.mean_score))
    # AA (0,0)->0; AC (0,4)->2; CG (4,2)->3 and (3,1)->2; GT (2,0)->1 and (1,0)->0.5; TN skipped (N); TT 0
    assert got == pytest.approx({"CG": 2.5, "AC": 2.0, "GT": 0.75, "AA": 0.0, "TT": 0.0})
    assert df.kmer.tolist()[:3] == ["CG", "AC", "GT"]
    row = df[df.kmer == "CG"].iloc[0]
    assert row["count"] == 2 and row.n_sequences == 2 and row.max_score == 3 and row.total_score == 5
    assert top_kmers(tr, k=2, min_count=2).kmer.tolist() == ["CG", "GT"]


def test_kmer_contrast_finds_the_kmer_the_lens_favours_in_positives():
    rng = np.random.default_rng(0)
    motif = "ACGTAC"

    def track(i, positive):
        s = "".join(rng.choice(list("ACGT"), 60))
        sc = rng.normal(0, 0.1, 60)
        if i % 2 == 0:  # half of each class carries the motif, but only positives score it high
            s = s[:20] + motif + s[26:]
            sc[20:26] += 1.0 if positive else 0.0
        return _t(s, sc, f"{'p' if positive else 'n'}{i}")

    pos = [track(i, True) for i in range(30)]
    neg = [track(i, False) for i in range(30)]
    df = kmer_contrast(pos, neg, k=6, min_count=5)
    top = df.iloc[0]
    assert top.kmer == motif and top.auc == pytest.approx(1.0) and top.q < 1e-3
    assert top.count_pos >= 15 and top.count_neg >= 15 and abs(top.log2_rate_ratio) < 0.5  # same counts
    assert (df.p.dropna().diff().dropna() >= 0).all()  # ranked by p


def test_average_profiles_by_hand():
    a, b = _t("ACGT", [1, 2, 3, 4]), _t("ACGTAC", [0, 0, 6, 0, 0, 0], "b")
    left = average_profile([a, b], "left", signed=False)
    assert left["mean"].tolist() == pytest.approx([0.5, 1, 4.5, 2, 0, 0]) and left.n.tolist() == [2, 2, 2, 2, 1, 1]
    centre = average_profile([a, b], "center", signed=False)  # a sits in columns 1..4 of 6
    assert centre.offset.tolist() == [-3, -2, -1, 0, 1, 2] and centre["mean"].tolist()[1] == pytest.approx(0.5)
    peak = average_profile([a, b], "peak", width=2, signed=False)  # a's peak is its last base
    assert peak.offset.tolist() == [-1, 0, 1] and peak["mean"].tolist() == pytest.approx([1.5, 5, 0])
    assert peak.n.tolist() == [2, 2, 1]
    both = profile_contrast([a], [b], "left")
    assert both.difference.tolist()[:4] == pytest.approx([1, 2, -3, 4]) and np.isnan(both.mean_pos.iloc[5])
    signed = Tracks((_t("ACG", [1, -5, 2]),), GradInput())
    assert average_profile(signed, "peak", width=2)["mean"].tolist() == pytest.approx([1, -5, 2])  # peak at |-5|


def test_sequence_embeddings_and_kmer_table(demo_model, tiny_model):
    import torch

    seqs = [Sequence("a", "ACGTTGCA" * 10), Sequence("b", "TTGACC" * 12)]
    ids, X = sequence_embeddings(demo_model, seqs, pool="cls")
    assert ids == ["a", "b"] and X.shape == (2, 64)
    enc = demo_model.tokenizer.encode(seqs[1].seq)
    with torch.no_grad():
        h = demo_model.model.bert(input_ids=torch.from_numpy(enc.ids[None])).last_hidden_state[0].numpy()
    assert np.allclose(X[1], h[0], atol=1e-5)  # padded in a batch with a longer sequence: the same [CLS] row
    _, M = sequence_embeddings(demo_model, seqs[1:], pool="mean")
    assert np.allclose(M[0], h[1:-1].mean(0), atol=1e-5)  # [CLS] and [SEP] left out
    _, B = sequence_embeddings(demo_model, seqs[1:], pool="mean", orientation="both")
    assert not np.allclose(B, M)
    long = [Sequence("l", "ACGT" * 60)]  # tiny_model reads 64 positions: several windows, averaged
    _, L = sequence_embeddings(tiny_model, long, pool="mean")
    assert L.shape == (1, 16) and np.isfinite(L).all()
    toks, E = kmer_embedding_table(demo_model)
    assert len(toks) == 4096 and E.shape == (4096, 64) and all(len(t) == 6 for t in toks)
    vocab = demo_model.hf_tokenizer.get_vocab()
    emb = demo_model.model.get_input_embeddings().weight.detach().numpy()
    assert np.allclose(E[toks.index("ACGTAC")], emb[vocab["ACGTAC"]])


def test_pca():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 5)) * np.array([10, 3, 1, 0.1, 0.1])
    coords, ratio = pca(X, 2)
    assert coords.shape == (200, 2) and ratio[0] > 0.85 and ratio[0] > ratio[1] > 0.05 and ratio.sum() <= 1
    assert np.allclose(np.var(coords[:, 0], ddof=0) / np.var(X - X.mean(0), ddof=0, axis=0).sum(), ratio[0])
    assert np.abs(np.corrcoef(coords[:, 0], X[:, 0])[0, 1]) > 0.99
    assert np.allclose(pca(X, 2)[0], coords)  # deterministic signs
