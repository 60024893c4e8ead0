import tracemalloc

import numpy as np
import pytest

from core.io.sequences import Sequence
from core.lenses.attention import Attention, nucleotide_scores
from core.model import inference


def random_seqs(n, rng, lo=30, hi=90, prefix="s"):
    return [Sequence(f"{prefix}{i}", "".join(rng.choice(list("ACGT"), int(rng.integers(lo, hi))))) for i in range(n)]


def test_cls_rows_equal_full_eager_matrices_and_batching_is_exact(demo_model):
    rng = np.random.default_rng(0)
    seqs = random_seqs(7, rng)
    recs = list(inference.run(demo_model, seqs, batch_size=3))
    for s, r in zip(seqs, recs):
        att, tokens, spans = inference.token_matrices(demo_model, s.seq)
        w = r.forward.windows[0]
        assert w.cls.shape == (demo_model.n_layers, demo_model.n_heads, len(tokens))
        # the kept row is the [CLS] query row of every layer/head, padding in the batch changed nothing
        assert np.allclose(w.cls, att[:, :, 0, :], atol=1e-5)
        assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
        assert np.allclose(w.cls.sum(-1), 1, atol=1e-5)


def test_order_preserved_with_length_sorting_and_small_chunks(demo_model):
    rng = np.random.default_rng(1)
    seqs = random_seqs(25, rng, 10, 120)
    recs = list(inference.run(demo_model, seqs, batch_size=4, chunk_windows=7))
    assert [r.id for r in recs] == [s.id for s in seqs]
    assert [r.length for r in recs] == [len(s.seq) for s in seqs]
    single = [next(inference.run(demo_model, [s])).probs for s in seqs[:5]]
    assert np.allclose(np.stack(single), np.stack([r.probs for r in recs[:5]]), atol=1e-5)


def test_rollout_row_is_a_distribution(demo_model):
    seqs = random_seqs(3, np.random.default_rng(2))
    for r in inference.run(demo_model, seqs, rollout=True):
        w = r.forward.windows[0]
        assert np.isclose(w.rollout.sum(), 1.0, atol=1e-4) and (w.rollout >= 0).all()
        tr = nucleotide_scores(r, Attention(recipe="rollout"), k=6)
        assert tr.shape == (r.length,)


def test_long_sequence_is_windowed_and_stitched(tiny_model):
    # tiny model: 64 positions -> 62 6-mers per window -> 67 bases
    assert tiny_model.tokenizer.window_nt() == 67
    seq = Sequence("long", "".join(np.random.default_rng(3).choice(list("ACGT"), 400)))
    rec = next(inference.run(tiny_model, [seq], overlap=20))
    wins = rec.forward.windows
    assert len(wins) > 5 and wins[0].start == 0 and wins[-1].end == 400
    assert all(len(w.ids) <= 64 for w in wins)
    tr = nucleotide_scores(rec, Attention(), k=6)
    assert tr.shape == (400,) and np.isfinite(tr).all() and (tr > 0).all()
    assert np.isclose(np.linalg.norm(tr), 1)
    # probabilities are the mean over windows
    assert np.allclose(rec.probs, np.mean([w.probs for w in wins], axis=0))


def test_reverse_strand_runs_on_reverse_complement(demo_model):
    from core.io.sequences import reverse_complement

    s = Sequence("x", "TTTTTATAAAAGGGCCAGCTAGCATCGACTAGCATCGACTAGCGGCAGCAGCTAGCAGAC")
    both = next(inference.run(demo_model, [s], orientation="both"))
    rc = next(inference.run(demo_model, [Sequence("rc", reverse_complement(s.seq))]))
    assert np.allclose(both.reverse.windows[0].cls, rc.forward.windows[0].cls, atol=1e-6)
    rev_track = nucleotide_scores(both, Attention(orientation="reverse"), k=6)
    assert np.allclose(rev_track, nucleotide_scores(rc, Attention(), k=6)[::-1])
    assert np.allclose(both.probs, (both.forward.probs + both.reverse.probs) / 2)


def _peak_traced(lm, n):
    rng = np.random.default_rng(4)
    gen = (Sequence(f"m{i}", "".join(rng.choice(list("ACGT"), 100))) for i in range(n))
    tracemalloc.start()
    tracemalloc.reset_peak()
    count, per_record = 0, 0
    for rec in inference.run(lm, gen, batch_size=16, chunk_windows=32):
        nucleotide_scores(rec, Attention(), k=6)
        per_record = rec.forward.windows[0].cls.nbytes
        count += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == n
    return peak, per_record


@pytest.mark.slow
def test_memory_per_batch_does_not_depend_on_sequences_before(demo_model):
    """Peak traced memory (numpy buffers of the reduced outputs and the streamed records) barely moves between 64
    and 640 sequences: far less than keeping each record's [CLS] rows would add (which is what a runner that
    accumulates results would cost)."""
    _peak_traced(demo_model, 16)  # warm-up (imports, caches)
    small, per_record = _peak_traced(demo_model, 64)
    large, _ = _peak_traced(demo_model, 640)
    accumulating = per_record * (640 - 64)
    assert large - small < 0.1 * accumulating, (small, large, accumulating)


def test_short_sequence_error(demo_model):
    from core.errors import InputError

    with pytest.raises(InputError, match="record 'tiny'.*shorter than the model's k-mer size 6"):
        list(inference.run(demo_model, [Sequence("tiny", "ACGT")]))


def _hooks_vs_eager(lm, seqs):
    """Largest difference between dnalens's [CLS] rows (padded batches, SDPA + query/key hooks) and the
    attention an independently loaded eager copy of the same checkpoint returns; full matrices too."""
    import torch
    from transformers import AutoModelForSequenceClassification

    eager = AutoModelForSequenceClassification.from_pretrained(lm.path, attn_implementation="eager").eval()
    fast = list(inference.run(lm, seqs, batch_size=4))
    worst = 0.0
    for a, s in zip(fast, seqs):
        enc = lm.tokenizer.encode(s.seq)
        with torch.no_grad():
            out = eager(input_ids=torch.from_numpy(enc.ids[None]), output_attentions=True)
        ref = torch.stack([x[0, :, 0, :] for x in out.attentions]).numpy()  # [layers, heads, T]
        worst = max(worst, float(np.abs(a.forward.windows[0].cls - ref).max()))
        assert np.allclose(a.probs, torch.softmax(out.logits, -1)[0].numpy(), atol=1e-5)
    full, _, _ = inference.token_matrices(lm, seqs[0].seq)
    enc = lm.tokenizer.encode(seqs[0].seq)
    with torch.no_grad():
        ref_full = torch.stack(
            [x[0] for x in eager(input_ids=torch.from_numpy(enc.ids[None]), output_attentions=True).attentions]
        ).numpy()
    return max(worst, float(np.abs(full - ref_full).max()))


def test_hook_rows_equal_eager_rows_on_demo_model(demo_model):
    """[CLS] rows formed from the layers' own query/key projections under SDPA equal eager attention (fp32)."""
    seqs = random_seqs(9, np.random.default_rng(11), 20, 300)  # mixed lengths: padding in every batch
    assert _hooks_vs_eager(demo_model, seqs) < 1e-5


@pytest.mark.slow
def test_hook_rows_equal_eager_rows_on_bert_base_size_model(tmp_path):
    from checkpoints import make_dnabert_checkpoint

    from core.model.loading import load_model

    path = make_dnabert_checkpoint(tmp_path / "base", k=6, layers=12, hidden=768, heads=12)
    lm = load_model(str(path))
    seqs = random_seqs(5, np.random.default_rng(12), 100, 515)
    assert _hooks_vs_eager(lm, seqs) < 1e-5


def test_ten_kb_constant_attention_model_stitches_without_steps(tmp_path):
    """A DNABERT-6 model whose query/key projections are zero attends uniformly; over a 10 kb sequence (20 windows
    of 510 k-mers) its stitched track must be flat: any step at a window join would be a stitching artefact."""
    import torch
    from checkpoints import make_dnabert_checkpoint

    from core.lenses.attention import Attention, nucleotide_scores
    from core.model.loading import load_model

    path = make_dnabert_checkpoint(tmp_path / "flat", k=6, layers=2, hidden=32, heads=4)
    lm = load_model(str(path))
    with torch.no_grad():
        for layer in lm.model.bert.encoder.layer:
            for lin in (layer.attention.self.query, layer.attention.self.key):
                lin.weight.zero_()
                lin.bias.zero_()
    seq = Sequence("10kb", "".join(np.random.default_rng(9).choice(list("ACGT"), 10_000)))
    rec = next(inference.run(lm, [seq]))
    assert len(rec.forward.windows) >= 20 and all(len(w.ids) == 512 for w in rec.forward.windows)
    track = nucleotide_scores(rec, Attention(recipe="custom", normalize="none"), k=6)
    inner = track[5:-5]  # the first/last bases have fewer covering k-mers
    assert np.ptp(inner) < 1e-6 * inner.mean(), np.ptp(inner)
    # and the real demo model: finite, unit-norm track over the whole 10 kb
    demo = load_model("demo")
    tr = nucleotide_scores(next(inference.run(demo, [seq])), Attention(), k=6)
    assert tr.shape == (10_000,) and np.isfinite(tr).all() and np.isclose(np.linalg.norm(tr), 1)


def test_bfloat16_path_close_to_float32(tmp_path, demo_model):
    """The reduced-precision path (what --dtype bfloat16 / the GPU autocast path use) gives nearly the same tracks."""
    from core.lenses.attention import Attention, nucleotide_scores
    from core.model.loading import load_model

    bf = load_model("demo", dtype="bfloat16")
    seqs = random_seqs(4, np.random.default_rng(13), 60, 120)
    a = [nucleotide_scores(r, Attention(), k=6) for r in inference.run(demo_model, seqs)]
    b = [nucleotide_scores(r, Attention(), k=6) for r in inference.run(bf, seqs)]
    assert all(np.corrcoef(x, y)[0, 1] > 0.98 for x, y in zip(a, b))
