"""``--engine ray``: the same shards on Ray Data (local mode), giving the local engine's table and skips."""

import numpy as np
import pandas as pd
import pytest
from genome_data import make_reference, make_vcf

from core.cli.main import main
from core.reports.variants import read_variants

pytest.importorskip("ray.data", reason="the Ray extra is not installed (pip install -e '.[ray]')")


@pytest.mark.slow
def test_ray_engine_equals_the_local_engine(tmp_path, monkeypatch):
    from checkpoints import make_dnabert_checkpoint

    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    ref, seqs = make_reference(tmp_path, sizes={"chr1": 200_000, "chr2": 100_000})
    vcf, expected, _ = make_vcf(tmp_path, seqs, n_records=400, seed=11)
    model = make_dnabert_checkpoint(tmp_path / "m", k=6, max_pos=128, hidden=16, heads=2, seed=5)
    base = ["variants", str(vcf), "--reference", str(ref), "--model", str(model), "--window", "60"]
    base += ["--shard-size", "60", "--device", "cpu", "--lens-at-variant", "attention"]
    assert main([*base, "--out", str(tmp_path / "local")]) == 0
    assert main([*base, "--out", str(tmp_path / "ray"), "--engine", "ray"]) == 0
    local, ray_ = read_variants(tmp_path / "local"), read_variants(tmp_path / "ray")
    assert len(ray_) == len(local) == sum(e.skip is None for e in expected)
    exact = ["chrom", "pos", "id", "ref", "alt", "record", "kind", "window_start", "window_end", "class"]
    pd.testing.assert_frame_equal(ray_[exact], local[exact])
    for c in ("p_ref", "p_alt", "delta", "diff", "logOR", "attention_at_variant"):
        np.testing.assert_allclose(ray_[c], local[c], rtol=1e-5, atol=1e-6)
    assert (tmp_path / "ray" / "skipped.tsv").read_text() == (tmp_path / "local" / "skipped.tsv").read_text()
    assert (tmp_path / "ray" / "variants.vcf.gz.tbi").exists()
