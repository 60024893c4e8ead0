"""`pip install .` (not editable) gives a working `dnalens` and app: the wheel carries core, the dashboard, the
shipped model(s), the sample data and the Streamlit settings."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel built from this checkout, installed (without dependencies) into a folder of its own."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp / "dist"),
            str(ROOT),
        ],
        check=True,
        cwd=tmp,
    )
    wheel = next((tmp / "dist").glob("dnalens-*.whl"))
    target = tmp / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        cwd=tmp,
    )
    return wheel, target


def _env(target: Path) -> dict:
    return dict(os.environ, PYTHONPATH=str(target), HF_HUB_OFFLINE="1")


def test_wheel_carries_the_package_data(installed):
    wheel, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "core/assets/demo_model/model.safetensors",
        "core/assets/demo_model/vocab.txt",
        "core/assets/sample_data/demo.fa",
        "dashboard/app.py",
        "dashboard/views/attention.py",
        "dashboard/.streamlit/config.toml",
        "core/cli/main.py",
    ):
        assert needed in names, needed


def test_installed_cli_runs_from_anywhere(installed, tmp_path):
    _, target = installed
    code = "import core, dashboard; print(core.__file__); print(dashboard.__file__)"
    where = subprocess.run(
        [sys.executable, "-c", code], env=_env(target), cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.split()
    assert all(p.startswith(str(target)) for p in where), where  # the installed copy, not the checkout
    demo = target / "core" / "assets" / "sample_data" / "demo.fa"
    res = subprocess.run(
        [sys.executable, "-m", "core.cli", "predict", str(demo), "--out", "p.csv"],
        env=_env(target),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 0, res.stderr
    assert len((tmp_path / "p.csv").read_text().splitlines()) == 201


def test_installed_app_serves(installed, tmp_path):
    _, target = installed
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "app", "--headless", "--port", str(port)],
        env=_env(target),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the installed app did not start")
        html = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
        assert "<title>" in html or "streamlit" in html.lower()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
