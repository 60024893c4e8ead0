"""Tokenizer families on checkpoints built locally in each family's real layout: spans cover every base exactly as
the family defines, and attention runs through the same map."""

import numpy as np
import pytest
from checkpoints import make_bpe_checkpoint, make_dnabert_checkpoint, make_nt_checkpoint

from core.errors import ModelError
from core.io.sequences import Sequence
from core.lenses.attention import Attention, nucleotide_scores
from core.model import inference
from core.model.loading import load_model


def coverage(spans, L):
    cov = np.zeros(L, int)
    for s, e in spans:
        if s >= 0:
            cov[s:e] += 1
    return cov


def rand(n, seed=0, alphabet="ACGT"):
    return "".join(np.random.default_rng(seed).choice(list(alphabet), n))


def test_nucleotide_transformer_layout(tmp_path):
    lm = load_model(str(make_nt_checkpoint(tmp_path / "nt")))
    assert lm.family == "nonoverlap" and lm.k == 6 and not lm.has_classifier
    assert type(lm.model).__name__ == "EsmForMaskedLM" and lm.is_masked_lm and lm.attention_path == "eager"
    seq = rand(40, 1)[:20] + "N" + rand(43, 2)  # 64 bases, one N, a 4-base remainder
    enc = lm.tokenizer.encode(seq)
    assert (coverage(enc.spans, len(seq)) == 1).all()  # every base exactly once
    assert lm.tokenizer.tokens(enc.ids)[0] == "<cls>" and (enc.spans[1:, 1] - enc.spans[1:, 0] <= 6).all()
    # the same ids the checkpoint's own EsmTokenizer gives for the same tokens
    toks = lm.tokenizer.tokens(enc.ids)
    assert lm.hf_tokenizer.convert_tokens_to_ids(toks) == enc.ids.tolist()
    rec = next(inference.run(lm, [Sequence("x", seq)]))
    tr = nucleotide_scores(rec, Attention(), k=lm.k, n_layers=lm.n_layers)
    assert tr.shape == (64,) and np.isfinite(tr).all()
    # NT: a token's score is copied to each of its bases (no overlap averaging)
    w = rec.forward.windows[0]
    t = w.cls[-1].sum(0)
    s0, e0 = w.spans[1]
    assert np.allclose(
        tr[s0:e0]
        * np.linalg.norm(np.concatenate([np.full(e - s, t[i]) for i, (s, e) in enumerate(w.spans) if s >= 0])),
        t[1],
    )


def test_bpe_layout(tmp_path):
    lm = load_model(str(make_bpe_checkpoint(tmp_path / "bpe")))
    assert lm.family == "bpe" and lm.k is None and lm.has_classifier
    seq = rand(150, 3)
    enc = lm.tokenizer.encode(seq)
    assert (coverage(enc.spans, len(seq)) == 1).all()
    assert "".join(seq[s:e] for s, e in enc.spans if s >= 0) == seq
    assert enc.ids.tolist() == lm.hf_tokenizer(seq)["input_ids"]
    rec = next(inference.run(lm, [Sequence("x", seq)]))
    tr = nucleotide_scores(rec, Attention(), n_layers=lm.n_layers)
    assert tr.shape == (150,) and np.isfinite(tr).all() and rec.probs.shape == (2,)


def test_strided_kmers(tmp_path):
    path = make_dnabert_checkpoint(tmp_path / "g6", k=6, layers=1, hidden=16, heads=2)
    lm = load_model(str(path), stride=3)
    seq = rand(60, 4)  # (60 - 6) % 3 == 0: every base covered
    enc = lm.tokenizer.encode(seq)
    real = enc.spans[enc.spans[:, 0] >= 0]
    assert real[:, 0].tolist() == list(range(0, 55, 3)) and (real[:, 1] - real[:, 0] == 6).all()
    cov = coverage(enc.spans, 60)
    assert cov.min() >= 1 and cov.max() == 2
    rec = next(inference.run(lm, [Sequence("x", seq)]))
    assert np.isfinite(nucleotide_scores(rec, Attention(), k=6)).all()


def test_family_override_and_mismatch(tmp_path):
    path = make_dnabert_checkpoint(tmp_path / "d6", k=6, layers=1, hidden=16, heads=2)
    with pytest.raises(ModelError, match="unknown tokenizer family"):
        load_model(str(path), family="words")
    with pytest.raises(ModelError, match="does not split raw DNA into tokens"):
        load_model(str(path), family="bpe")


@pytest.fixture(scope="module")
def dnabert2_path(tmp_path_factory):
    from checkpoints import make_alibi_checkpoint

    return make_alibi_checkpoint(tmp_path_factory.mktemp("dnabert2") / "m", alibi_size=24)


def test_dnabert2_layout_without_remote_code_is_refused(dnabert2_path):
    """transformers would build a plain BERT for it and fill the missing weights randomly: refuse, and say why."""
    with pytest.raises(ModelError, match=r"missing from the checkpoint.*Wqkv.*--trust-remote-code"):
        load_model(str(dnabert2_path))


def _model_probs(lm, seq):
    """The attention probabilities the model itself used ([layers, heads, T, T]), one sequence, no padding."""
    import torch

    enc = lm.tokenizer.encode(seq)
    with torch.no_grad():
        lm.model(input_ids=torch.from_numpy(enc.ids[None]), attention_mask=torch.ones(1, len(enc), dtype=torch.long))
    return np.stack([layer.attention.self.last_probs[0].numpy() for layer in lm.model.bert.encoder.layer])


def test_dnabert2_attention_recomputed_from_wqkv_and_alibi(dnabert2_path):
    import torch

    from core.model.attention_paths import describe_path
    from core.model.attention_paths import rollout_cls as _rollout_cls
    from core.model.inference import token_matrices

    lm = load_model(str(dnabert2_path), trust_remote_code=True)
    assert lm.family == "bpe" and lm.has_classifier and "ALiBi" in describe_path(lm.attention_path)
    assert not lm.model.bert.encoder.alibi.is_meta  # rebuilt after loading (transformers leaves it on meta)
    seqs = [Sequence(f"s{i}", rand(n, 10 + i)) for i, n in enumerate([150, 40, 260])]  # 260 bp: > 24 tokens
    recs = list(inference.run(lm, seqs, batch_size=3, rollout=True))  # one padded batch
    for rec, s in zip(recs, seqs):
        ref = _model_probs(lm, s.seq)
        w = rec.forward.windows[0]
        assert w.cls.shape == ref[:, :, 0, :].shape
        assert np.abs(w.cls - ref[:, :, 0, :]).max() < 1e-5
        roll = _rollout_cls([torch.from_numpy(a[None]) for a in ref], torch.ones(1, ref.shape[-1]))[0].numpy()
        assert np.abs(w.rollout - roll).max() < 1e-5
        assert np.isfinite(nucleotide_scores(rec, Attention(), n_layers=lm.n_layers)).all()
    # the check can fail: both the query-key scores and the ALiBi bias shape these rows
    row = recs[2].forward.windows[0].cls[-1, 0]
    assert row.max() > 3 * np.median(row) and row.argmax() != 0
    att, toks, spans = token_matrices(lm, seqs[0].seq)
    assert toks[0] == "[CLS]" and np.abs(att - _model_probs(lm, seqs[0].seq)).max() < 1e-5


def test_remote_model_without_readable_attention_says_so(dnabert2_path, monkeypatch):
    import dataclasses

    from core.errors import InputError

    lm = load_model(str(dnabert2_path), trust_remote_code=True)
    lm = dataclasses.replace(lm, attention_path="eager")  # as if its layout were one dnalens cannot read
    with pytest.raises(InputError, match="attention"):
        next(inference.run(lm, [Sequence("x", rand(50))]))
    p = next(inference.predict(lm, [Sequence("x", rand(50))]))[1]  # predictions still work
    assert p.shape == (2,)
