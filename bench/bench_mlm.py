"""The masked-LM lens and the dependency map with the demo MLM.

1. ``mlm`` lens on 20 sequences of 200 bp (4000 masked copies). Baselines, measured in the same run on the same
   masked inputs, token ids (and candidate ids) prepared beforehand, not timed:
   a. the plain model forward pass of every masked copy (``model(input_ids).logits``, what a user would write);
   b. the same reduced forward pass the lens uses (encoder, then the head at the masked rows' four candidates only).
   Ours: ``core.lenses.tracks(lm, seqs, MLM())`` end to end (masking plan, candidates, batches, the combination
   rule, scores). Target: ratio <= 1.2 against both.
2. Dependency map of one 200-bp sequence: ``dependency_map`` end to end (200 x 598 = 119 600 masked passes)
   with one torch thread, as ``dnalens dependency`` runs it (``--threads 1``: on our 2-core machine one thread ran
   these small passes about 3x faster than two). Target: <= 60 s on 2 cores.
"""

from __future__ import annotations

import time

import numpy as np
from common import Row, timed


def _prepared(lm, seqs, batch: int):
    """Masked copies, masked rows and candidates of every base of ``seqs``, in the lens's batches."""
    from core.lenses.mlm import mask_plan, mask_token_id, masked_copies

    mid = mask_token_id(lm)
    out = []
    for s in seqs:
        plan = mask_plan(lm.tokenizer, s.seq)
        pos = np.arange(len(s.seq))
        for b in range(0, len(pos), batch):
            p = pos[b : b + batch]
            cover = np.where(plan.usable[p], plan.cover[p], -1)
            out.append((masked_copies(plan.ids, plan.cover[p], mid), cover, plan.cand[p]))
    return out


def _lens_rows(lm, quick: bool) -> list[Row]:
    import torch

    from core.io.sequences import Sequence
    from core.lenses import MLM, tracks
    from core.lenses.mlm import candidate_logits

    n_seq, L, batch = (5, 100, 128) if quick else (20, 200, 128)
    rng = np.random.default_rng(0)
    seqs = [Sequence(f"b{i}", "".join(rng.choice(list("ACGT"), L))) for i in range(n_seq)]
    prepared = _prepared(lm, seqs, batch)
    tensors = [torch.from_numpy(ids) for ids, _, _ in prepared]

    def plain():
        shape = None
        with torch.inference_mode():
            for x in tensors:
                shape = lm.model(input_ids=x).logits.shape  # each batch's logits are dropped before the next
        return shape

    def reduced():
        for ids, cover, cand in prepared:
            candidate_logits(lm, ids, cover, cand)

    tracks(lm, seqs[:1], MLM(), batch_size=batch)  # warm-up
    reps = 2 if quick else 3
    t_plain, _ = timed(plain, repeat=reps)
    t_reduced, _ = timed(reduced, repeat=reps)
    t_ours, res = timed(tracks, lm, seqs, MLM(), batch_size=batch, repeat=reps)
    n = n_seq * L
    note = f"{n} masked copies of {L} bp; {n / t_ours:.0f} bases/s end to end"
    return [
        Row(
            f"mlm lens, {n_seq} x {L} bp, vs plain forward passes",
            f"{n} model(input_ids) passes {t_plain:.2f} s",
            f"{t_ours:.2f} s",
            t_ours / t_plain,
            "<= 1.2",
            t_ours / t_plain <= 1.2,
            note,
        ),
        Row(
            f"mlm lens, {n_seq} x {L} bp, vs the same reduced passes",
            f"{n} encoder + candidate-row passes {t_reduced:.2f} s",
            f"{t_ours:.2f} s",
            t_ours / t_reduced,
            "<= 1.2",
            t_ours / t_reduced <= 1.2,
            f"lens overhead over its own forward passes (planning, masking, combining): {t_ours - t_reduced:.2f} s",
        ),
    ]


def run(quick: bool = False) -> list[Row]:
    from core.io.sequences import Sequence
    from core.lenses.dependency import dependency_map
    from core.model.loading import load_model

    lm = load_model("demo-mlm", device="cpu")
    rows = _lens_rows(lm, quick)
    L = 80 if quick else 200
    seq = Sequence("dep", "".join(np.random.default_rng(1).choice(list("ACGT"), L)))
    dependency_map(lm, Sequence("w", seq.seq[:20]), threads=1)  # warm-up
    t0 = time.perf_counter()
    dm = dependency_map(lm, seq, batch_size=128, threads=1)  # the CLI's default (--threads 1)
    t = time.perf_counter() - t0
    rows.append(
        Row(
            f"dependency map {L} bp (demo MLM)",
            "target 60 s",
            f"{t:.1f} s",
            t / 60.0,
            "<= 60 s",
            t <= 60.0,
            f"{dm.passes} masked forward passes, {dm.passes / t:.0f} passes/s",
        )
    )
    return rows


if __name__ == "__main__":
    import sys

    from common import print_table

    print_table(run(quick="--quick" in sys.argv))
