"""Masked-LM pre-training: DNABERT's span-masking rule (exact offsets, rate, 80/10/10), training from scratch, from a
classifier and from a masked LM, the output layout, the CLI, and fine-tuning from a pre-trained MLM."""

from __future__ import annotations

import json

import numpy as np
import pytest
from checkpoints import make_dnabert_checkpoint

from core.errors import InputError
from core.io.sequences import Sequence
from core.model.loading import load_model
from core.model.tokenization import KmerTokenizer
from core.train.pretrain import (
    PretrainConfig,
    centre_probability,
    draw_mlm_sequences,
    mask_tokens,
    pretrain,
    span_offsets,
    span_width,
)

TINY = {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32}


def test_span_offsets_are_dnaberts_mask_list():
    # DNABERT's MASK_LIST: k=3 [-1, 1], k=4 [-1, 1, 2], k=5 [-2, -1, 1, 2], k=6 [-2, -1, 1, 2, 3] (plus the centre)
    assert {k: list(span_offsets(k)) for k in (3, 4, 5, 6)} == {
        3: [-1, 0, 1],
        4: [-1, 0, 1, 2],
        5: [-2, -1, 0, 1, 2],
        6: [-2, -1, 0, 1, 2, 3],
    }
    assert span_width(KmerTokenizer.dnabert(6)) == 6 and span_width(KmerTokenizer({**_vocab(6)}, 6, 3)) == 2
    q = centre_probability(0.15, 6)
    assert 1 - (1 - q) ** 6 == pytest.approx(0.15)


def _vocab(k):
    from core.model.tokenization import dnabert_vocab

    return {t: i for i, t in enumerate(dnabert_vocab(k))}


@pytest.mark.parametrize("k", [3, 6])
def test_mask_tokens_selects_contiguous_k_spans_at_15_percent(k):
    rng = np.random.default_rng(0)
    B, T = 400, 202
    ids = rng.integers(5, 4**k + 5, size=(B, T))
    ids[:, 0], ids[:, -1] = 2, 3  # [CLS] ... [SEP]
    maskable = np.ones((B, T), bool)
    maskable[:, [0, -1]] = False
    maskable[:5, 50:] = False  # padding-like tail: never selected
    random_ids = np.arange(5, 4**k + 5)
    inputs, labels = mask_tokens(ids, maskable, rng, w=k, mask_id=4, random_ids=random_ids)
    sel = labels != -100
    assert not sel[~maskable].any() and sel.any(axis=1).all()
    assert (labels[sel] == ids[sel]).all()
    inner = sel[5:, k + 1 : T - k - 1]
    assert inner.mean() == pytest.approx(0.15, abs=0.01)
    runs = []  # lengths of the selected runs away from the ends: unions of k-token spans, so never shorter than k
    for row in sel[5:, 1:-1]:
        edges = np.flatnonzero(np.diff(np.r_[0, row.astype(int), 0]))
        runs += [(b - a) for a, b in zip(edges[::2], edges[1::2]) if a > 0 and b < len(row)]
    assert min(runs) >= k
    masked, swapped, kept = inputs[sel] == 4, (inputs[sel] != 4) & (inputs[sel] != ids[sel]), inputs[sel] == ids[sel]
    assert masked.mean() == pytest.approx(0.8, abs=0.02)
    assert (swapped.mean() + kept.mean()) == pytest.approx(0.2, abs=0.02) and kept.mean() > 0.08
    assert (inputs[~sel] == ids[~sel]).all()


def test_the_demo_world_for_pretraining_plants_motifs_as_documented():
    seqs, truth = draw_mlm_sequences(40, seed=3, lengths=(100, 200))
    assert {len(s.seq) for s in seqs} <= {100, 200}
    for s, placed in zip(seqs, truth):
        assert len(placed) == round(2.0 * len(s.seq) / 100)  # always a free spot at this density
        assert all(a >= b for (_, a, _), (_, _, b) in zip(placed[1:], placed[:-1]))  # no overlaps
        assert {m for m, _, _ in placed} <= {"TBP", "CTCF"}
    tata = sum(s.seq[a : a + 4] == "TATA" for s, p in zip(seqs, truth) for m, a, _ in p if m == "TBP")
    n_tbp = sum(m == "TBP" for p in truth for m, _, _ in p)
    assert tata / n_tbp > 0.5  # instances are drawn from the sharpened TBP matrix (TATA box)


def _seqs(n, L, seed=0):
    rng = np.random.default_rng(seed)
    return [Sequence(f"s{i}", "".join(rng.choice(list("ACGT"), L))) for i in range(n)]


def test_pretrain_from_scratch_saves_a_masked_lm_in_dnaberts_layout(tmp_path):
    out = tmp_path / "mlm"
    metrics = pretrain(
        _seqs(48, 60),
        out,
        config=PretrainConfig(epochs=2, batch_size=16, lr=1e-3, threads=1, dev_fraction=0.2),
        scratch_config=TINY,
        kmer=3,
    )
    files = {p.name for p in out.iterdir()}
    assert {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "training_metrics.json"} <= files
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["architectures"] == ["BertForMaskedLM"] and cfg["vocab_size"] == 69 and cfg["hidden_size"] == 16
    saved = json.loads((out / "training_metrics.json").read_text())
    assert saved["k"] == 3 and len(saved["history"]) == 2 and saved["masked_tokens"] > 0
    assert 0 <= saved["masked_accuracy"] <= 1 and saved["loss"] > 0 and saved == metrics
    lm = load_model(str(out), device="cpu")
    assert lm.is_masked_lm and not lm.has_classifier and lm.k == 3


def test_pretrain_continues_a_masked_lm_and_gives_a_classifier_a_head(tmp_path):
    import torch

    from core.lenses.mlm import base_probabilities

    base = make_dnabert_checkpoint(tmp_path / "base", k=3, classifier=False, hidden=16, heads=2, layers=1)
    before = load_model(str(base), device="cpu")
    pretrain(_seqs(32, 40), tmp_path / "cont", base=str(base), config=PretrainConfig(epochs=1, batch_size=16, lr=1e-2))
    after = load_model(str(tmp_path / "cont"), device="cpu")
    w0 = before.model.bert.encoder.layer[0].output.dense.weight
    w1 = after.model.bert.encoder.layer[0].output.dense.weight
    assert after.is_masked_lm and not torch.allclose(w0, w1)  # trained further, same architecture
    assert not np.allclose(base_probabilities(before, "ACGTACGTAC"), base_probabilities(after, "ACGTACGTAC"))
    clf = make_dnabert_checkpoint(tmp_path / "clf", k=3, classifier=True, hidden=16, heads=2, layers=1)
    pretrain(_seqs(16, 40), tmp_path / "fromclf", base=str(clf), config=PretrainConfig(epochs=1, batch_size=16))
    assert load_model(str(tmp_path / "fromclf"), device="cpu").is_masked_lm


def test_pretrain_refuses_bad_input(tmp_path):
    with pytest.raises(InputError, match="no training sequences"):
        pretrain([], tmp_path / "x")
    with pytest.raises(InputError, match="at least 3 bases"):
        pretrain([Sequence("a", "AC")], tmp_path / "x", kmer=3, scratch_config=TINY)
    assert not (tmp_path / "x").exists()


def test_pretrain_checks_the_base_folder_before_reading_it(tmp_path, capsys):
    """A base whose config.json is a pipe (opening it would wait forever) or not JSON gets a message, not a hang."""
    import os

    from core.cli.main import main

    fa = tmp_path / "t.fa"
    fa.write_text(">a\nACGTACGTACGTACGTACGT\n")
    for bad in ("fifo", "text"):
        base = tmp_path / bad
        base.mkdir()
        (base / "vocab.txt").write_text("[PAD]\n")
        if bad == "fifo":
            os.mkfifo(base / "config.json")
        else:
            (base / "config.json").write_text("{ not json")
        assert main(["pretrain", "--train", str(fa), "--base", str(base), "--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert "config.json" in err and "internal error" not in err


def test_pretrain_cli_and_finetuning_from_the_pretrained_mlm(tmp_path):
    from core.cli.main import main
    from core.train.finetune import FinetuneConfig, finetune

    fa = tmp_path / "u.fa"
    fa.write_text("".join(f">{s.id}\n{s.seq}\n" for s in _seqs(40, 50)))
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(TINY))
    out = tmp_path / "cli_mlm"
    args = ["pretrain", "--train", str(fa), "--config", str(cfg), "--epochs", "1", "--batch-size", "16"]
    assert main(args + ["--threads", "1", "--out", str(out)]) == 0
    assert load_model(str(out), device="cpu").is_masked_lm
    assert main(["pretrain", "--train", str(fa), "--base", str(out), "--config", str(cfg), "--out", "x"]) == 2
    labelled = [Sequence(s.id, s.seq, label=i % 2) for i, s in enumerate(_seqs(40, 50, seed=1))]
    m = finetune(labelled, tmp_path / "ft", base=str(out), config=FinetuneConfig(epochs=1, batch_size=16))
    ft = load_model(str(tmp_path / "ft"), device="cpu")
    assert ft.has_classifier and m["base"] == "cli_mlm"


@pytest.mark.slow
def test_the_demo_recipe_is_the_documented_pretrain_command(tmp_path):
    """``pretrain_demo`` (scaled down) and ``dnalens pretrain`` on the sequences it writes, with the flags its
    docstring and the README give, produce the same weights."""
    from safetensors.numpy import load_file

    from core.cli.main import main
    from core.train.pretrain import pretrain_demo

    data = tmp_path / "data"
    m = pretrain_demo(tmp_path / "a", write_data=data, recipe={"train_sequences": 192, "dev_sequences": 32}, log=None)
    assert m["recipe"]["config"] == {"num_hidden_layers": 1} and "lens_check" in m
    args = ["pretrain", "--train", str(data / "mlm_train.fa.gz"), "--dev", str(data / "mlm_dev.fa.gz")]
    args += ["--config", str(data / "one_layer.json"), "--epochs", "1", "--batch-size", "64", "--lr", "4e-3"]
    assert main(args + ["--seed", "0", "--threads", "1", "--out", str(tmp_path / "b")]) == 0
    a, b = load_file(tmp_path / "a" / "model.safetensors"), load_file(tmp_path / "b" / "model.safetensors")
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
