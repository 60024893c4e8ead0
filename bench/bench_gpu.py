"""GPU throughput: sequences/s for a BERT-base-size model (random weights, DNABERT-6 vocabulary) at T = 512, for
plain prediction and for attention-track extraction (last-layer [CLS] rows via the SDPA + hook path), in fp32 and
under bf16/fp16 (`--dtype`), with pinned-memory batches.

    python bench/bench_gpu.py                       # on a machine with CUDA: prints the table for the README
    python bench/bench_gpu.py --device cpu --quick  # smoke test of the same code path on CPU
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import numpy as np
from common import machine


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()
    import torch
    from checkpoints import make_dnabert_checkpoint

    from core.io.sequences import Sequence
    from core.lenses import Attention, iter_tracks
    from core.model import inference
    from core.model.loading import load_model

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here; use --device cpu --quick for a smoke test", file=sys.stderr)
        return 2
    n = 16 if args.quick else args.n
    layers, hidden, heads = (2, 64, 4) if args.quick else (12, 768, 12)
    bs = 4 if args.quick else args.batch_size
    rng = np.random.default_rng(0)
    seqs = [Sequence(f"s{i}", "".join(np.array(list("ACGT"))[rng.integers(0, 4, 515)])) for i in range(n)]
    gpu = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "CPU"
    print(
        f"# {gpu}; {machine()}; model {layers} layers x {hidden} hidden x {heads} heads; T = 512; N = {n}; batch {bs}\n"
    )
    print("| dtype | prediction (seq/s) | attention tracks (seq/s) | ratio |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        path = make_dnabert_checkpoint(os.path.join(tmp, "m"), k=6, layers=layers, hidden=hidden, heads=heads)
        for dtype in ("float32", "bfloat16", "float16"):
            if dtype == "float16" and not args.device.startswith("cuda"):
                continue
            lm = load_model(path, device=args.device, dtype=dtype)

            def pred(lm=lm):
                for _ in inference.run(lm, seqs, batch_size=bs, attention=False):
                    pass

            def tracks(lm=lm):
                for _ in iter_tracks(lm, seqs, Attention(), batch_size=bs):
                    pass

            for f in (pred, tracks):  # warm-up (kernels, allocator)
                f()
            t = {}
            for f in (pred, tracks):
                if args.device.startswith("cuda"):
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
                f()
                if args.device.startswith("cuda"):
                    torch.cuda.synchronize()
                t[f.__name__] = time.perf_counter() - t0
            print(f"| {dtype} | {n / t['pred']:.1f} | {n / t['tracks']:.1f} | {t['tracks'] / t['pred']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
