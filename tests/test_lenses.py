"""The lens interface: one entry for every per-nucleotide method, models that stay unchanged after loading, and
the ISM lens equal to what `dnalens mutate` reports."""

import threading

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.io.sequences import Sequence
from core.lenses import ISM, Attention, Tracks, iter_tracks, lens_names, make_lens, tracks


def _seqs(n, seed=0, lo=40, hi=160):
    rng = np.random.default_rng(seed)
    return [Sequence(f"s{i}", "".join(rng.choice(list("ACGT"), int(rng.integers(lo, hi))))) for i in range(n)]


def test_tracks_is_one_named_result(demo_model):
    seqs = _seqs(5)
    res = tracks(demo_model, seqs, Attention(orientation="both"))
    assert isinstance(res, Tracks) and res.ids == [s.id for s in seqs] and len(res) == 5
    assert all(t.scores.shape == (len(s.seq),) for t, s in zip(res, seqs))
    assert res["s3"].sequence.seq == seqs[3].seq and res[3].probs.shape == (2,)
    assert res.provenance["lens"]["orientation"] == "both" and "model demo" in res.provenance["description"]
    assert [t.id for t in iter_tracks(demo_model, iter(seqs), Attention())] == res.ids  # streams an iterator


def test_make_lens_presets_and_errors():
    assert make_lens("rollout") == Attention(recipe="rollout")
    assert make_lens("dnabert-viz-parity", max_seq_length=100).max_seq_length == 100
    assert make_lens("ism", summary="mean").summary == "mean"
    assert {"attention", "ism", "dnabert-viz", "rollout"} <= set(lens_names())
    with pytest.raises(InputError, match="unknown lens"):
        make_lens("saliency")
    with pytest.raises(InputError, match="unknown orientation"):
        Attention(orientation="sideways")
    with pytest.raises(InputError, match="max_seq_length"):
        Attention(recipe="dnabert-viz-parity")


def test_two_threads_on_one_model_get_what_each_gets_alone(demo_model):
    """Two different lens requests on one loaded model from two threads at once: each gets exactly the result it
    gets alone (capture hooks keep per-call state in a context variable; the model is never switched)."""
    seqs = _seqs(48, seed=4)
    hooks_before = [len(m._forward_hooks) for m in demo_model.model.modules()]
    impl_before = demo_model.model.config._attn_implementation
    requests = [
        Attention(recipe="rollout"),
        Attention(recipe="custom", layers=(0,), heads=(1, 2), head_agg="max", orientation="reverse"),
    ]
    alone = [tracks(demo_model, seqs, lens, batch_size=4).scores for lens in requests]
    for _ in range(3):
        got, errors = [None, None], []

        def work(i, got=got, errors=errors):
            try:
                got[i] = tracks(demo_model, seqs, requests[i], batch_size=4).scores
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        for i in range(2):
            assert all(np.array_equal(a, b) for a, b in zip(got[i], alone[i]))
    # the model itself is unchanged: no hooks added or left behind, attention implementation never switched
    assert [len(m._forward_hooks) for m in demo_model.model.modules()] == hooks_before
    assert demo_model.model.config._attn_implementation == impl_before == "sdpa"


def test_ism_lens_summaries(demo_model):
    s = _seqs(1, seed=2, lo=60, hi=61)[0]
    t = tracks(demo_model, [s], ISM())[0]
    res = t.detail["saturation"]
    assert np.allclose(t.scores, np.abs(res.effect).max(axis=0))
    mean = tracks(demo_model, [s], ISM(summary="mean"))[0].scores
    toward = tracks(demo_model, [s], ISM(summary="toward-ref"))[0].scores
    assert np.allclose(mean, res.effect.sum(axis=0) / 3) and np.allclose(toward, -mean)


def test_cli_tracks_ism_equals_mutate_per_position_summary(tmp_path):
    from core.cli import main

    fa = tmp_path / "two.fa"
    fa.write_text("".join(f">{s.id}\n{s.seq}\n" for s in _seqs(2, seed=9, lo=50, hi=70)))
    assert main(["tracks", str(fa), "--lens", "ism", "--out", str(tmp_path / "ism.csv")]) == 0
    assert main(["mutate", str(fa), "--out", str(tmp_path / "mut"), "--max-figures", "0"]) == 0
    got = pd.read_csv(tmp_path / "ism.csv")
    sat = pd.read_csv(tmp_path / "mut" / "saturation.csv")
    sat["absdelta"] = sat["delta"].abs()
    want = sat.groupby(["id", "position"])["absdelta"].max().reset_index()
    merged = got.merge(want, on=["id", "position"])
    assert len(merged) == len(got) == len(want)
    assert np.allclose(merged["score"], merged["absdelta"], atol=1e-6)


def test_lens_needs_a_classifier(tmp_path):
    from checkpoints import make_dnabert_checkpoint

    from core.model.loading import load_model

    mlm = load_model(str(make_dnabert_checkpoint(tmp_path / "mlm", classifier=False, layers=1, hidden=16, heads=2)))
    with pytest.raises(InputError, match="has no classification head"):
        tracks(mlm, _seqs(1), ISM())
    assert tracks(mlm, _seqs(1), Attention())[0].scores.shape[0] > 0
