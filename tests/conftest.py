import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data"
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(scope="session")
def demo_model():
    from core.model.loading import load_model

    return load_model("demo", device="cpu")


@pytest.fixture(scope="session")
def sample():
    return SAMPLE


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A random DNABERT-6 classifier with a short window (64 positions) so long-sequence windows are cheap."""
    from checkpoints import make_dnabert_checkpoint

    from core.model.loading import load_model

    path = make_dnabert_checkpoint(tmp_path_factory.mktemp("tiny6"), k=6, max_pos=64, hidden=16, heads=2)
    return load_model(str(path), device="cpu")
