"""Attribution lenses (grad-input, ig, expected-gradients): the token -> base map on every tokenizer family, checked
against captum's own layer methods run on the token ids; IG's completeness within the reported delta; windows,
orientations, targets, and one shared model used from two threads."""

import threading

import numpy as np
import pytest
from checkpoints import make_alibi_checkpoint, make_bpe_checkpoint, make_dnabert_checkpoint, make_nt_checkpoint

from core.errors import InputError
from core.io.sequences import Sequence, reverse_complement
from core.lenses import ExpectedGradients, GradInput, IntegratedGradients, make_lens, tracks
from core.lenses.attribution import shuffled_references, tokens_to_nucleotides
from core.model.loading import load_model


def rand(n, seed=0):
    return "".join(np.random.default_rng(seed).choice(list("ACGT"), n))


# --------------------------------------------------------------------------------------------------------------
# the map itself, by hand


def test_tokens_to_nucleotides_overlapping_kmers_by_hand():
    k, L = 3, 7
    spans = np.array([[-1, -1]] + [[j, j + k] for j in range(L - k + 1)] + [[-1, -1]])
    tok = np.array([100.0, 3, 6, 9, 12, 15, -100])  # specials carry big values: they must be dropped
    out = tokens_to_nucleotides(tok, spans, L)
    # base i gets a third of every 3-mer j with j <= i < j + 3
    assert np.allclose(out, [1, 1 + 2, 1 + 2 + 3, 2 + 3 + 4, 3 + 4 + 5, 4 + 5, 5])
    assert np.isclose(out.sum(), tok[1:-1].sum())  # the total is conserved


def test_tokens_to_nucleotides_nonoverlapping_strided_and_bpe_by_hand():
    # NT: two 6-mers, then single bases (an N chunk / the remainder): 1/6 each, then the whole score
    spans = np.array([[-1, -1], [0, 6], [6, 12], [12, 13], [13, 14]])
    out = tokens_to_nucleotides(np.array([9.0, 6, 12, 5, -2]), spans, 14)
    assert np.allclose(out, [1] * 6 + [2] * 6 + [5, -2])
    # stride 3, k 6: bases 3..5 are covered by two tokens
    spans = np.array([[-1, -1], [0, 6], [3, 9], [-1, -1]])
    assert np.allclose(tokens_to_nucleotides(np.array([0.0, 6, 12, 0]), spans, 9), [1, 1, 1, 3, 3, 3, 2, 2, 2])
    # BPE: uneven tokens
    spans = np.array([[-1, -1], [0, 1], [1, 5], [5, 7], [-1, -1]])
    out = tokens_to_nucleotides(np.array([0.0, 2, 8, -4, 0]), spans, 7)
    assert np.allclose(out, [2, 2, 2, 2, 2, -2, -2]) and np.isclose(out.sum(), 6)


def test_shuffled_references_keep_dinucleotides_and_n_positions():
    s = rand(40, 1)[:15] + "NN" + rand(40, 2)[:23]
    refs = shuffled_references(s, 5, seed=3)
    assert len(refs) == 5 and refs == shuffled_references(s, 5, seed=3)  # seeded by seed and bases
    assert refs != shuffled_references(s, 5, seed=4)
    for r in refs:
        assert len(r) == len(s) and r[15:17] == "NN" and r != s
        for part_r, part_s in ((r[:15], s[:15]), (r[17:], s[17:])):
            assert sorted(zip(part_r, part_r[1:])) == sorted(zip(part_s, part_s[1:]))


# --------------------------------------------------------------------------------------------------------------
# every tokenizer family, against captum's layer methods on the token ids


def _nt_classifier(path):
    """The NT layout (EsmTokenizer vocab, non-overlapping 6-mers) with a sequence-classification head."""
    import torch
    from transformers import EsmConfig, EsmForSequenceClassification

    make_nt_checkpoint(path)
    cfg = EsmConfig.from_pretrained(path)
    cfg.architectures, cfg.num_labels = ["EsmForSequenceClassification"], 2
    torch.manual_seed(1)
    EsmForSequenceClassification(cfg).save_pretrained(path, safe_serialization=True)
    return path


BUILDERS = {
    "kmer": lambda root: load_model(str(make_dnabert_checkpoint(root / "k4", k=4, layers=1, hidden=16, heads=2))),
    "strided": lambda root: load_model(
        str(make_dnabert_checkpoint(root / "g6", k=6, layers=1, hidden=16, heads=2)), stride=3
    ),
    "nonoverlap": lambda root: load_model(str(_nt_classifier(root / "nt"))),
    "bpe": lambda root: load_model(str(make_bpe_checkpoint(root / "bpe", layers=1, hidden=16, heads=2))),
    "alibi": lambda root: load_model(
        str(make_alibi_checkpoint(root / "d2", layers=1, hidden=16, heads=2)), trust_remote_code=True
    ),
}


@pytest.fixture(scope="module")
def family_models(tmp_path_factory):
    """Checkpoints of each family, built on first use (``family_models[name]``)."""
    root, built = tmp_path_factory.mktemp("families"), {}

    class Lazy(dict):
        def __missing__(self, name):
            built[name] = BUILDERS[name](root)
            return built[name]

    return Lazy()


def _log_odds_of_ids(lm):
    def f(ids, mask):
        z = lm.model(input_ids=ids, attention_mask=mask).logits.float()
        return z[:, 1] - z[:, 0]

    return f


def _reference_tokens(lm, seq, method, baseline_id=None):
    """Token attributions from captum's Layer* methods on the word-embedding layer, fed token ids (hooks: fine in a
    test, on a model nobody else uses here)."""
    import torch
    from captum.attr import LayerGradientXActivation, LayerIntegratedGradients

    from core.lenses.attribution import word_embeddings

    enc = lm.tokenizer.encode(seq)
    ids, mask = torch.from_numpy(enc.ids[None]), torch.ones(1, len(enc), dtype=torch.long)
    f, emb = _log_odds_of_ids(lm), word_embeddings(lm.model)
    if method == "grad-input":
        attr = LayerGradientXActivation(f, emb).attribute(ids, additional_forward_args=(mask,))
    else:
        base = torch.where(torch.from_numpy(enc.spans[:, 0] >= 0)[None], baseline_id, ids)
        attr = LayerIntegratedGradients(f, emb).attribute(
            ids, baselines=base, additional_forward_args=(mask,), n_steps=8
        )
    return attr.sum(-1)[0].detach().numpy(), enc


@pytest.mark.parametrize(
    "family", ["kmer"] + [pytest.param(f, marks=pytest.mark.slow) for f in ("strided", "nonoverlap", "bpe", "alibi")]
)
def test_attributions_reach_bases_through_each_family_span_map(family_models, family):
    lm = family_models[family]
    seq = rand(57, 5) + ("N" if family == "nonoverlap" else "A") + rand(30, 6)  # 88 bp; NT: an N chunk
    seqs = [Sequence("x", seq), Sequence("y", rand(61, 7))]  # two lengths: one padded batch
    for lens in (GradInput(), IntegratedGradients(n_steps=8)):
        got = tracks(lm, seqs, lens, batch_size=2)[0]
        tok, enc = _reference_tokens(lm, seq, lens.name, baseline_id=lm.tokenizer.pad_id)
        want = tokens_to_nucleotides(tok, enc.spans, len(seq))
        assert got.scores.shape == (len(seq),)
        assert np.allclose(got.scores, want, atol=1e-5 * max(1.0, np.abs(want).max())), (family, lens.name)
        assert np.isclose(got.scores.sum(), tok[enc.spans[:, 0] >= 0].sum(), atol=1e-5)
    # the shared model is left as it was loaded: no hook added or left behind
    assert all(len(m._forward_hooks) == n for m, n in zip(lm.model.modules(), _hook_counts(lm)))


def _hook_counts(lm):
    return [len(m._forward_hooks) for m in lm.model.modules()]


@pytest.mark.slow
def test_expected_gradients_is_refused_for_bpe(family_models):
    with pytest.raises(InputError, match="BPE"):
        tracks(family_models["bpe"], [Sequence("x", rand(40))], ExpectedGradients(shuffles=2, n_steps=2))


def test_deeplift_is_explained_and_options_checked():
    with pytest.raises(InputError, match="expected-gradients"):
        make_lens("deeplift-shap")
    with pytest.raises(InputError, match="baseline"):
        IntegratedGradients(baseline="zeros")
    with pytest.raises(InputError, match="output"):
        GradInput(output="logit")


# --------------------------------------------------------------------------------------------------------------
# completeness, windows, orientation, targets (the demo classifier)


def test_ig_completeness_within_the_reported_delta(demo_model):
    import torch

    seqs = [Sequence(f"s{i}", rand(100, 20 + i)) for i in range(2)]
    for baseline, some in (("pad", seqs), ("mask", seqs[:1])):
        res = tracks(demo_model, some, IntegratedGradients(n_steps=32, baseline=baseline))
        for t in res:
            d = t.detail
            gap = d["f_x"] - d["f_reference"]
            assert abs(t.scores.sum() - gap - d["convergence_delta"]) < 1e-4  # the delta is what is missing
            assert abs(d["convergence_delta"]) < 1e-3 * max(1.0, abs(gap))  # and it is small at 32 steps
            # f(x) is the model's own log-odds of the positive class
            enc = demo_model.tokenizer.encode(t.sequence.seq)
            with torch.no_grad():
                z = demo_model.model(input_ids=torch.from_numpy(enc.ids[None])).logits[0]
            assert np.isclose(d["f_x"], float(z[1] - z[0]), atol=1e-5)
            assert np.allclose(t.probs, torch.softmax(z, -1).numpy(), atol=1e-6)
    # few steps: a larger delta, still exactly what the sum misses
    t = tracks(demo_model, seqs[:1], IntegratedGradients(n_steps=2))[0]
    assert abs(t.scores.sum() - (t.detail["f_x"] - t.detail["f_reference"]) - t.detail["convergence_delta"]) < 1e-4


def test_expected_gradients_sums_to_the_gap_to_the_mean_reference(demo_model):
    t = tracks(demo_model, [Sequence("s", rand(100, 31))], ExpectedGradients(shuffles=3, n_steps=16))[0]
    d = t.detail
    assert abs(t.scores.sum() - (d["f_x"] - d["f_reference"]) - d["convergence_delta"]) < 1e-4
    assert abs(d["convergence_delta"]) < 0.02 * max(1.0, abs(d["f_x"] - d["f_reference"]))


def test_orientations_and_target(demo_model):
    s = Sequence("s", rand(90, 41))
    rc = Sequence("rc", reverse_complement(s.seq))
    fwd_rc = tracks(demo_model, [rc], GradInput())[0].scores
    rev = tracks(demo_model, [s], GradInput(orientation="reverse"))[0].scores
    assert np.allclose(rev, fwd_rc[::-1], atol=1e-6)  # reverse = the reverse complement's track, flipped back
    both = tracks(demo_model, [s], GradInput(orientation="both"))[0].scores
    fwd = tracks(demo_model, [s], GradInput())[0].scores
    assert np.allclose(both, (fwd + rev) / 2, atol=1e-6)
    # log-odds of the negative class is minus that of the positive class (binary model)
    neg = tracks(demo_model, [s], GradInput(target="negative"))[0].scores
    assert np.allclose(neg, -fwd, atol=1e-6) and not np.allclose(fwd, 0)
    with pytest.raises(InputError, match="unknown class"):
        tracks(demo_model, [s], GradInput(target="enhancer"))


def test_long_sequences_are_windowed_and_each_window_is_complete(tiny_model):
    seq = Sequence("long", rand(260, 50))  # tiny_model holds 64 positions: several windows
    t = tracks(tiny_model, [seq], IntegratedGradients(n_steps=16), overlap=20)[0]
    wins = t.detail["windows"]
    assert t.scores.shape == (260,) and len(wins) > 3 and wins[0]["start"] == 0 and wins[-1]["end"] == 260
    for w in wins:
        assert abs(w["attribution_sum"] - (w["f_x"] - w["f_reference"]) - w["convergence_delta"]) < 1e-4


@pytest.mark.slow
def test_hooked_model_from_two_threads(family_models):
    """DNABERT-2's layout has no inputs_embeds: the embedding hook is per call, per thread, under a lock; an
    attention request running at the same time on the same model is untouched."""
    from core.lenses import Attention

    lm = family_models["alibi"]
    seqs = [Sequence(f"s{i}", rand(70, 60 + i)) for i in range(6)]
    lenses = [IntegratedGradients(n_steps=8), Attention(recipe="rollout")]
    alone = [tracks(lm, seqs, lens, batch_size=2).scores for lens in lenses]
    before = _hook_counts(lm)
    got, errors = [None, None], []

    def work(i):
        try:
            for _ in range(2):
                got[i] = tracks(lm, seqs, lenses[i], batch_size=2).scores
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(2):
        assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(got[i], alone[i]))
    assert _hook_counts(lm) == before


def test_cli_tracks_with_an_attribution_lens(tmp_path, demo_model):
    import pandas as pd

    from core.cli.main import main

    fa = tmp_path / "two.fa"
    fa.write_text(">a\n" + rand(100, 70) + "\n>b\n" + rand(80, 71) + "\n")
    out = tmp_path / "ig.csv"
    assert main(["tracks", str(fa), "--lens", "ig", "--ig-steps", "4", "--baseline", "mask", "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert list(df.columns) == ["id", "position", "base", "score"] and len(df) == 180
    lens = IntegratedGradients(n_steps=4, baseline="mask")
    want = tracks(demo_model, [Sequence("a", rand(100, 70))], lens)[0].scores
    assert np.allclose(df[df.id == "a"].score.to_numpy(), want, atol=1e-6)
