"""Core behind the Lenses and Sets pages: agreement from computed tracks, truth tables from text, TOMTOM alignment of a
motif and its match, projections and clusters, Δp with llr beside it, and the figures' data."""

import numpy as np
import pytest

from core.errors import InputError
from core.io.sequences import Sequence


def _random_seqs(n, L=40, seed=0):
    rng = np.random.default_rng(seed)
    return [Sequence(f"s{i}", "".join(rng.choice(list("ACGT"), L)), label=1 - i % 2) for i in range(n)]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from checkpoints import make_dnabert_checkpoint

    from core.model.loading import load_model

    path = make_dnabert_checkpoint(tmp_path_factory.mktemp("tiny_views"), k=6, layers=1, hidden=16, heads=2, max_pos=64)
    return load_model(str(path), device="cpu")


def test_parse_sites_reads_text_like_the_file_reader(tmp_path):
    from core.motifs.sites import parse_sites, read_sites

    text = "id\tstart\tend\tmotif\na\t3\t10\tCTCF\nb\t\t\t\na\t20\t27\tTBP\n"
    (tmp_path / "t.tsv").write_text(text)
    assert parse_sites(text, "up.tsv") == read_sites(tmp_path / "t.tsv") == {"a": [(3, 10), (20, 27)]}
    assert parse_sites("id,start,end\nx,1,4\n") == {"x": [(1, 4)]}
    with pytest.raises(InputError, match=r"up.tsv.*line 2.*0 <= start < end"):
        parse_sites("id\tstart\tend\na\t9\t3\n", "up.tsv")
    with pytest.raises(InputError, match="missing: end"):
        parse_sites("id\tstart\nq\t1\n", "up.tsv")


@pytest.mark.slow
def test_agreement_from_tracks_is_what_the_report_writes(tiny, tmp_path):
    import pandas as pd

    from core.lenses import ISM, make_lens, tracks
    from core.reports.agreement import agreement_from_tracks, agreement_report

    seqs = _random_seqs(3)
    (tmp_path / "truth.tsv").write_text("id\tstart\tend\ns0\t5\t15\ns1\t0\t40\n")
    written = agreement_report(
        tiny, seqs, tmp_path / "out", lenses=["attention", "grad-input"], truth=tmp_path / "truth.tsv", top_k=5
    )
    lens_tracks = {n: tracks(tiny, seqs, make_lens(n)) for n in ("attention", "grad-input")}
    mine = agreement_from_tracks(
        lens_tracks, tracks(tiny, seqs, ISM()), sites={"s0": [(5, 15)], "s1": [(0, 40)]}, top_k=5, model=tiny
    )
    on_disk = pd.read_csv(tmp_path / "out" / "summary.csv")
    assert mine.verdict == written.verdict == (tmp_path / "out" / "verdict.txt").read_text().strip()
    pd.testing.assert_frame_equal(mine.summary, written.summary)
    assert np.allclose(on_disk["mean_spearman"].to_numpy(float)[:2], mine.summary["mean_spearman"].to_numpy()[:2])
    s1 = mine.per_sequence[(mine.per_sequence.id == "s1")]
    assert (s1.peak_in_site == 1.0).all()  # the whole sequence is a site
    assert mine.per_sequence[mine.per_sequence.id == "s2"].peak_in_site.isna().all()  # no site known


@pytest.mark.slow
def test_match_alignment_reads_tomtom_offsets_and_orientations():
    """Slices of JASPAR's CTCF (and their reverse complements, padded or not) matched by TOMTOM against JASPAR: the
    alignment puts every query column over the very target column it was cut from."""
    from core.motifs.jaspar import load_jaspar, match_alignment, tomtom_table

    targets = load_jaspar()
    ctcf = next(t for t in targets if t.id == "MA0139.2").ppm
    rc = lambda p: p[::-1, ::-1]
    flat = np.full((3, 4), 0.25)
    cases = {  # query, (first target column it holds, in the matched orientation), orientation
        "mid": (ctcf[3:10], "+"),
        "start": (ctcf[0:8], "+"),
        "rc": (rc(ctcf[3:12]), "-"),
        "padded": (np.vstack([flat, ctcf[0:8]]), "+"),
        "rc_padded": (rc(np.vstack([flat, ctcf[2:10]])), "-"),
    }
    table = tomtom_table({k: v[0] for k, v in cases.items()}, targets, n_best=None)
    for name, (query, orientation) in cases.items():
        row = table[(table.Query_ID == name) & (table.Target_ID == "MA0139.2")].iloc[0]
        assert row["Orientation"] == orientation
        al = match_alignment(query, ctcf, int(row["Optimal_offset"]), row["Orientation"])
        frame_q = np.full((al.width, 4), np.nan)
        frame_t = np.full((al.width, 4), np.nan)
        frame_q[al.query_start : al.query_start + len(query)] = query
        frame_t[al.target_start : al.target_start + len(al.target)] = al.target
        informative = ~np.isclose(frame_q, 0.25).all(axis=1) & ~np.isnan(frame_q).any(axis=1)
        assert np.allclose(frame_q[informative], frame_t[informative]), name
    window = np.vstack([np.full((4, 4), 0.25), ctcf[2:9]])  # a compared core starting at window column 4
    al = match_alignment(window, ctcf, 2, "+", query_core_start=4)  # the offset refers to the compared columns
    assert (al.query_start, al.target_start, al.width) == (0, 2, 17)
    assert np.allclose(window[4:], ctcf[al.query_start + 4 - al.target_start :][:7])


def test_motif_alignment_uses_the_compared_columns():
    import pandas as pd

    from core.motifs.discover import Motif
    from core.motifs.jaspar import KnownMotif, compared_columns, motif_alignment

    counts = np.full((12, 4), 5.0)
    counts[4:9] = np.eye(4)[[0, 1, 2, 3, 0]] * 100 + 1  # an informative core ACGTA in columns 4..8
    m = Motif("m", "ACGTA", "", pd.DataFrame(), counts, 1e-5, 1e-4)
    assert compared_columns(m) == (4, 9) and compared_columns(m, trim=False) == (0, 12)
    known = KnownMotif("MA0000.1", "X", np.eye(4)[[3, 0, 1, 2, 3, 0, 2]] * 0.97 + 0.0075)  # TACGTAG
    al = motif_alignment(m, {"Optimal_offset": 1, "Orientation": "+"}, known)
    # the core's column 0 (window column 4) over target column 1: the target starts at window column 3
    assert (al.query_start, al.target_start, al.width) == (0, 3, 12)
    rev = motif_alignment(m, {"Optimal_offset": 0, "Orientation": "-"}, known)
    assert np.allclose(rev.target, known.ppm[::-1, ::-1]) and rev.target_start == 4


def test_projections_and_clusters(monkeypatch):
    from core.lenses import sets as sv

    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(0, 1, (30, 6)), rng.normal(8, 1, (10, 6))])
    coords, info = sv.project(X, "pca")
    assert np.allclose(coords, sv.pca(X, 2)[0]) and info["axes"][0].startswith("PC1 (")
    labels = sv.kmeans_clusters(X, 2)
    assert (labels[:30] == 0).all() and (labels[30:] == 1).all()  # numbered by size, largest first
    assert sv.gc_fraction(["GGCC", "ATGC", ""]).tolist() == [1.0, 0.5, 0.0]
    with pytest.raises(InputError, match="unknown projection"):
        sv.project(X, "tsne")
    monkeypatch.setattr(sv, "umap_available", lambda: False)
    with pytest.raises(InputError, match=r"pip install -e \"\.\[umap\]\""):
        sv.project(X, "umap")


@pytest.mark.slow
def test_umap_projection_is_reproducible():
    pytest.importorskip("umap")
    from core.lenses import sets as sv

    rng = np.random.default_rng(4)
    X = np.vstack([rng.normal(0, 1, (25, 8)), rng.normal(6, 1, (25, 8))])
    a, info = sv.project(X, "umap")
    b, _ = sv.project(X, "umap")
    assert a.shape == (50, 2) and info["axes"] == ["UMAP 1", "UMAP 2"] and np.allclose(a, b)
    centre = [a[:25].mean(0), a[25:].mean(0)]
    spread = max(a[:25].std(0).max(), a[25:].std(0).max())
    assert np.linalg.norm(centre[0] - centre[1]) > 2 * spread  # the two blobs stay apart


def test_variant_table_puts_llr_beside_delta(tiny, tmp_path):
    from checkpoints import make_dnabert_checkpoint

    from core.model.loading import load_model
    from core.reports.mutations import variant_table
    from core.variants.variants import parse_variants
    from core.variants.zero_shot import zero_shot_scores

    mlm = load_model(str(make_dnabert_checkpoint(tmp_path / "mlm", k=6, classifier=False, layers=1, hidden=16)))
    seqs = _random_seqs(2)
    s0 = seqs[0].seq
    text = f"seq_id\tpos\tref\talt\ns0\t5\t{s0[4]}\t{'A' if s0[4] != 'A' else 'C'}\ns0\t9\t{s0[8]}\t-\n"
    variants = parse_variants(text, seqs)
    both = variant_table(tiny, seqs, variants, zero_shot=mlm)
    cols = list(both.columns)
    assert cols[cols.index("delta") + 1] == "llr" and {"p_ref", "logOR", "mlm_p_ref", "llr_note"} <= set(cols)
    assert np.allclose(both.llr.to_numpy()[:1], zero_shot_scores(mlm, seqs, variants).llr.to_numpy()[:1])
    assert np.isnan(both.llr.iloc[1]) and both.llr_note.iloc[1].startswith("indel")
    alone = variant_table(None, seqs, variants, zero_shot=mlm)
    assert "delta" not in alone.columns and "llr" in alone.columns
    with pytest.raises(InputError, match="a classifier or a masked LM"):
        variant_table(None, seqs, variants)


def test_lens_stack_and_set_figures_hold_the_data():
    import pandas as pd

    from core.reports import lens_figures as lf
    from core.reports.dependency import plotly_dependency
    from core.reports.figures import close, figure_bytes

    rows = [
        lf.StackRow("attention", "attention (x), forward", "attention", np.arange(10.0)),
        lf.StackRow("ism", "ISM (maxabs), forward", "max |Δp|", np.ones(10), "ρ 0.50"),
    ]
    fig = lf.plotly_lens_stack("ACGTACGTAC", rows, "s: 2 lenses, forward", [(2, 5)])
    assert [a.text for a in fig.layout.annotations] == [
        "<b>attention</b>: attention (x), forward<br>attention",
        "<b>ism</b>: ISM (maxabs), forward<br>max |Δp| · ρ 0.50",
    ]
    assert rows[1].title == "ISM (maxabs), forward · max |Δp| · ρ 0.50"  # one line in static figures
    assert list(fig.data[1].y) == [1.0] * 10 and fig.layout.xaxis2.title.text == "position (bp, 0-based)"
    assert [(s.x0, s.x1) for s in fig.layout.shapes] == [(1.5, 4.5)] * 2  # the site, shaded in every panel
    m = lf.lens_stack_figure("ACGTACGTAC", rows, "t", [(2, 5)])
    assert figure_bytes(m, "png")[:4] == b"\x89PNG"
    close(m)
    df = pd.DataFrame(
        {"kmer": ["AAA", "CCC"], "count_pos": [5, 3], "count_neg": [1, 4], "mean_score_pos": [1.0, 0.1],
         "mean_score_neg": [0.2, 0.3], "auc": [0.9, 0.3], "p": [0.01, 0.2], "q": [0.02, 0.2]}
    )  # fmt: skip
    bars = lf.plotly_kmer_contrast(df, "t")
    assert list(bars.data[0].y) == ["CCC", "AAA"] and list(bars.data[0].x) == [0.3, 0.9]  # best (smallest p) on top
    dep = plotly_dependency(np.zeros((4, 4)), "ACGT", "d", first=30)
    assert list(dep.data[0].x) == [30, 31, 32, 33] and dep.layout.xaxis.range == (29.5, 33.5)
