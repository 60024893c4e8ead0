"""The masked-LM lens, zero-shot variant scores and dependency maps: which tokens are masked for a base, the
candidates, the combination rule and llr on a model whose output is constructed by hand, the fast path against the
model's own forward pass, the lens interface, the CLI, and (slow) what the shipped demo MLM shows on held-out data."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from checkpoints import make_dnabert_checkpoint, make_nt_checkpoint

from core.errors import InputError
from core.io.sequences import Sequence, reverse_complement
from core.lenses import MLM, make_lens, tracks
from core.lenses.mlm import base_probabilities, candidate_logits, combine, mask_plan, masked_copies
from core.model.loading import load_model
from core.model.tokenization import KmerTokenizer

MASK = 4  # [MASK] in DNABERT's vocabulary


@pytest.fixture(scope="module")
def tiny_mlm(tmp_path_factory):
    path = make_dnabert_checkpoint(tmp_path_factory.mktemp("mlm6"), k=6, classifier=False, hidden=32, heads=4)
    return load_model(str(path), device="cpu")


# --------------------------------------------------------------------------------------------------------------
# which tokens are masked


@pytest.mark.parametrize(
    "k, L, base, tokens, hidden",
    [
        (3, 10, 0, [1], [0]),  # first base: only the first k-mer covers it
        (3, 10, 1, [1, 2], [0, 1]),  # near an end the masked k-mers also hide the bases out to the end
        (3, 10, 5, [4, 5, 6], [5]),  # middle: the k k-mers i-k+1 .. i (token index = k-mer index + 1, [CLS])
        (3, 10, 8, [7, 8], [8, 9]),
        (3, 10, 9, [8], [9]),  # last base: only the last k-mer
        (6, 20, 0, [1], [0]),
        (6, 20, 3, [1, 2, 3, 4], [0, 1, 2, 3]),
        (6, 20, 10, [6, 7, 8, 9, 10, 11], [10]),
        (6, 20, 16, [12, 13, 14, 15], [16, 17, 18, 19]),
        (6, 20, 19, [15], [19]),
    ],
)
def test_kmer_aware_masking_masks_every_token_covering_the_base(k, L, base, tokens, hidden):
    tok = KmerTokenizer.dnabert(k)
    seq = ("ACGTTGCAAC" * 3)[:L]
    plan = mask_plan(tok, seq)
    copy = masked_copies(plan.ids, plan.cover[[base]], MASK)[0]
    assert np.flatnonzero(copy == MASK).tolist() == tokens
    assert copy[0] == tok.cls_id and copy[-1] == tok.sep_id and len(copy) == L - k + 3
    unmasked = np.ones(len(copy), bool)
    unmasked[tokens] = False
    assert (copy[unmasked] == plan.ids[unmasked]).all()
    # which bases no visible k-mer shows: only `base` away from the ends
    visible = np.zeros(L, bool)
    for t in np.flatnonzero(unmasked)[1:-1]:
        visible[t - 1 : t - 1 + k] = True
    assert np.flatnonzero(~visible).tolist() == hidden


def test_candidates_spell_the_kmer_with_each_base_and_skip_kmers_with_n():
    tok = KmerTokenizer.dnabert(3)
    seq = "TTCGTTNAC"
    plan = mask_plan(tok, seq)
    words = {(int(t), int(o)): tok.tokens(c) for t, o, c in zip(plan.cover[3], plan.offset[3], plan.cand[3])}
    assert words == {
        (2, 2): ["TCA", "TCC", "TCG", "TCT"],  # token 2 = "TCG", base 3 at offset 2
        (3, 1): ["CAT", "CCT", "CGT", "CTT"],
        (4, 0): ["ATT", "CTT", "GTT", "TTT"],
    }
    assert plan.usable[3].all()
    # base 5 (T): "TTN" and "TNA" hold an N elsewhere, so those tokens are left out; "GTT" remains
    assert plan.usable[5].tolist() == [True, False, False]
    # base 6 is N: its own candidates are fine, and its llr is undefined (no reference base)
    assert plan.usable[6].any()


# --------------------------------------------------------------------------------------------------------------
# the rule and llr on a model whose output distribution is constructed by hand


def _constructed_mlm(path, logit_of: dict[str, float]):
    """A k = 3 BertForMaskedLM whose logits at every position are a fixed vector: decoder weights (tied to the
    embeddings) zero, decoder bias ``logit_of[kmer]`` (0 for the others). Its masked-token distribution is known."""
    import torch

    make_dnabert_checkpoint(path, k=3, classifier=False, layers=1, hidden=8, heads=2)
    from transformers import BertForMaskedLM

    from core.model.tokenization import dnabert_vocab

    model = BertForMaskedLM.from_pretrained(str(path))
    vocab = {t: i for i, t in enumerate(dnabert_vocab(3))}
    bias = torch.zeros(len(vocab))
    for kmer, v in logit_of.items():
        bias[vocab[kmer]] = v
    with torch.no_grad():
        model.cls.predictions.decoder.weight.zero_()
        model.cls.predictions.decoder.bias.copy_(bias)
        model.cls.predictions.bias.copy_(bias)
    model.save_pretrained(path, safe_serialization=True)
    return load_model(str(path), device="cpu")


def test_rule_and_llr_on_a_hand_built_distribution(tmp_path):
    """Sequence TTCGTTT, base 3 (G). Covering 3-mers: TCG (offset 2), CGT (offset 1), GTT (offset 0). The model
    gives 'CGT' logit ln 3, every other k-mer 0. Per token, the four-way conditionals over the candidates are
    TC?: uniform; C?T: G 3/6 = 1/2, A/C/T 1/6 each; ?TT: uniform. Mean rule: P(G) = (1/4 + 1/2 + 1/4) / 3 = 1/3,
    P(A) = (1/4 + 1/6 + 1/4) / 3 = 2/9, so llr(G>A) = ln(2/9) - ln(1/3) = ln(2/3). Product rule:
    P(b) ∝ 1/4 * c(b) * 1/4, so P(G) = 1/2, P(A) = 1/6, llr = ln(1/3)."""
    from core.variants.variants import Variant
    from core.variants.zero_shot import zero_shot_scores

    lm = _constructed_mlm(tmp_path / "hand", {"CGT": math.log(3)})
    seq = "TTCGTTT"
    p_mean = base_probabilities(lm, seq, [3])[3]
    assert np.allclose(p_mean, [2 / 9, 2 / 9, 1 / 3, 2 / 9], atol=1e-6)
    p_prod = base_probabilities(lm, seq, [3], combine="product")[3]
    assert np.allclose(p_prod, [1 / 6, 1 / 6, 1 / 2, 1 / 6], atol=1e-6)
    variants = [
        Variant("s", 3, "G", "A", 2),
        Variant("s", 3, "GT", "AA", 3),  # multi-base: sum of per-base llr
        Variant("s", 2, "C", "", 4),  # deletion: no llr
    ]
    df = zero_shot_scores(lm, [Sequence("s", seq)], variants)
    assert df.loc[0, "llr"] == pytest.approx(math.log(2 / 3), abs=1e-6)
    assert df.loc[0, "mlm_p_ref"] == pytest.approx(1 / 3, abs=1e-6)
    assert df.loc[0, "mlm_p_alt"] == pytest.approx(2 / 9, abs=1e-6)
    # base 4 (T): covering CGT (offset 2: CG? -> CGT is the T candidate, 3/6), GTT, TTT: mean P(T) = (1/2+1/4+1/4)/3
    p4 = base_probabilities(lm, seq, [4])[4]
    assert df.loc[1, "llr"] == pytest.approx(math.log(2 / 3) + math.log(p4[0]) - math.log(p4[3]), abs=1e-6)
    assert "sum over 2" in df.loc[1, "llr_note"]
    assert np.isnan(df.loc[2, "llr"]) and df.loc[2, "llr_note"].startswith("indel")
    zs = zero_shot_scores(lm, [Sequence("s", seq)], variants[:1], combine="product")
    assert zs.loc[0, "llr"] == pytest.approx(math.log(1 / 3), abs=1e-6)


def test_combine_leaves_out_unusable_tokens_and_marks_uncovered_bases():
    logits = np.zeros((2, 3, 4))
    logits[0, 0] = [0, 0, math.log(3), 0]  # a usable token favouring G
    logits[0, 1] = [50, 0, 0, 0]  # an unusable token must not count
    usable = np.array([[True, False, False], [False, False, False]])
    p = combine(logits, usable)
    assert np.allclose(p[0], [1 / 6, 1 / 6, 1 / 2, 1 / 6]) and np.isnan(p[1]).all()
    with pytest.raises(InputError, match="combination rule"):
        combine(logits, usable, "median")


# --------------------------------------------------------------------------------------------------------------
# the fast path equals the model's own forward pass


def test_candidate_logits_equal_the_full_forward_pass(tiny_mlm, tmp_path):
    import torch

    rng = np.random.default_rng(0)
    nt = load_model(str(make_nt_checkpoint(tmp_path / "nt")), device="cpu")
    for lm in (tiny_mlm, nt):  # BERT (last layer for the masked rows only) and ESM (encoder + head rows)
        seq = "".join(rng.choice(list("ACGT"), 90))
        plan = mask_plan(lm.tokenizer, seq)
        pos = np.array([0, 1, 17, 45, 88, 89])
        ids = masked_copies(plan.ids, plan.cover[pos], lm.hf_tokenizer.mask_token_id)
        fast = candidate_logits(lm, ids, plan.cover[pos], plan.cand[pos])
        with torch.inference_mode():
            full = lm.model(input_ids=torch.from_numpy(ids)).logits.numpy()
        for r, i in enumerate(pos):
            for s in np.flatnonzero(plan.usable[i]):
                assert np.allclose(fast[r, s], full[r, plan.cover[i, s], plan.cand[i, s]], atol=1e-5)


# --------------------------------------------------------------------------------------------------------------
# the lens


def test_mlm_lens_through_the_interface(tiny_mlm):
    seqs = [Sequence("a", "ACGTTGCAACGTAGGCTATATAAAAGCGTAC"), Sequence("b", "GGGCCCAAATTTNNACGTACGTACGT")]
    res = tracks(tiny_mlm, seqs, make_lens("mlm"))
    assert res.lens == MLM() and res.provenance["score"] == "log P(reference base) (nats)"
    for s, t in zip(seqs, res):
        probs = t.detail["probs"]
        assert probs.shape == (len(s.seq), 4) and t.detail["bases"] == "ACGT"
        ok = ~np.isnan(probs).any(axis=1)
        assert np.allclose(probs[ok].sum(axis=1), 1.0)
        ref = np.array(["ACGT".find(b) for b in s.seq])
        want = np.where(ref >= 0, np.log(probs[np.arange(len(ref)), ref.clip(0)]), np.nan)
        assert np.allclose(t.scores, want, equal_nan=True)
    assert np.isnan(res["b"].scores[12]) and np.isnan(res["b"].scores[13])  # N: no reference base
    ent = tracks(tiny_mlm, seqs[:1], MLM(score="entropy"))[0]
    p = ent.detail["probs"]
    assert np.allclose(ent.scores, -(p * np.log2(p)).sum(axis=1)) and (ent.scores <= 2 + 1e-9).all()


def test_orientations_map_the_reverse_complement_back(tiny_mlm):
    seq = "ACGTTGCAACGTAGGCTATATAAAAGCGTAC"
    fwd_rc = base_probabilities(tiny_mlm, reverse_complement(seq))
    rev = base_probabilities(tiny_mlm, seq, orientation="reverse")
    assert np.allclose(rev, fwd_rc[::-1, ::-1])  # mirrored positions, complemented bases
    both = base_probabilities(tiny_mlm, seq, orientation="both")
    assert np.allclose(both, (base_probabilities(tiny_mlm, seq) + rev) / 2)


def test_long_sequences_are_windowed(tmp_path):
    path = make_dnabert_checkpoint(tmp_path / "short", k=6, classifier=False, hidden=16, heads=2, max_pos=40)
    lm = load_model(str(path), device="cpu")
    seq = "".join(np.random.default_rng(1).choice(list("ACGT"), 120))
    probs = base_probabilities(lm, seq)
    assert probs.shape == (120, 4) and np.allclose(probs.sum(axis=1), 1.0)
    first = base_probabilities(lm, seq[: lm.tokenizer.window_nt()])
    assert np.allclose(probs[:10], first[:10])  # bases only the first window reads come from it alone


def test_models_without_a_masked_lm_head_and_bpe_are_refused(tmp_path, tiny_model):
    from checkpoints import make_bpe_checkpoint

    with pytest.raises(InputError, match="masked-language-model head"):
        tracks(tiny_model, [Sequence("a", "ACGTACGTACGT")], MLM())
    bpe = load_model(str(make_bpe_checkpoint(tmp_path / "bpe")), device="cpu")
    with pytest.raises(InputError, match="BPE tokenizer"):
        base_probabilities(bpe, "ACGTACGTACGT")
    with pytest.raises(InputError, match="masked-LM score"):
        MLM(score="likelihood")


def test_demo_mlm_is_loaded_by_name():
    lm = load_model("demo-mlm", device="cpu")
    assert lm.name == "demo-mlm" and lm.is_masked_lm and not lm.has_classifier and lm.k == 6
    assert lm.card()["architecture"] == "BertForMaskedLM"
    assert lm.metrics["lens_check"]["llr_auroc_motif_breaking_vs_far"] >= 0.8


# --------------------------------------------------------------------------------------------------------------
# dependency maps


@pytest.mark.slow
def test_dependency_map_equals_substituting_and_masking_by_hand(tiny_mlm):
    from core.lenses.dependency import _logit2, dependency_map

    seq = "ACGTTGCAACGTAGGCTANC"
    dm = dependency_map(tiny_mlm, Sequence("s", seq), batch_size=16)
    ref = base_probabilities(tiny_mlm, seq)
    L = len(seq)
    want = np.zeros((L, L))
    for j in range(L):
        for b in "ACGT":
            if b == seq[j]:
                continue
            delta = np.abs(_logit2(base_probabilities(tiny_mlm, seq[:j] + b + seq[j + 1 :])) - _logit2(ref)).max(1)
            delta[j] = 0
            want[:, j] = np.maximum(want[:, j], np.nan_to_num(delta))
    assert np.allclose(dm.ref_probs, ref, equal_nan=True)
    assert np.allclose(dm.matrix, want, atol=1e-6)
    n_mut = 3 * L + 1  # the N at 18 has four alternatives
    assert (np.diag(dm.matrix) == 0).all() and dm.passes == L + (L - 1) * n_mut
    rev = dependency_map(tiny_mlm, Sequence("s", seq), orientation="reverse")
    rc = dependency_map(tiny_mlm, Sequence("r", reverse_complement(seq)))
    assert np.allclose(rev.matrix, rc.matrix[::-1, ::-1])


def test_dependency_map_of_a_non_overlapping_6mer_model(tmp_path):
    """Nucleotide-Transformer tokens: a substitution anywhere in a 6-mer changes the candidates of the whole
    6-mer, which the map must follow (compared with substituting and masking by hand)."""
    from core.lenses.dependency import _logit2, dependency_map

    lm = load_model(str(make_nt_checkpoint(tmp_path / "nt")), device="cpu")
    seq = "ACGTTGCAACGTAGGCTA"
    dm = dependency_map(lm, Sequence("s", seq))
    ref = base_probabilities(lm, seq)
    for j, b in ((2, "A"), (7, "G"), (13, "C")):
        mp = base_probabilities(lm, seq[:j] + b + seq[j + 1 :])
        assert np.allclose(dm.alt_probs[:, j, "ACGT".index(b)][np.arange(len(seq)) != j], np.delete(mp, j, axis=0))
    assert np.allclose(dm.ref_probs, ref)
    assert np.isfinite(_logit2(dm.alt_probs[0, 1, 0])).all()


def test_dependency_refuses_sequences_longer_than_one_window(tmp_path):
    from core.lenses.dependency import dependency_map

    path = make_dnabert_checkpoint(tmp_path / "short", k=6, classifier=False, hidden=16, heads=2, max_pos=20)
    lm = load_model(str(path), device="cpu")
    with pytest.raises(InputError, match="longer than one model window"):
        dependency_map(lm, Sequence("s", "ACGT" * 10))


# --------------------------------------------------------------------------------------------------------------
# command line


@pytest.mark.slow
def test_cli_tracks_dependency_and_zero_shot_variants(tmp_path, tiny_mlm):
    import pandas as pd

    from core.cli.main import main

    fa = tmp_path / "s.fa"
    fa.write_text(">a\nACGTTGCAACGTAGGCTATATAAAAGCGTAC\n>b\nGGGCCCAAATTTACGTACGTACGTAC\n")
    model = tiny_mlm.path
    assert main(["tracks", str(fa), "--lens", "mlm", "--model", model, "--out", str(tmp_path / "t.csv")]) == 0
    t = pd.read_csv(tmp_path / "t.csv")
    assert list(t.columns[:4]) == ["id", "position", "base", "score"] and len(t) == 31 + 26
    assert (t["score"] <= 0).all()
    assert main(["dependency", str(fa), "--id", "b", "--model", model, "--out", str(tmp_path / "dep")]) == 0
    d = np.load(tmp_path / "dep" / "dependency.npy")
    assert d.shape == (26, 26) and (np.diag(d) == 0).all() and d.max() > 0
    for name in ("dependency.png", "dependency.svg", "probabilities.npy", "README.txt"):
        assert (tmp_path / "dep" / name).stat().st_size > 0
    run = json.loads((tmp_path / "dep" / "run.json").read_text())
    assert run["id"] == "b" and run["masked_forward_passes"] == 26 * (3 * 25 + 1)
    vt = tmp_path / "v.tsv"
    vt.write_text("seq_id\tpos\tref\talt\na\t5\tT\tC\nb\t3\tG\t-\n")
    assert main(["variants", str(fa), str(vt), "--zero-shot", "--model", model, "--out", str(tmp_path / "v")]) == 0
    v = pd.read_csv(tmp_path / "v" / "variants.csv")
    assert "llr" in v.columns and "p_ref" not in v.columns and "delta" not in v.columns
    assert np.isfinite(v.loc[0, "llr"]) and np.isnan(v.loc[1, "llr"])
    assert "llr = log P(alt) - log P(ref)" in (tmp_path / "v" / "LEGEND.txt").read_text()


def test_cli_zero_shot_beside_a_classifier_and_the_default_mlm(tmp_path, tiny_model, tiny_mlm):
    import pandas as pd

    from core.cli.main import main

    fa = tmp_path / "s.fa"
    fa.write_text(">a\nACGTTGCAACGTAGGCTATATAAAAGCGTAC\n")
    vt = tmp_path / "v.tsv"
    vt.write_text("seq_id\tpos\tref\talt\na\t5\tT\tC\n")
    args = ["variants", str(fa), str(vt), "--zero-shot", "--model", tiny_model.path, "--max-figures", "0"]
    assert main(args + ["--mlm-model", tiny_mlm.path, "--out", str(tmp_path / "both")]) == 0
    v = pd.read_csv(tmp_path / "both" / "variants.csv")
    assert {"p_ref", "delta", "llr", "mlm_model"} <= set(v.columns) and v.loc[0, "mlm_model"] == tiny_mlm.name
    assert main(["variants", str(fa), str(vt), "--zero-shot", "--out", str(tmp_path / "demo")]) == 0
    assert pd.read_csv(tmp_path / "demo" / "variants.csv").loc[0, "mlm_model"] == "demo-mlm"


@pytest.mark.slow
def test_cli_dependency_as_a_subprocess(tmp_path, tiny_mlm):
    import subprocess
    import sys

    fa = tmp_path / "s.fa"
    fa.write_text(">x\nACGTTGCAACGTAGGC\n")
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "core.cli",
            "dependency",
            str(fa),
            "--model",
            tiny_mlm.path,
            "--out",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert np.load(tmp_path / "o" / "dependency.npy").shape == (16, 16)
    bad = subprocess.run(
        [sys.executable, "-m", "core.cli", "dependency", str(fa), "--id", "nope", "--out", str(tmp_path / "p")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "no sequence with id 'nope'" in bad.stderr and "Traceback" not in bad.stderr


# --------------------------------------------------------------------------------------------------------------
# what the shipped demo MLM shows (held-out synthetic data, a new seed)


@pytest.mark.slow
def test_demo_mlm_knows_the_planted_motifs_on_held_out_data():
    """Held-out positives drawn as the sample data are (DemoGenerator, seed 777, not a training seed): the mean
    log P(reference base) is clearly higher inside the planted motif than outside (one-sided Mann-Whitney U), and
    zero-shot llr separates motif-breaking substitutions (the matrix's strongest column, to its least likely base)
    from substitutions >= 10 bp from the motif with AUROC >= 0.8."""
    from scipy.stats import mannwhitneyu

    from core.train.demo import DemoGenerator, jaspar_ppms
    from core.variants.variants import Variant
    from core.variants.zero_shot import zero_shot_scores

    lm = load_model("demo-mlm", device="cpu")
    gen = DemoGenerator(jaspar_ppms(), seed=777)
    seqs, y, planted = gen.draw(160)
    pos = [(Sequence(f"s{i}", s), p) for i, (s, yy, p) in enumerate(zip(seqs, y, planted)) if yy == 1][:40]
    res = tracks(lm, [s for s, _ in pos], MLM())
    inside, outside, variants, label = [], [], [], []
    rng = np.random.default_rng(0)
    for (s, p), t in zip(pos, res):
        mask = np.zeros(len(s.seq), bool)
        mask[p.start : p.end] = True
        inside.append(t.scores[mask])
        outside.append(t.scores[~mask])
        col = int(np.argmax(gen.ppms[p.motif].max(axis=1)))
        low = "ACGT"[int(np.argmin(gen.ppms[p.motif][col]))]
        if low != s.seq[p.start + col]:
            variants.append(Variant(s.id, p.start + col, s.seq[p.start + col], low))
            label.append(1)
        q = int(rng.choice([i for i in range(len(s.seq)) if i < p.start - 10 or i >= p.end + 10]))
        variants.append(Variant(s.id, q, s.seq[q], [b for b in "ACGT" if b != s.seq[q]][int(rng.integers(3))]))
        label.append(0)
    ins, out = np.concatenate(inside), np.concatenate(outside)
    test = mannwhitneyu(ins, out, alternative="greater")
    assert ins.mean() > out.mean() + 0.3 and test.pvalue < 1e-10, (ins.mean(), out.mean(), test.pvalue)
    llr = zero_shot_scores(lm, [s for s, _ in pos], variants)["llr"].to_numpy()
    from scipy.stats import rankdata

    r, lab = rankdata(-llr), np.array(label)
    auroc = (r[lab == 1].sum() - lab.sum() * (lab.sum() + 1) / 2) / (lab.sum() * (1 - lab).sum())
    assert auroc >= 0.8, auroc
