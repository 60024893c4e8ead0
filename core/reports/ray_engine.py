"""The Ray Data engine for genome variant runs (``dnalens variants ... --engine ray``; ``pip install -e .[ray]``).

The same shards as the local engine (:mod:`core.reports.variants`), scored by the same function
(:func:`core.reports.shards.run_shard`): a Ray dataset of the pending shard indices goes through ``map_batches``
with an actor pool, each actor loading the model once (one GPU per actor when the cluster has GPUs, else CPU
actors), scoring one shard per call and writing its part file atomically. So resume, the output and the skips are
the local engine's. Ray Data does the scheduling, retries and back-pressure; dnalens only plans the shards.

Where it runs: without an address, a local Ray instance on this machine; with ``address`` (or ``RAY_ADDRESS``), an
existing cluster (``auto``, ``host:6379``, or ``ray://host:10001``). The output folder, the VCF, the reference and
the model folder must be at the same paths on every node (a shared filesystem), and dnalens must be installed in
the workers' Python environment.
"""

from __future__ import annotations

import os


class _ShardActor:
    """One model per actor; ``__call__`` scores a batch of shard indices and returns what each covered."""

    def __init__(self, job, threads: int):
        import numpy as np
        import torch

        from .shards import load_job_model, open_fasta

        if threads:
            torch.set_num_threads(threads)
        self.np = np
        self.job = job
        self.models = load_job_model(job)
        self.fasta = open_fasta(job)

    def __call__(self, batch: dict) -> dict:
        from .shards import run_shard

        shards = [int(k) for k in batch["shard"]]
        records = [run_shard(self.job, k, self.models, self.fasta) for k in shards]
        return {"shard": self.np.asarray(shards, dtype=self.np.int64), "records": self.np.asarray(records)}


def _init(address: str | None, announce):
    import ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    if ray.is_initialized():
        return ray, False
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    else:
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False)
    if announce:
        res = ray.cluster_resources()
        announce(
            f"dnalens: Ray {'cluster at ' + address if address else 'on this machine'}: "
            f"{int(res.get('CPU', 0))} CPUs, {int(res.get('GPU', 0))} GPUs"
        )
    return ray, True


def _pool(ray, job):
    """``(map_batches resource options, ActorPoolStrategy)``: one GPU per actor when there are GPUs; else CPU
    actors that together leave a CPU free (on 2 CPUs two 1-CPU actors starve the rest of the pipeline)."""
    res = ray.cluster_resources()
    gpus, cpus = int(res.get("GPU", 0)), int(res.get("CPU", 1))
    if gpus:
        n, opts = gpus, {"num_gpus": 1, "num_cpus": 1}
        threads = 0
    else:
        n = max(1, (cpus - 1) // 2) if cpus > 2 else 1
        threads = max(1, (cpus - 1) // n) if cpus > 1 else 1
        opts = {"num_cpus": threads if cpus > 2 else 0.5}
    strategy = ray.data.ActorPoolStrategy(min_size=1, max_size=n)
    return opts, strategy, threads


def run_ray(job, pending: list[int], *, address: str | None = None, progress=None, announce=None) -> None:
    """Score the ``pending`` shards of ``job`` on Ray Data; ``progress(records)`` per finished shard."""
    try:
        import ray
        import ray.data
    except ImportError:
        from ..errors import InputError

        raise InputError("--engine ray needs Ray Data: pip install -e '.[ray]' (ray[data]==2.60.0)") from None
    if not pending:
        return
    ray, started = _init(address, announce)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        opts, strategy, threads = _pool(ray, job)
        ds = ray.data.from_items([{"shard": k} for k in pending], override_num_blocks=min(len(pending), 200))
        ds = ds.map_batches(
            _ShardActor,
            fn_constructor_args=(job, threads),
            batch_size=1,
            batch_format="numpy",
            compute=strategy,
            **opts,
        )
        for row in ds.iter_rows():
            if progress:
                progress(int(row["records"]))
    finally:
        if started:
            ray.shutdown()
