import json

import numpy as np
import pandas as pd
import pytest

from core.io.sequences import read_fasta
from core.lenses.attention import Attention, nucleotide_scores
from core.model import inference


def test_attention_peak_inside_planted_motif(demo_model, sample):
    """Held-out positives classified positive: the DNABERT-viz-recipe peak lies inside the planted motif >= 90 %."""
    seqs = read_fasta(sample / "demo_positives.fa")
    truth = pd.read_csv(sample / "truth.tsv", sep="\t").set_index("id")
    hits, n = 0, 0
    for rec in inference.run(demo_model, seqs, batch_size=64):
        if rec.probs[1] < 0.5:
            continue
        t = truth.loc[rec.id]
        peak = int(np.argmax(nucleotide_scores(rec, Attention(), k=6)))
        hits += int(t.start) <= peak < int(t.end)
        n += 1
    assert n >= 200  # most held-out positives are called positive
    assert hits / n >= 0.90, (hits, n)


@pytest.mark.slow  # forward passes over the whole sample set (~3 s)
def test_sample_predictions_match_reported_accuracy(demo_model, sample):
    seqs = read_fasta(sample / "demo_positives.fa") + read_fasta(sample / "demo_negatives.fa")
    probs = np.stack([p for _, p in inference.predict(demo_model, seqs, batch_size=64)])
    y = np.array([s.label for s in seqs])
    acc = ((probs[:, 1] >= 0.5) == (y == 1)).mean()
    reported = demo_model.metrics["accuracy"]
    assert abs(acc - reported) < 0.04, (acc, reported)


def test_shipped_model_is_small_and_in_dnabert_layout(demo_model):
    from pathlib import Path

    d = Path(demo_model.path)
    files = {p.name for p in d.iterdir()}
    assert {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"} <= files
    assert sum(p.stat().st_size for p in d.iterdir()) < 10 * 2**20
    assert json.loads((d / "tokenizer_config.json").read_text())["do_lower_case"] is False
    assert (d / "vocab.txt").read_text().splitlines()[:6] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "AAAAAA"]


@pytest.mark.slow
def test_train_demo_quick_run_reloads_and_learns(tmp_path):
    """A short run of the demo recipe (3 x 3000 sequences) saves a DNABERT-layout checkpoint that every loader
    reads and that has learned the motifs."""
    from core.model.loading import load_model
    from core.train.demo import train_demo

    metrics = train_demo(tmp_path / "m", epochs=3, per_epoch=3000, n_test=1000, log=None)
    assert metrics["accuracy"] > 0.75, metrics  # chance is 0.5; the full recipe reaches 0.85
    lm = load_model(str(tmp_path / "m"))
    assert lm.has_classifier and lm.k == 6
    assert json.loads((tmp_path / "m" / "training_metrics.json").read_text())["accuracy"] == metrics["accuracy"]
