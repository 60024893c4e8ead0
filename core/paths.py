"""Where dnalens finds its shipped files: the demo models and the sample data travel inside the package
(``core/assets``), so an installed wheel works as well as a source checkout. ``models/`` (fine-tuned outputs the
dashboard lists) and the npm-installed JavaScript live beside a checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ASSETS = PACKAGE_DIR / "assets"
DEMO_MODEL_DIR = ASSETS / "demo_model"
DEMO_MLM_DIR = ASSETS / "demo_mlm"
SAMPLE_DATA = ASSETS / "sample_data"
PROJECT_ROOT = PACKAGE_DIR.parent
MODELS_DIR = PROJECT_ROOT / "models"
JS_ROOT = PROJECT_ROOT / "assets" / "js" / "node_modules"
