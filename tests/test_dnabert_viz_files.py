"""DNABERT-viz's own files in and out (issue 14, items 1-4).

``atten.npy``: the rows ``run_finetune.py --do_visualize`` writes are rebuilt here from an independently loaded
transformers model (eager attention, inputs cut and padded to T as ``encode_plus(max_length=T)`` does (transformers 5 spells it ``tokenizer(...)``)) with the spec's
post-processing loop written out literally (``../shared/reference/dnabert-viz-spec.md`` §1.3-1.4), and compared with
``dnalens attention --recipe dnabert-viz-parity``. The motif side feeds width-T files, as DNABERT-viz writes them, to
``dnalens motifs --parity dnabert-viz`` and compares with the literal transcription of ``find_motifs.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.cli import main

K = 6


def _random_seqs(rng, lengths):
    return ["".join(rng.choice(list("ACGT"), n)) for n in lengths]


def _seq2kmer(seq: str, k: int = K) -> str:
    return " ".join(seq[i : i + k] for i in range(len(seq) - k + 1))


def _write_dev_tsv(path, seqs, labels):
    """DNABERT's dev.tsv: a header line, then space-separated overlapping k-mers, a tab, the label."""
    lines = ["sequence\tlabel"] + [f"{_seq2kmer(s)}\t{y}" for s, y in zip(seqs, labels)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _dnabert_viz_atten(ckpt, seqs, T, k=K):
    """What ``run_finetune.py --do_visualize`` writes for one k: spec §1.3-1.4, step by step."""
    import torch
    from transformers import BertForSequenceClassification, BertTokenizer

    tok = BertTokenizer(str(ckpt / "vocab.txt"), do_lower_case=False)
    model = BertForSequenceClassification.from_pretrained(str(ckpt), attn_implementation="eager").eval()
    enc = [
        tok(_seq2kmer(s, k), add_special_tokens=True, max_length=T, truncation="longest_first", padding="max_length")
        for s in seqs
    ]
    with torch.no_grad():
        out = model(
            input_ids=torch.tensor([e["input_ids"] for e in enc]),
            attention_mask=torch.tensor([e["attention_mask"] for e in enc]),
            token_type_ids=torch.tensor([e["token_type_ids"] for e in enc]),
            output_attentions=True,
        )
    attention = out.attentions[-1].numpy()  # the last layer only, (N, H, T, T)
    rows = np.zeros((len(seqs), T))
    for index in range(len(seqs)):
        attn_score = []
        for i in range(1, T - k + 2):  # the loop bound uses T, not the sequence length
            attn_score.append(float(attention[index, :, 0, i].sum()))  # [CLS] row, heads summed
        for i in range(len(attn_score) - 1):  # the zero-fix
            if attn_score[i + 1] == 0:
                attn_score[i] = 0
                break
        counts = np.zeros(len(attn_score) + k - 1)
        real_scores = np.zeros(len(attn_score) + k - 1)
        for i, score in enumerate(attn_score):
            for j in range(k):
                counts[i + j] += 1.0
                real_scores[i + j] += score
        real_scores = real_scores / counts
        rows[index] = real_scores / np.linalg.norm(real_scores)
    return rows


@pytest.fixture(scope="module")
def dnabert_ckpt(tmp_path_factory):
    from checkpoints import make_dnabert_checkpoint

    return make_dnabert_checkpoint(tmp_path_factory.mktemp("dnabert6"), k=K, layers=2, hidden=32, heads=4, seed=1)


@pytest.mark.parametrize(
    ("T", "lengths"),
    [
        (100, [101, 101, 101, 60, 120]),  # 96 k-mers at T = 100; one shorter than T; one cut as encode_plus cuts it
        (110, [100, 87, 30]),  # examples/scripts/uce.sh: 100 bp at T = 110 (padding, zero-fix, dilution)
    ],
)
def test_atten_npy_equals_dnabert_viz(tmp_path, dnabert_ckpt, T, lengths):
    rng = np.random.default_rng(T)
    seqs = _random_seqs(rng, lengths)
    dev = _write_dev_tsv(tmp_path / "dev.tsv", seqs, [1] * len(seqs))
    out = tmp_path / "atten.npy"
    args = ["attention", str(dev), "--model", str(dnabert_ckpt), "--recipe", "dnabert-viz-parity"]
    assert main([*args, "--max-seq-length", str(T), "--out", str(out)]) == 0
    ours = np.load(out)
    theirs = _dnabert_viz_atten(dnabert_ckpt, seqs, T)
    assert ours.shape == theirs.shape == (len(seqs), T)
    assert ours.dtype == np.float64  # np.zeros([N, 12, T, T]) in run_finetune.py: float64
    assert np.isfinite(ours).all()
    np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=1e-7)
    # a sequence shorter than T: the columns past its end are the zeroed [SEP] and the padding
    for i, n in enumerate(lengths):
        if n + 1 < T:
            assert (ours[i, n + K - 2 :] == 0).all() and ours[i, n - 1] > 0


def test_trailing_zero_column_changes_the_parity_regions(tmp_path, dnabert_ckpt):
    """Why the width must be exact: a zero column sets each row's minimum to 0, so the '10 x min' filter of the
    parity rule passes everything above the mean."""
    from core.motifs.params import MotifParams
    from core.motifs.regions import collect_candidates

    rng = np.random.default_rng(5)
    seqs = _random_seqs(rng, [101] * 12)
    dev = _write_dev_tsv(tmp_path / "dev.tsv", seqs, [1] * 12)
    out = tmp_path / "atten.npy"
    args = ["attention", str(dev), "--model", str(dnabert_ckpt), "--recipe", "dnabert-viz-parity"]
    assert main([*args, "--max-seq-length", "100", "--out", str(out)]) == 0
    rows = np.load(out)
    assert rows.shape == (12, 100)
    params = MotifParams.dnabert_viz(min_len=3)
    _, exact = collect_candidates(seqs, list(rows), params)
    padded = np.concatenate([rows, np.zeros((12, 1))], axis=1)
    _, with_zero = collect_candidates(seqs, list(padded), params)
    assert with_zero != exact


# ------------------------------------------------------------------------------------------ motifs from atten.npy
def _planted_dev(rng, n_pos=80, n_neg=80, L=101, motif="TTGACGTCAA"):
    """dev.tsv rows (positives carry the motif) and DNABERT-viz-like score rows peaking on it."""
    seqs, labels, scores = [], [], []
    for i in range(n_pos + n_neg):
        s = list(rng.choice(list("ACGT"), L))
        sc = rng.random(L) * 0.2 + 0.1
        if i < n_pos:
            at = int(rng.integers(12, L - len(motif) - 14))
            s[at : at + len(motif)] = motif
            sc[at : at + len(motif)] += 3.0
        seqs.append("".join(s))
        labels.append(1 if i < n_pos else 0)
        scores.append(sc / np.linalg.norm(sc))
    order = rng.permutation(len(seqs))  # positives and negatives interleaved, as in a real dev.tsv
    return [seqs[i] for i in order], [labels[i] for i in order], np.array([scores[i] for i in order])


def _reference_motifs(seqs, labels, atten):
    """find_motifs.py: positives = label 1, their atten rows by position, negatives = label 0."""
    from dnabert_viz_reference import motif_analysis

    pos_idx = [i for i, y in enumerate(labels) if y == 1]
    pos = [seqs[i] for i in pos_idx]
    neg = [seqs[i] for i, y in enumerate(labels) if y == 0]
    return motif_analysis(pos, neg, atten[pos_idx], window_size=24, min_len=5, pval_cutoff=0.005, min_n_motif=3)


@pytest.mark.parametrize(  # T = L - 1 (one base uncovered), T = L, zero-padded to T
    "width", [100, pytest.param(101, marks=pytest.mark.slow), pytest.param(128, marks=pytest.mark.slow)]
)
def test_parity_motifs_from_a_width_T_atten_npy(tmp_path, width):
    rng = np.random.default_rng(width)
    seqs, labels, full = _planted_dev(rng)
    atten = np.zeros((len(seqs), width))
    n = min(width, full.shape[1])
    atten[:, :n] = full[:, :n]
    if width < full.shape[1]:  # DNABERT-viz's row covers only the first T bases
        atten /= np.linalg.norm(atten, axis=1, keepdims=True)
    np.save(tmp_path / "atten.npy", atten)
    dev = _write_dev_tsv(tmp_path / "dev.tsv", seqs, labels)
    out = tmp_path / "motifs"
    args = ["motifs", str(dev), "--scores", str(tmp_path / "atten.npy"), "--parity", "dnabert-viz", "--no-jaspar"]
    assert main([*args, "--out", str(out)]) == 0
    ref = _reference_motifs(seqs, labels, atten)
    assert ref, "the planted motif must be found by the reference"
    inst = pd.read_csv(out / "instances.csv")
    got = {m: g for m, g in inst.groupby("motif", sort=False)}
    assert sorted(got) == sorted(ref)
    pos_ids = [f"row{i + 2}" for i, y in enumerate(labels) if y == 1]
    for m, r in ref.items():
        g = got[m]
        assert g["sequence_id"].tolist() == [pos_ids[i] for i in r["seq_idx"]]
        assert list(zip(g["start"], g["end"])) == [tuple(p) for p in r["atten_region_pos"]]
        assert g["window"].tolist() == r["seqs"]
    stages = (out / "stages.json").read_text()
    assert '"negatives": 80' in stages and '"positives": 80' in stages


def test_parity_rows_shorter_than_the_sequence_only_in_parity_mode(tmp_path):
    rng = np.random.default_rng(0)
    seqs, labels, full = _planted_dev(rng, n_pos=20, n_neg=20)
    np.save(tmp_path / "atten.npy", full[:, :100])
    dev = _write_dev_tsv(tmp_path / "dev.tsv", seqs, labels)
    args = ["motifs", str(dev), "--scores", str(tmp_path / "atten.npy"), "--no-jaspar", "--out", str(tmp_path / "o")]
    assert main(args) == 2  # the default mode needs a score for every base


def test_parity_without_scores_needs_T_and_refuses_what_it_ignores(tmp_path, sample, capsys):
    pos = str(sample / "demo_positives.fa")
    out = str(tmp_path / "o")
    assert main(["motifs", pos, "--parity", "dnabert-viz", "--no-jaspar", "--out", out]) == 2
    assert "--max-seq-length T" in capsys.readouterr().err
    for flag in (["--region-rule", "zscore"], ["--z", "3"], ["--quantile", "0.8"], ["--forward-only"]):
        assert main(["motifs", pos, "--parity", "dnabert-viz", *flag, "--max-seq-length", "100", "--out", out]) == 2
        assert f"{flag[0]} do not apply with --parity dnabert-viz" in capsys.readouterr().err


@pytest.mark.slow
def test_parity_with_a_model_computes_the_parity_recipe_at_T(tmp_path, sample):
    """``--parity`` with a model and no ``--scores`` equals writing atten.npy at T and feeding it back."""
    from core.io.sequences import read_fasta

    pos = read_fasta(sample / "demo_positives.fa")[:60]
    neg = read_fasta(sample / "demo_negatives.fa")[:60]
    fa_pos, fa_neg = tmp_path / "pos.fa", tmp_path / "neg.fa"
    fa_pos.write_text("".join(f">{s.id}\n{s.seq}\n" for s in pos))
    fa_neg.write_text("".join(f">{s.id}\n{s.seq}\n" for s in neg))
    common = ["--negatives", str(fa_neg), "--parity", "dnabert-viz", "--no-jaspar", "--min-len", "4"]
    assert main(["motifs", str(fa_pos), *common, "--max-seq-length", "98", "--out", str(tmp_path / "a")]) == 0
    npy = tmp_path / "atten.npy"
    args = ["attention", str(fa_pos), "--recipe", "dnabert-viz-parity", "--max-seq-length", "98", "--out", str(npy)]
    assert main(args) == 0
    assert np.load(npy).shape == (60, 98)
    assert main(["motifs", str(fa_pos), *common, "--scores", str(npy), "--out", str(tmp_path / "b")]) == 0
    a = pd.read_csv(tmp_path / "a" / "instances.csv")
    b = pd.read_csv(tmp_path / "b" / "instances.csv")
    assert len(a) > 0
    pd.testing.assert_frame_equal(a, b)
    # the parity recipe at T = 98 is not the default recipe: the default-recipe scores give other regions
    assert main(["motifs", str(fa_pos), *common, "--recipe", "dnabert-viz", "--out", str(tmp_path / "c")]) == 0
    c = pd.read_csv(tmp_path / "c" / "candidates.csv")
    assert not c.equals(pd.read_csv(tmp_path / "a" / "candidates.csv"))


# ---------------------------------------------------------------------------------------- dev.tsv everywhere
@pytest.mark.slow
def test_every_command_reads_dnabert_tsv(tmp_path, sample, capsys):
    """DNABERT's dev.tsv (a header, k-mer text, labels) works wherever sequences are read, with the same result as
    the FASTA of the same sequences."""
    import json

    from core.io.sequences import read_fasta

    recs = read_fasta(sample / "demo.fa")[:6] + read_fasta(sample / "demo.fa")[-6:]
    seqs, labels = [s.seq for s in recs], [s.label for s in recs]
    dev = _write_dev_tsv(tmp_path / "dev.tsv", seqs, labels)
    fa = tmp_path / "same.fa"
    fa.write_text("".join(f">row{i + 2} label={y}\n{s}\n" for i, (s, y) in enumerate(zip(seqs, labels))))
    for name, src in (("tsv", dev), ("fa", fa)):
        assert main(["predict", str(src), "--out", str(tmp_path / f"p_{name}.csv")]) == 0
        assert main(["attention", str(src), "--out", str(tmp_path / f"a_{name}.parquet")]) == 0
    p_tsv, p_fa = pd.read_csv(tmp_path / "p_tsv.csv"), pd.read_csv(tmp_path / "p_fa.csv")
    assert p_tsv["id"].tolist() == [f"row{i + 2}" for i in range(12)] and p_tsv["label"].tolist() == labels
    np.testing.assert_allclose(p_tsv["p_positive"], p_fa["p_positive"], rtol=1e-6)
    a_tsv, a_fa = pd.read_parquet(tmp_path / "a_tsv.parquet"), pd.read_parquet(tmp_path / "a_fa.parquet")
    assert "".join(a_tsv[a_tsv["id"] == "row2"]["base"]) == seqs[0]
    np.testing.assert_allclose(a_tsv["score"], a_fa["score"], rtol=1e-6)
    assert main(["mutate", str(dev), "--id", "row2", "--end", "12", "--out", str(tmp_path / "ism")]) == 0
    sat = pd.read_csv(tmp_path / "ism" / "saturation.csv")
    assert len(sat) == 36 and set(sat["id"]) == {"row2"}
    variants = tmp_path / "v.tsv"
    variants.write_text(f"seq_id\tpos\tref\talt\nrow3\t5\t{seqs[1][4]}\t{'A' if seqs[1][4] != 'A' else 'C'}\n")
    assert main(["variants", str(dev), str(variants), "--max-figures", "1", "--out", str(tmp_path / "var")]) == 0
    assert pd.read_csv(tmp_path / "var" / "variants.csv")["seq_id"].tolist() == ["row3"]
    # motifs: the label-1 rows are the positives, the label-0 rows the background (find_motifs.py)
    capsys.readouterr()
    assert main(["motifs", str(dev), "--no-jaspar", "--min-n-motif", "1", "--out", str(tmp_path / "mo")]) == 0
    assert "positives: the 6 rows labelled 1; background: the 6 rows labelled 0" in capsys.readouterr().err
    # finetune: --train, --dev and --test tables
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2}))
    args = ["finetune", "--train", str(dev), "--dev", str(dev), "--test", str(dev), "--from-scratch"]
    assert main([*args, "--config", str(cfg), "--epochs", "1", "--out", str(tmp_path / "ft")]) == 0
    m = json.loads((tmp_path / "ft" / "training_metrics.json").read_text())
    assert m["train_sequences"] == 12 and m["dev_sequences"] == 12 and m["test"]["n"] == 12
