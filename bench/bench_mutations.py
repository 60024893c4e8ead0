"""Saturation mutagenesis of a 500-bp sequence with the demo model (1500 substitutions + the reference).

Baseline, measured in the same run: the 1501 forward passes it needs, on token ids prepared beforehand (not timed),
same model, batch size and thread count. Ours: the ISM lens through core.lenses.tracks end to end (mutant strings,
tokenization, batching, probabilities, the effect table and map). Target: ratio <= 1.1.
"""

from __future__ import annotations

import numpy as np
from common import Row, timed


def run(quick: bool = False) -> list[Row]:
    import torch

    from core.io.sequences import Sequence
    from core.lenses import ISM, tracks
    from core.model.loading import load_model

    L = 200 if quick else 500
    batch = 64
    lm = load_model("demo", device="cpu")
    rng = np.random.default_rng(0)
    seq = Sequence("bench", "".join(rng.choice(list("ACGT"), L)))
    muts = [seq.seq]
    for p in range(L):
        for b in "ACGT":
            if b != seq.seq[p]:
                muts.append(seq.seq[:p] + b + seq.seq[p + 1 :])
    ids = torch.from_numpy(np.stack([lm.tokenizer.encode(m).ids for m in muts]))

    def baseline():
        out = []
        with torch.inference_mode():
            for i in range(0, len(ids), batch):
                x = ids[i : i + batch]
                out.append(torch.softmax(lm.model(input_ids=x, attention_mask=torch.ones_like(x)).logits, -1))
        return torch.cat(out)

    baseline()  # warm-up
    tracks(lm, [Sequence("w", seq.seq[:60])], ISM(), batch_size=batch)
    reps = 2 if quick else 3
    t_base, _ = timed(baseline, repeat=reps)
    t_ours, out = timed(tracks, lm, [seq], ISM(), batch_size=batch, repeat=reps)
    res = out[0].detail["saturation"]
    ratio = t_ours / t_base
    return [
        Row(
            f"saturation map {L} bp ({3 * L} variants)",
            f"{len(muts)} forward passes {t_base:.2f} s",
            f"{t_ours:.2f} s",
            ratio,
            "<= 1.1",
            ratio <= 1.1,
            f"{len(res.table)} rows; {len(muts) / t_ours:.0f} sequences/s end to end",
        )
    ]


if __name__ == "__main__":
    import sys

    from common import print_table

    print_table(run(quick="--quick" in sys.argv))
