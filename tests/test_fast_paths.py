"""The fast paths of issue #16 give what the slow ones gave: BH and the hypergeometric tail bit for bit as statsmodels
and scipy.stats, logos with logomaker's letters, the fast PNG writer as a full rendering, the JASPAR cache as
pyjaspar's matrices, and a model-free ``dnalens motifs`` that never imports the model stack."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_benjamini_hochberg_is_statsmodels_bit_for_bit():
    from statsmodels.stats.multitest import multipletests

    from core.motifs.stats import benjamini_hochberg

    rng = np.random.default_rng(1)
    for _ in range(25):
        n = int(rng.integers(1, 1000))
        p = rng.random(n) ** rng.uniform(0.5, 8)
        p[rng.random(n) < 0.2] = p[0]  # ties
        p[rng.random(n) < 0.05] = 1.0
        p[rng.random(n) < 0.05] = 0.0
        assert np.array_equal(benjamini_hochberg(p), multipletests(p, alpha=0.05, method="fdr_bh")[1])
    assert benjamini_hochberg(np.zeros(0)).shape == (0,)


def test_hypergeometric_tail_is_scipy_stats_bit_for_bit():
    from scipy.stats import hypergeom

    from core.motifs.stats import hypergeom_sf

    rng = np.random.default_rng(0)
    for _ in range(25):
        M = int(rng.integers(1, 20000))
        K = int(rng.integers(0, M + 1))
        n = rng.integers(0, M + 1, size=int(rng.integers(1, 500)))
        x = rng.integers(-2, np.minimum(n, K) + 3)  # below, inside and above the support
        assert np.array_equal(hypergeom_sf(x - 1, M, K, n), hypergeom.sf(x - 1, M, K, n), equal_nan=True)
    assert hypergeom_sf(np.array([2, 1, -1]), 7, 4, np.array([3, 3, 1])).tolist() == [
        hypergeom.sf(2, 7, 4, 3),
        hypergeom.sf(1, 7, 4, 3),
        1.0,
    ]


def _ppm(seed=0, width=12):
    rng = np.random.default_rng(seed)
    ppm = rng.dirichlet(np.full(4, 0.3), size=width)
    ppm[3] = [0.25, 0.25, 0.25, 0.25]  # a column with no information: zero-height letters in bits
    return (ppm * 20 + 0.25) / 21


@pytest.mark.parametrize("mode", ["information", "probability"])
def test_logo_letters_are_logomakers(mode):
    """Every letter covers the box logomaker's glyph covers (same heights, stacking order, widths)."""
    import logomaker
    import pandas as pd
    from matplotlib.figure import Figure

    from core.reports.logos import letter_patches, logo_heights

    ppm = _ppm()
    df = pd.DataFrame(ppm, columns=list("ACGT"))
    if mode == "information":
        df = logomaker.transform_matrix(df, from_type="probability", to_type="information")
    ref = logomaker.Logo(df, ax=Figure().add_subplot(), font_name="DejaVu Sans Mono")
    heights = logo_heights(ppm, mode)
    assert np.allclose(heights, df.to_numpy(), atol=1e-12)
    from matplotlib.colors import to_rgb
    from matplotlib.path import Path as MplPath
    from matplotlib.transforms import Bbox

    from core.reports.logos import BASE_COLORS

    paths = {p.get_facecolor()[:3]: p.get_path() for p in letter_patches(heights)}
    checked = 0
    for b in "ACGT":
        path = paths[to_rgb(BASE_COLORS[b])]
        starts = list(np.flatnonzero(path.codes == MplPath.MOVETO)) + [len(path.codes)]
        boxes: dict[int, list] = {}
        for s, e in zip(starts[:-1], starts[1:]):  # one contour at a time, placed in its column
            box = MplPath(path.vertices[s:e], path.codes[s:e]).get_extents()
            boxes.setdefault(round((box.x0 + box.x1) / 2), []).append(box)
        for pos in range(len(ppm)):
            glyph = ref.glyph_df.loc[pos, b]
            if glyph.patch is None:  # zero height: logomaker draws nothing, neither do we
                assert pos not in boxes
                continue
            want, got = glyph.patch.get_path().get_extents(), Bbox.union(boxes[pos])
            assert np.allclose(got.get_points(), want.get_points(), atol=1e-9), (b, pos, got, want)
            checked += 1
    assert checked > 3 * len(ppm)


@pytest.mark.slow
def test_fast_pngs_are_the_full_rendering(tmp_path):
    """write_logo_pngs paints letters and titles on a pre-drawn frame: same size and (to antialiasing) the same
    pixels as save_figure(logo_figure(...))."""
    from PIL import Image

    from core.reports.figures import save_figure
    from core.reports.logos import logo_figure, write_logo_pngs

    logos = [
        (_ppm(0, 24), "information", "GCCACCAGGGGGA (29 instances)", tmp_path / "a.png"),
        (_ppm(1, 24), "probability", "TATAAA (77 instances)", tmp_path / "b.png"),
        (_ppm(2, 5), "information", "a title much wider than this small logo (3 instances)", tmp_path / "c.png"),
    ]
    assert write_logo_pngs(logos, workers=2) == [p for *_, p in logos]
    for ppm, mode, title, path in logos:
        full = save_figure(logo_figure(ppm, mode, title), tmp_path / f"full_{path.name}")
        fast, ref = (np.asarray(Image.open(p).convert("RGB"), dtype=int) for p in (path, full))
        assert fast.shape == ref.shape
        diff = np.abs(fast - ref).max(axis=2)
        assert diff.mean() < 3 and (diff > 64).mean() < 0.02, (path.name, diff.mean(), (diff > 64).mean())
        assert Image.open(path).info["dpi"] == pytest.approx((200, 200), abs=0.01)


def test_png_bytes_decode_to_the_same_pixels():
    import io

    from PIL import Image

    from core.reports.logos import png_bytes

    for channels, mode in ((3, "RGB"), (4, "RGBA")):
        pixels = np.random.default_rng(channels).integers(0, 256, size=(37, 53, channels), dtype=np.uint8)
        image = Image.open(io.BytesIO(png_bytes(pixels, 200)))
        assert image.mode == mode and np.array_equal(np.asarray(image), pixels)
        assert image.info["dpi"] == pytest.approx((200, 200), abs=0.01)


@pytest.mark.slow  # over 1 s on 2 cores: the fast tier stays under a minute
def test_jaspar_cache_is_pyjaspars_matrices_and_rebuilds(tmp_path, monkeypatch):
    from core.motifs import jaspar

    monkeypatch.setenv("DNALENS_CACHE_DIR", str(tmp_path))
    args = ("JASPAR2026", "CORE", "urochordates")  # a small group: ~100 matrices
    jaspar.load_jaspar.cache_clear()
    direct = jaspar.fetch_jaspar(*args)
    built = jaspar.load_jaspar(*args)  # no cache yet: built from pyjaspar and written
    (npz,) = tmp_path.glob("jaspar/pyjaspar-*/JASPAR2026-CORE-urochordates.npz")

    def same(a, b):
        return len(a) == len(b) > 50 and all(
            x.id == y.id and x.name == y.name and np.array_equal(x.ppm, y.ppm) for x, y in zip(a, b)
        )

    assert same(built, direct)
    jaspar.load_jaspar.cache_clear()
    with monkeypatch.context() as m:  # the second load reads the file: pyjaspar is not asked
        m.setattr(jaspar, "fetch_jaspar", lambda *a: pytest.fail("pyjaspar read although the cache exists"))
        assert same(jaspar.load_jaspar(*args), direct)
    npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])  # a half-written file
    jaspar.load_jaspar.cache_clear()
    assert same(jaspar.load_jaspar(*args), direct)
    assert jaspar._read_matrices(npz) is not None  # rewritten whole
    jaspar.load_jaspar.cache_clear()
    releases = next(tmp_path.glob("jaspar/pyjaspar-*/releases.txt"))
    assert "JASPAR2026" in releases.read_text().split()
    releases.write_text("")
    assert "JASPAR2024" in jaspar.jaspar_releases() and "JASPAR2024" in releases.read_text()
    jaspar.load_jaspar.cache_clear()


@pytest.mark.slow  # over 1 s on 2 cores: the fast tier stays under a minute
def test_model_free_motifs_never_import_the_model_stack(tmp_path):
    """``dnalens motifs --scores ... --no-jaspar`` (in a fresh interpreter) imports neither torch/transformers nor
    the slow-to-import libraries the scores path does not need."""
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), 60)) for _ in range(30)]
    for i in range(0, 30, 2):
        seqs[i] = seqs[i][:20] + "TATAAAAGGC" + seqs[i][30:]
    (tmp_path / "pos.fa").write_text("".join(f">p{i}\n{s}\n" for i, s in enumerate(seqs)))
    scores = rng.random((30, 60)) * 0.1
    scores[::2, 20:30] += 1
    np.save(tmp_path / "s.npy", scores)
    code = (
        "import sys; from core.cli.main import main; "
        f"rc = main(['motifs', {str(tmp_path / 'pos.fa')!r}, '--scores', {str(tmp_path / 's.npy')!r}, "
        f"'--no-jaspar', '--out', {str(tmp_path / 'out')!r}]); "
        "heavy = [m for m in ('torch', 'transformers', 'scipy.stats', 'statsmodels', 'logomaker', 'memelite', "
        "'pyjaspar', 'plotly', 'matplotlib.pyplot', 'pandas') if m in sys.modules]; print(rc, ','.join(heavy))"
    )
    env = dict(os.environ, DNALENS_LOGO_HELPER="off")  # logos drawn in this process (the helper has its own test)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["0"], f"the model-free motifs run imported {out.stdout.split()[1:]}"
    assert (tmp_path / "out" / "motifs.csv").read_text().splitlines()[1].startswith("TATAAAAGGC,")
    logos = sorted(p.name for p in (tmp_path / "out" / "logos").iterdir())  # one PNG per motif unless asked
    assert logos == ["TATAAAAGGC_information.png"]


@pytest.mark.slow
@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_logo_worker_writes_the_logos_and_falls_back_when_its_helper_is_gone(tmp_path, monkeypatch, start):
    from PIL import Image

    from core.reports.logos import LogoWorker

    monkeypatch.setenv("DNALENS_LOGO_START", start)  # a forked helper (the CLI) and a new interpreter (elsewhere)

    logos = [
        (_ppm(0, 24), mode, "A (3 instances)", tmp_path / "w" / f"{mode}.png")
        for mode in ("information", "probability")
    ]
    with LogoWorker(24) as worker:  # the helper process draws them
        worker.start(logos)
        assert worker.finish() == [p for *_, p in logos]
    assert all(Image.open(p).size[0] > 1000 for *_, p in logos)
    worker = LogoWorker(24)
    worker.process.terminate()  # a helper that died: this process writes the logos itself
    worker.process.join()
    again = [(ppm, mode, title, tmp_path / "x" / p.name) for ppm, mode, title, p in logos]
    worker.start(again)
    assert worker.finish() == [p for *_, p in again]
    for (*_, a), (*_, b) in zip(logos, again):
        assert np.array_equal(np.asarray(Image.open(a)), np.asarray(Image.open(b)))


@pytest.mark.slow
def test_logo_helper_splits_the_logos_with_a_forked_sibling_and_covers_for_it(tmp_path, monkeypatch):
    """The helper forks a copy of itself that writes every other logo (both CPUs paint while the main process
    waits); when that copy fails, the helper writes its share. Same files either way."""
    from core.reports import logos as logo_module

    if not sys.platform.startswith("linux") or (os.cpu_count() or 1) < 2:
        pytest.skip("the sibling runs on Linux with two or more CPUs")
    monkeypatch.setenv("DNALENS_LOGO_START", "fork")  # the forked helper inherits the wrapper below
    real = logo_module.write_logo_pngs

    def recording(job, *args, **kwargs):
        if any(title == "sibling fails" for _, _, title, _ in job) and os.getppid() != test_pid:  # in the sibling
            raise RuntimeError("a failing sibling")
        for *_, path in job:
            (tmp_path / f"{Path(path).stem}.pid").write_text(str(os.getpid()))
        return real(job, *args, **kwargs)

    monkeypatch.setattr(logo_module, "write_logo_pngs", recording)
    test_pid = os.getpid()
    for round_, fail in enumerate((False, True)):
        logos = [
            (
                _ppm(i, 12),
                "information",
                "sibling fails" if fail and i == 1 else f"m{i}",
                tmp_path / f"r{round_}_{i}.png",
            )
            for i in range(4)
        ]
        with logo_module.LogoWorker(12) as worker:
            helper = str(worker.process.pid)
            worker.start(logos)
            assert worker.finish() == [p for *_, p in logos]
        writers = [(tmp_path / f"r{round_}_{i}.pid").read_text() for i in range(4)]
        assert all(p.stat().st_size > 1000 for *_, p in logos)
        assert writers[0] == writers[2] == helper
        if fail:  # the sibling's share written by the helper after the sibling failed
            assert writers[1] == writers[3] == helper
        else:
            assert writers[1] == writers[3] not in (helper, str(test_pid))


def test_logo_helper_forks_only_while_this_process_has_one_thread(monkeypatch):
    import sys
    import threading

    from core.reports.logos import _start_method

    monkeypatch.delenv("DNALENS_LOGO_START", raising=False)
    alone = threading.active_count() == 1 and "torch" not in sys.modules
    assert _start_method() == ("fork" if alone and sys.platform.startswith("linux") else "spawn")
    monkeypatch.setitem(sys.modules, "torch", sys.modules.get("torch", object()))
    assert _start_method() == "spawn"  # a process that has used torch: its thread pools do not fork well
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _start_method() == "spawn"  # e.g. the dashboard's server: a new interpreter, never a fork
    finally:
        stop.set()
        other.join()


def test_logo_modes_on_request(tmp_path, capsys):
    """One information logo per motif by default (as find_motifs.py draws one); probability logos on request."""
    from core.cli.main import main

    rng = np.random.default_rng(1)
    seqs = ["".join(rng.choice(list("ACGT"), 60)) for _ in range(30)]
    for i in range(0, 30, 2):
        seqs[i] = seqs[i][:20] + "TATAAAAGGC" + seqs[i][30:]
    (tmp_path / "pos.fa").write_text("".join(f">p{i}\n{s}\n" for i, s in enumerate(seqs)))
    scores = rng.random((30, 60)) * 0.1
    scores[::2, 20:30] += 1
    np.save(tmp_path / "s.npy", scores)
    base = ["motifs", str(tmp_path / "pos.fa"), "--scores", str(tmp_path / "s.npy"), "--no-jaspar"]
    assert main([*base, "--logo-modes", "information,probability", "--out", str(tmp_path / "o")]) == 0
    assert sorted(p.name for p in (tmp_path / "o" / "logos").iterdir()) == [
        "TATAAAAGGC_information.png",
        "TATAAAAGGC_probability.png",
    ]
    assert main([*base, "--logo-modes", "bits", "--out", str(tmp_path / "x")]) == 2
    assert "--logo-modes takes information and/or probability" in capsys.readouterr().err


def test_console_script_exits_with_mains_status_and_spares_the_exit_collections(monkeypatch):
    import gc
    import importlib

    import tomllib

    cli_main = importlib.import_module("core.cli.main")  # the module (core.cli's ``main`` is the function)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["dnalens"] == "core.cli.main:run"
    monkeypatch.setattr(cli_main, "main", lambda argv=None: 3)
    try:
        with pytest.raises(SystemExit) as exit_:
            cli_main.run()
        assert exit_.value.code == 3
        assert gc.get_freeze_count() > 0  # what the run built is out of the exit collections' reach
    finally:
        gc.unfreeze()
