"""bigWig tracks: chromosome sizes from the reference index, minus-strand intervals mapped back to forward-strand
coordinates, overlapping intervals averaged per base; the file reads back with pyBigWig to the table's values."""

from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from genome_data import make_reference

from core.cli.main import main
from core.io.bigwig import BigWigWriter, chrom_sizes, runs
from core.io.sequences import Sequence

pyBigWig = pytest.importorskip("pyBigWig")


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    d = tmp_path_factory.mktemp("bwref")
    return make_reference(d, sizes={"chrA": 3000, "chrB": 1200}, seed=4)


def test_overlaps_are_averaged_and_minus_strand_maps_back(ref, tmp_path):
    path, seqs = ref
    a = Sequence("a", "A" * 10, chrom="chrA", start=100, end=110, strand="+")
    b = Sequence("b", "A" * 10, chrom="chrA", start=105, end=115, strand="-")  # read 114 -> 105
    c = Sequence("c", "A" * 4, chrom="chrB", start=0, end=4, strand="+")
    sa, sb = np.arange(10, dtype=float), 100 + np.arange(10, dtype=float)
    sc = np.array([1.0, 1.0, np.nan, 2.0])
    with BigWigWriter(tmp_path / "t.bw", chrom_sizes(path)) as w:
        w.write(c, sc)  # written out of chromosome order on purpose
        w.write(a, sa)
        w.write(b, sb)
    want = defaultdict(list)
    for s, sc_ in ((a, sa), (b, sb), (c, sc)):
        for g, v in zip(s.genomic_positions(), sc_):
            if np.isfinite(v):
                want[(s.chrom, int(g))].append(v)
    bw = pyBigWig.open(str(tmp_path / "t.bw"))
    assert bw.chroms() == {"chrA": 3000, "chrB": 1200}
    got = bw.values("chrA", 95, 120, numpy=True)
    for i, g in enumerate(range(95, 120)):
        exp = np.mean(want[("chrA", g)]) if ("chrA", g) in want else np.nan
        np.testing.assert_allclose(got[i], exp, rtol=1e-6, equal_nan=True)
    assert got[105 - 95] == pytest.approx((5 + 109) / 2)  # base 105: a's 6th score and b's last
    np.testing.assert_array_equal(bw.values("chrB", 0, 4), [1.0, 1.0, np.nan, 2.0])
    bw.close()


def test_runs_merge_equal_neighbours_only():
    s, e, v = runs(np.array([1, 2, 3, 5, 6]), np.array([0.5, 0.5, 1.0, 1.0, 1.0]))
    assert s.tolist() == [1, 3, 5] and e.tolist() == [3, 4, 7] and v.tolist() == [0.5, 1.0, 1.0]


def test_tracks_cli_bigwig_reads_back_to_the_table(ref, tmp_path):
    from checkpoints import make_dnabert_checkpoint

    path, seqs = ref
    bed = tmp_path / "regions.bed"
    bed.write_text("chrA\t200\t320\tr1\t0\t+\nchrA\t280\t400\tr2\t0\t-\nchrB\t50\t150\tr3\t0\t-\n")
    model = make_dnabert_checkpoint(tmp_path / "m", k=6, max_pos=64, hidden=16, heads=2)
    base = ["tracks", "--bed", str(bed), "--reference", str(path), "--model", str(model), "--device", "cpu"]
    assert main([*base, "--out", str(tmp_path / "t.parquet")]) == 0
    assert main([*base, "--out", str(tmp_path / "t.bw")]) == 0
    table = pd.read_parquet(tmp_path / "t.parquet")
    per_base = table.groupby(["chrom", "genomic_position"])["score"].mean()
    bw = pyBigWig.open(str(tmp_path / "t.bw"))
    for (chrom, g), v in per_base.items():
        assert bw.values(chrom, int(g), int(g) + 1)[0] == pytest.approx(v, rel=1e-6, abs=1e-7)
    assert np.isnan(bw.values("chrA", 199, 200)[0]) and np.isnan(bw.values("chrA", 400, 401)[0])
    assert bw.stats("chrB", 50, 150, type="coverage", exact=True)[0] == pytest.approx(1.0)
    bw.close()
    assert main(["tracks", str(tmp_path / "regions.bed"), "--out", str(tmp_path / "x.bw")]) == 2
