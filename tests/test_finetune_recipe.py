"""Fine-tuning metrics (issue 14, item 6): --test gives held-out accuracy, F1, MCC, AUROC and AUPRC; a degenerate
model ends with a warning; the README's small-data recipe gives a model that is not degenerate."""

import json
import shlex
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.train.common import classification_metrics

README = Path(__file__).resolve().parent.parent / "README.md"


def test_auprc_by_hand():
    y = np.array([1, 0, 1, 0, 0])
    p1 = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    # ranked 1, 0, 1, 0, 0: precision at each positive 1/1 and 2/3 -> AP = (1 + 2/3) / 2
    m = classification_metrics(y, np.stack([1 - p1, p1], axis=1))
    assert m["auprc"] == round((1 + 2 / 3) / 2, 4)


def _table(path, rng, n):
    rows = ["sequence\tlabel"] + ["".join(rng.choice(list("ACGT"), 40)) + f"\t{i % 2}" for i in range(n)]
    path.write_text("\n".join(rows) + "\n")
    return path


def test_test_metrics_and_degenerate_warning_from_the_cli(tmp_path, capsys):
    rng = np.random.default_rng(0)
    train, test = _table(tmp_path / "train.tsv", rng, 40), _table(tmp_path / "test.tsv", rng, 30)
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2}))
    out = tmp_path / "m"
    args = ["finetune", "--train", str(train), "--test", str(test), "--from-scratch", "--config", str(cfg)]
    assert main([*args, "--epochs", "1", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    metrics = json.loads((out / "training_metrics.json").read_text())
    t = metrics["test"]
    assert set(t) >= {"accuracy", "f1", "mcc", "auroc", "auprc"} and t["n"] == 30
    assert f"test accuracy {t['accuracy']}" in err and f"AUPRC {t['auprc']}" in err
    # random labels: nothing to learn, so the run must not end in a silent "saved"
    assert "dnalens: warning: the model is degenerate" in err and "--epochs" in err
    assert metrics["warning"].startswith("the model is degenerate")


def _readme_command(startswith: str) -> list[str]:
    """The README's shell command that starts with ``startswith`` (continuation lines joined, comment cut)."""
    text = README.read_text()
    i = text.index(startswith)
    lines = []
    for line in text[i:].splitlines():
        lines.append(line.split("  #")[0].rstrip().removesuffix("\\"))
        if not line.split("  #")[0].rstrip().endswith("\\"):
            break
    return shlex.split(" ".join(lines))


@pytest.mark.slow
def test_readme_small_data_recipe_is_not_degenerate(tmp_path, sample, capsys):
    cmd = _readme_command("dnalens finetune --positives sample_data/demo_positives.fa")
    root = sample.parent
    args = [str(root / a) if a.startswith("sample_data/") else a for a in cmd[1:]]
    args[args.index("--out") + 1] = str(tmp_path / "small")
    assert "--test" in args and args[args.index("--epochs") + 1] == "20"
    assert main(args) == 0
    err = capsys.readouterr().err
    m = json.loads((tmp_path / "small" / "training_metrics.json").read_text())["test"]
    assert m["n"] == 2000 and m["mcc"] > 0.3 and m["auroc"] > 0.7, m
    assert "degenerate" not in err
    # the demo recipe's single epoch on the same few hundred sequences is the degenerate case the README warns of
    one = [a for a in args]
    one[one.index("--epochs") + 1] = "1"
    one[one.index("--batch-size") + 1] = "64"
    one[one.index("--out") + 1] = str(tmp_path / "one")
    assert main(one) == 0
    assert "dnalens: warning: the model is degenerate" in capsys.readouterr().err
