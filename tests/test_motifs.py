import random
from collections import Counter

import numpy as np
import pytest
from dnabert_viz_reference import count_containing, motif_analysis

from core.errors import InputError
from core.motifs import MotifParams, dinucleotide_shuffle, discover_motifs
from core.motifs.merge import ungapped_alignment
from core.motifs.pwm import count_matrix, informative_core, probability_matrix
from core.motifs.regions import contiguous_regions, high_attention_regions
from core.motifs.stats import containment_counts, enrichment

PARITY = MotifParams.dnabert_viz()


def rand_seq(rng, n, alphabet="ACGT"):
    return "".join(rng.choice(list(alphabet), n))


# ---------------------------------------------------------------------------------------------------- regions
def test_contiguous_regions_keeps_runs_of_at_least_min_len():
    cond = np.array([0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1], bool)
    assert contiguous_regions(cond, 5) == [(5, 10), (11, 16)]  # end - start >= min_len, run at the end
    assert contiguous_regions(cond, 3) == [(1, 4), (5, 10), (11, 16)]
    assert contiguous_regions(np.zeros(0, bool), 5) == []


def test_dnabert_viz_region_rule():
    s = np.array([0.1, 0.1, 2, 2, 2, 2, 2, 0.1, 0.1, 0.1])
    assert high_attention_regions(s, PARITY) == [(2, 7)]
    # zero floor: the 10 x min condition becomes score > 0
    z = np.array([0, 0, 0.2, 0.2, 0.2, 0.2, 0.2, 0, 0, 0.05])
    assert high_attention_regions(z, PARITY) == [(2, 7)]
    # 10 x min above the peak: nothing passes (DNABERT-viz fragility)
    flat = np.array([1.0, 1.0, 1.2, 1.2, 1.2, 1.2, 1.2, 1.0])
    assert high_attention_regions(flat, PARITY) == []
    # the robust rules still find the peak
    assert high_attention_regions(flat, MotifParams(region_rule="zscore", z=0.5)) == [(2, 7)]
    assert high_attention_regions(flat, MotifParams(region_rule="quantile", quantile=0.3)) == [(2, 7)]
    assert high_attention_regions(np.ones(10), MotifParams(region_rule="zscore")) == []


# ---------------------------------------------------------------------------------------------------- counting
def test_containment_matches_aho_corasick_and_substring_search():
    rng = np.random.default_rng(0)
    seqs = [rand_seq(rng, int(rng.integers(20, 60))) for _ in range(200)] + ["ACGTNNACGT", "AC"]
    cands = list({s[i : i + L] for s in seqs[:30] for L in (4, 5, 7) for i in range(0, len(s) - L, 9)})
    cands += ["ACGTNNACGT", "A" * 35, "NN"]  # N and > 31 bases take the fallback path
    cands += ["".join(rng.choice(list("ACGT"), 14)) for _ in range(5)] + [seqs[3][2:16], seqs[4][:12]]
    ours, first = containment_counts(seqs, cands, split=50)
    assert ours.tolist() == count_containing(seqs, cands).tolist()
    assert first.tolist() == count_containing(seqs[:50], cands).tolist()
    both, _ = containment_counts(seqs, cands, both_strands=True)
    rc = lambda s: s.translate(str.maketrans("ACGTN", "TGCAN"))[::-1]
    naive = [sum((c in s) or (rc(c) in s) for s in seqs) for c in cands]
    assert both.tolist() == naive


def test_enrichment_hypergeometric_and_bh():
    from scipy.stats import hypergeom

    pos = ["AAACCC", "AAAGGG", "TTTAAA", "CCCGGG"]
    neg = ["GGGTTT", "CCCTTT", "GAGAGA"]
    df = enrichment(pos, neg, ["AAA", "CCC", "GAG"])
    assert df["x"].tolist() == [3, 2, 0] and df["n"].tolist() == [3, 3, 1]
    assert np.allclose(df["p"], [hypergeom.sf(2, 7, 4, 3), hypergeom.sf(1, 7, 4, 3), hypergeom.sf(-1, 7, 4, 1)])
    p = df["p"].to_numpy()
    order = np.argsort(p)
    bh = np.minimum.accumulate((p[order] * 3 / np.arange(1, 4))[::-1])[::-1]
    q = np.empty(3)
    q[order] = np.minimum(bh, 1)
    assert np.allclose(df["q"], q)


# ---------------------------------------------------------------------------------------------------- alignment
@pytest.mark.slow  # over 1 s on 2 cores: the fast tier stays under a minute
def test_closed_form_equals_biopython_aligner():
    """Score and offset of the closed form equal Biopython 1.88's PairwiseAligner (internal gaps forbidden)."""
    from Bio import Align

    al = Align.PairwiseAligner()
    al.internal_gap_score = -10000.0
    rng = np.random.default_rng(1)
    for _ in range(1500):
        m = rand_seq(rng, int(rng.integers(3, 12)), "ACG" if rng.random() < 0.5 else "ACGT")
        key = rand_seq(rng, int(rng.integers(3, len(m) + 1)), "ACG" if rng.random() < 0.5 else "ACGT")
        aln = al.align(m, key)[0]
        score, d = ungapped_alignment(m, key, end_gap=-1.0)
        assert score == aln.score, (m, key)
        if aln.aligned[0].size:
            assert d == aln.aligned[0][0][0] - aln.aligned[1][0][0], (m, key)


# ---------------------------------------------------------------------------------------------------- parity
def _parity_case(seed, n_pos=150, n_neg=150, L=80, motifs=("TTGACGTCAA", "GGGCCCAT", "ATATAT")):
    rng = np.random.default_rng(seed)
    pos, scores = [], []
    for i in range(n_pos):
        s = list(rand_seq(rng, L))
        sc = rng.random(L) * 0.1 + 0.01
        m = motifs[i % len(motifs)]
        # motifs near the ends too (window drop quirk); sometimes mutated (merging), sometimes two per sequence
        if rng.random() < 0.25:
            start = int(rng.choice([0, 2, L - len(m), L - len(m) - 3]))
        else:
            start = int(rng.integers(20, L - len(m) - 20))
        mm = list(m)
        if rng.random() < 0.2:
            mm[int(rng.integers(len(m)))] = "ACGT"[int(rng.integers(4))]
        s[start : start + len(m)] = mm
        hi0 = start + int(rng.choice([0, 0, 1, 2]))
        hi1 = min(L, start + len(m) - int(rng.choice([0, 0, 1])))
        sc[hi0:hi1] = 1.0 + rng.random(hi1 - hi0) * 0.01
        if rng.random() < 0.3:
            j = int(rng.integers(0, L - 6))
            sc[j : j + 6] = 1.0  # ties in scores, extra region
        pos.append("".join(s))
        scores.append(np.concatenate([sc, rng.random(5)]))  # rows longer than the sequence (atten.npy)
    neg = [rand_seq(rng, L) for _ in range(n_neg)]
    return pos, neg, scores


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_parity_mode_reproduces_motif_analysis_exactly(seed):
    pos, neg, scores = _parity_case(seed)
    ref = motif_analysis(pos, neg, scores, window_size=24, min_len=5, pval_cutoff=0.005, min_n_motif=3)
    res = discover_motifs(pos, scores, neg, PARITY)
    ours = {m.key: m for m in res.motifs}
    assert list(ours) == list(ref)  # same keys, same order
    assert len(ref) >= 2 and sum(len(r["seq_idx"]) for r in ref.values()) >= 30
    for key, r in ref.items():
        inst = ours[key].instances
        assert inst["seq_index"].tolist() == r["seq_idx"]
        assert list(zip(inst["start"], inst["end"])) == r["atten_region_pos"]
        assert inst["window"].tolist() == r["seqs"]
        assert ours[key].name == key


def test_parity_pinned_small_case():
    """Hand-checked: a 5-base region at the very end of a 30-bp sequence is dropped by DNABERT-viz's window rule,
    the identical one in the middle of another sequence is kept; default mode keeps both (N-padded)."""
    pos = ["A" * 12 + "GATCC" + "A" * 13, "C" * 25 + "GATCC", "T" * 10 + "GATCC" + "T" * 15]
    sc = [
        np.r_[np.full(12, 0.01), np.ones(5), np.full(13, 0.01)],
        np.r_[np.full(25, 0.01), np.ones(5)],
        np.r_[np.full(10, 0.01), np.ones(5), np.full(15, 0.01)],
    ]
    neg = ["ACGT" * 8] * 20
    res = discover_motifs(pos, sc, neg, MotifParams.dnabert_viz(min_n_motif=1))
    assert [m.key for m in res.motifs] == ["GATCC"]
    inst = res.motifs[0].instances
    assert inst["seq_index"].tolist() == [0, 2]  # the end-of-sequence instance is gone
    assert list(zip(inst["start"], inst["end"])) == [(3, 27), (1, 25)]  # left = (24-5)//2 = 9, right = 10
    assert inst["window"].tolist() == [pos[0][3:27], pos[2][1:25]]
    d = discover_motifs(pos, sc, neg, MotifParams(region_rule="dnabert-viz", min_n_motif=1))
    inst = d.motifs[0].instances
    assert sorted(inst["seq_index"].tolist()) == [0, 1, 2]
    end = inst[inst["seq_index"] == 1].iloc[0]
    assert end["window"].endswith("GATCC" + "N" * 10)  # padded past the end, never counted
    assert count_matrix([end["window"]])[-10:].sum() == 0


def test_empty_results_are_explained_not_crashes():
    pos = ["ACGTACGTAC" * 3] * 5
    flat = [np.ones(30)] * 5
    neg = ["GGGGCCCCAA" * 3] * 5
    for params in (PARITY, MotifParams()):
        res = discover_motifs(pos, flat, neg, params)
        assert res.motifs == [] and res.stages["regions"] == 0
        assert "no high-attention region" in res.explanation
    # regions but nothing enriched
    rng = np.random.default_rng(5)
    pos = [rand_seq(rng, 40) for _ in range(20)]
    neg = pos[:]  # same sequences: nothing can be enriched
    sc = [np.r_[np.full(10, 0.01), np.ones(6), np.full(24, 0.01)]] * 20
    res = discover_motifs(pos, sc, neg, PARITY)
    assert res.motifs == [] and res.stages["passing_fdr"] == 0 and "none is enriched" in res.explanation


def test_default_mode_finds_reverse_strand_instances():
    rng = np.random.default_rng(7)
    motif = "TTGACGGCATCC"
    rc = motif.translate(str.maketrans("ACGT", "TGCA"))[::-1]
    pos, sc = [], []
    for i in range(40):
        s = list(rand_seq(rng, 60))
        st = int(rng.integers(5, 40))
        s[st : st + 12] = motif if i % 2 == 0 else rc
        score = np.full(60, 0.01)
        score[st : st + 12] = 1.0
        pos.append("".join(s))
        sc.append(score)
    neg = [rand_seq(rng, 60) for _ in range(40)]
    res = discover_motifs(pos, sc, neg, MotifParams(region_rule="dnabert-viz"))
    top = max(res.motifs, key=lambda m: m.n_instances)
    assert top.n_sequences == 40  # both orientations in one motif
    assert set(top.instances["strand"]) == {"+", "-"}
    a, b = top.core
    core = "".join("ACGT"[i] for i in top.ppm[a:b].argmax(1))
    assert motif in core or rc in core
    # parity counts the forward strand only: the two orientations stay apart
    par = discover_motifs(pos, sc, neg, MotifParams.dnabert_viz())
    assert max(m.n_instances for m in par.motifs) <= 20


def test_hostile_input():
    pos = ["ACGTACGTACGTAAAA"] * 3
    with pytest.raises(InputError, match="3 positive sequences but 0 score rows"):
        discover_motifs(pos, [], ["ACGT"], MotifParams())
    with pytest.raises(InputError, match="positive 2 has 16 bases but 10 scores"):
        discover_motifs(pos, [np.ones(16), np.ones(10), np.ones(16)], ["ACGT"], MotifParams())
    with pytest.raises(InputError, match="no background sequences"):
        discover_motifs(pos, [np.ones(16)] * 3, [], MotifParams())
    with pytest.raises(InputError, match="all N"):
        discover_motifs(["NNNNNN"] * 2, [np.ones(6)] * 2, ["ACGT"], MotifParams())
    with pytest.raises(InputError, match="NaN"):
        discover_motifs(pos, [np.r_[np.ones(15), np.nan]] * 3, ["ACGT"], MotifParams())
    from core.motifs.jaspar import load_jaspar

    with pytest.raises(InputError, match="JASPAR release 'JASPAR1999' does not exist here; available: JASPAR2026"):
        load_jaspar("JASPAR1999")


# ---------------------------------------------------------------------------------------------------- PWM, MEME
def test_pwm_and_information():
    counts = count_matrix(["ACGT", "ACGA", "ACGN"])
    assert counts.tolist() == [[3, 0, 0, 0], [0, 3, 0, 0], [0, 0, 3, 0], [1, 0, 0, 1]]
    ppm = probability_matrix(counts)
    assert np.allclose(ppm[0], [3.25 / 4, 0.25 / 4, 0.25 / 4, 0.25 / 4])  # pseudocount 1 spread evenly
    assert np.allclose(ppm.sum(1), 1)
    assert informative_core(ppm) == (0, 3)


@pytest.mark.slow  # over 1 s on 2 cores: the fast tier stays under a minute
def test_meme_roundtrip(tmp_path):
    from memelite.io import read_meme

    from core.motifs.jaspar import write_meme

    ppm = probability_matrix(count_matrix(["TATAAAA", "TATAAAT", "TATATAA"]))
    write_meme([("TATA box", ppm, 3), ("other", np.full((5, 4), 0.25), 10)], tmp_path / "m.meme")
    back = read_meme(str(tmp_path / "m.meme"))
    assert list(back) == ["TATA_box", "other"]
    assert np.allclose(back["TATA_box"].T, ppm, atol=1e-6)


def test_dinucleotide_shuffle_preserves_dinucleotides():
    rng = random.Random(0)
    r1 = random.Random(1)
    s = "".join(r1.choice("ACGTN") for _ in range(300))
    for _ in range(5):
        t = dinucleotide_shuffle(s, rng)
        assert Counter(zip(s, s[1:])) == Counter(zip(t, t[1:]))
        assert t[0] == s[0] and t[-1] == s[-1] and t != s


# ---------------------------------------------------------------------------------------------------- demo data
@pytest.mark.slow
def test_demo_planted_motifs_found_and_matched_to_their_jaspar_source(demo_model, sample):
    """With the demo model's attention on the held-out positives, every planted motif is discovered and its top
    JASPAR match is the matrix it was planted from (q < 0.01)."""
    from core.io.sequences import read_fasta
    from core.lenses import Attention, tracks
    from core.motifs import shuffled_background
    from core.motifs.jaspar import match_jaspar
    from core.reports.motifs import motif_summary

    pos = read_fasta(sample / "demo_positives.fa")
    scores = tracks(demo_model, pos, Attention(), batch_size=64).scores
    seqs = [s.seq for s in pos]
    for background in ([s.seq for s in read_fasta(sample / "demo_negatives.fa")], shuffled_background(seqs)):
        res = discover_motifs(seqs, scores, background, MotifParams(), pos_ids=[s.id for s in pos])
        summary = motif_summary(res, match_jaspar(res, "JASPAR2026"))
        for planted in ("MA0108.3", "MA0139.2"):
            hits = summary[(summary["best_jaspar_id"] == planted) & (summary["best_jaspar_q"] < 0.01)]
            assert len(hits) >= 1, (planted, summary.to_string())
            assert hits["instances"].max() >= 50


def test_motif_tables_written_without_pandas_equal_pandas_output(tmp_path):
    """write_report writes its CSVs with the csv module (the motifs command never imports pandas): byte for byte what
    pandas' to_csv writes for the same tables, JASPAR columns empty or filled, floats, booleans and quoting."""
    import pandas as pd

    from core.io.tables import write_csv
    from core.reports.motifs import SUMMARY_COLUMNS, motif_summary, summary_rows, write_report

    rng = np.random.default_rng(3)
    pos = [rand_seq(rng, 60) for _ in range(60)]
    for i in range(0, 60, 2):
        pos[i] = pos[i][:20] + "TATAAAAGGC" + pos[i][30:]
    scores = [np.where(np.arange(60) // 10 == 2, 1.0, 0.1) + 0.01 * rng.random(60) for _ in pos]
    neg = [rand_seq(rng, 60) for _ in range(60)]
    res = discover_motifs(pos, scores, neg, MotifParams(), pos_ids=[f'id,"{i}"' for i in range(60)])
    assert res.motifs
    write_report(res, tmp_path / "o", None, logos=False)
    assert (tmp_path / "o" / "motifs.csv").read_text() == motif_summary(res, None).to_csv(index=False)
    assert (tmp_path / "o" / "instances.csv").read_text() == res.instances().to_csv(index=False)
    assert (tmp_path / "o" / "candidates.csv").read_text() == res.candidates.to_csv(index=False)
    tomtom = pd.DataFrame(
        {
            "Query_ID": [res.motifs[0].name],
            "Target_ID": ["MA0108.3"],
            "Target_name": ["TBP"],
            "p-value": [1.5e-9],
            "q-value": [3e-7],
        }
    )
    rows = summary_rows(res, tomtom)
    write_csv(tmp_path / "m.csv", {c: [r[c] for r in rows] for c in SUMMARY_COLUMNS})
    assert (tmp_path / "m.csv").read_text() == motif_summary(res, tomtom).to_csv(index=False)
    assert rows[0]["jaspar_match"] == "TBP (MA0108.3)" or rows[0]["low_support"]
