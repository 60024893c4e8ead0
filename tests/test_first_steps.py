"""A new user's first steps (issue 14, items 16-17): `dnalens train-demo` writes where the user says and never over
the shipped demo assets; after the README's first command, `dnalens` runs in a new shell the way the README says."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli import main
from core.paths import ASSETS, DEMO_MODEL_DIR

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def test_train_demo_default_folder_is_outside_the_package():
    from core.cli.parser import build_parser

    out = build_parser().parse_args(["train-demo"]).out
    assert out == "demo_model" and not (Path.cwd() / out).resolve().is_relative_to(ASSETS.resolve())


@pytest.mark.parametrize("target", ["out", "sample-data"])
def test_train_demo_refuses_the_shipped_assets(tmp_path, capsys, target):
    before = {p.name: p.stat().st_mtime_ns for p in DEMO_MODEL_DIR.iterdir()}
    dest = {"out": str(DEMO_MODEL_DIR), "sample-data": str(ROOT / "sample_data")}[target]  # sample_data: a symlink
    args = ["train-demo", "--out", str(tmp_path / "m"), "--epochs", "1", "--per-epoch", "64"]
    args += [f"--{target}", dest]
    assert main(args) == 2
    assert "shipped demo data inside the package" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in DEMO_MODEL_DIR.iterdir()} == before
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_train_demo_writes_the_folder_the_user_names(tmp_path, capsys):
    from core.model.loading import load_model

    out = tmp_path / "my_demo"
    assert main(["train-demo", "--out", str(out), "--epochs", "1", "--per-epoch", "256"]) == 0
    assert f"saved the demo model to {out}" in capsys.readouterr().err
    assert load_model(str(out)).has_classifier


def test_readme_says_how_dnalens_runs_in_a_new_shell():
    """The README's first `dnalens` command comes after the line that puts it on PATH, and that line works in a
    new shell whose PATH knows nothing of the virtual environment."""
    text = README.read_text()
    activate = "source .venv/bin/activate"
    assert activate in text
    first_command = min(text.index(f"\n{cmd}") for cmd in ("dnalens ", "make app") if f"\n{cmd}" in text)
    assert text.index("\ndnalens ") > text.index(activate) > first_command
    venv = Path(sys.executable).parent.parent
    if not (venv / "bin" / "activate").exists():
        pytest.skip("not running from the project's virtual environment")
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp")}
    new_shell = subprocess.run(["bash", "-c", "command -v dnalens"], env=env, capture_output=True, text=True)
    assert new_shell.returncode != 0  # not on PATH by itself: the README must say how
    res = subprocess.run(
        ["bash", "-c", f"source {venv}/bin/activate && dnalens --help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert res.returncode == 0 and "attention" in res.stdout, res.stderr
