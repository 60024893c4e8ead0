"""Integrated gradients with n steps on 64 sequences of 100 bp with the demo model.

Baseline, measured in the same run: the n forward+backward passes IG needs, in plain torch on embeddings prepared
beforehand (not timed): for each of the n points on the path from the baseline to the input, a forward pass of the
64 interpolated embedding rows and a backward pass to those embeddings (same model, thread count, scored quantity),
with the points stacked into passes of as many rows as the lens uses (so the ratio is the lens's own overhead, not
a batching difference).
Ours: the ``ig`` lens through core.lenses.tracks end to end (tokenizing, the [PAD] baseline, captum's batched steps,
f(x) and f(baseline), spreading to bases, the convergence delta). Target: ratio <= 1.5.
"""

from __future__ import annotations

import numpy as np
from common import Row, timed


def run(quick: bool = False) -> list[Row]:
    import torch

    from core.io.sequences import Sequence
    from core.lenses import IntegratedGradients, tracks
    from core.lenses.attribution import _Engine, score_logits
    from core.model.inference import _pad_batch
    from core.model.loading import load_model

    n_seq, L, steps = (16, 100, 16) if quick else (64, 100, 32)
    lm = load_model("demo", device="cpu")
    rng = np.random.default_rng(0)
    seqs = [Sequence(f"b{i}", "".join(rng.choice(list("ACGT"), L))) for i in range(n_seq)]
    ids, mask = _pad_batch(lm, [lm.tokenizer.encode(s.seq) for s in seqs])
    emb = lm.model.get_input_embeddings()
    with torch.no_grad():
        E = emb(ids)
        base_ids = ids.clone()
        base_ids[:, 1:-1] = lm.tokenizer.pad_id
        Eb = emb(base_ids)
    target = torch.ones(n_seq, dtype=torch.long)
    alphas = torch.linspace(0.5 / steps, 1 - 0.5 / steps, steps)
    per_pass = max(1, IntegratedGradients().internal_rows(_Engine(lm, "log-odds"), n_seq, E.shape[1]) // n_seq)

    def baseline():
        total = torch.zeros_like(E)
        for a in alphas.split(per_pass):
            x = (Eb[None] + a[:, None, None, None] * (E - Eb)[None]).flatten(0, 1).requires_grad_(True)
            f = score_logits(
                lm.model(inputs_embeds=x, attention_mask=mask.repeat(len(a), 1)).logits,
                target.repeat(len(a)),
                "log-odds",
            )
            (g,) = torch.autograd.grad(f.sum(), x)
            total += g.view(len(a), *E.shape).sum(0)
        return total

    lens = IntegratedGradients(n_steps=steps)
    baseline()  # warm-up
    tracks(lm, seqs[:4], IntegratedGradients(n_steps=4))
    reps = 2 if quick else 3
    t_base = t_ours = float("inf")
    for _ in range(reps):  # interleaved, best of each: a busy machine slows both alike
        t_base = min(t_base, timed(baseline)[0])
        t, out = timed(tracks, lm, seqs, lens, batch_size=64)
        t_ours = min(t_ours, t)
    delta = max(abs(t.detail["convergence_delta"]) for t in out)
    ratio = t_ours / t_base
    return [
        Row(
            f"integrated gradients, {steps} steps, {n_seq} x {L} bp",
            f"{steps} forward+backward passes ({per_pass} per batch) {t_base:.2f} s",
            f"{t_ours:.2f} s",
            ratio,
            "<= 1.5",
            ratio <= 1.5,
            f"max |convergence delta| {delta:.1e} (log-odds)",
        )
    ]


if __name__ == "__main__":
    import sys

    from common import print_table

    print_table(run(quick="--quick" in sys.argv))
