"""Honest motif tables (issue 14, item 5): low support flagged by a documented rule, consensus trimmed to the
informative core, a JASPAR name only for a significant match, supported motifs first."""

import json

import numpy as np
import pandas as pd
import pytest

from core.motifs.discover import MIN_SUPPORT, Motif, MotifResult
from core.motifs.params import MotifParams
from core.motifs.pwm import count_matrix


def _motif(name, windows, q=1e-6):
    inst = pd.DataFrame(
        {
            "seq_index": list(range(len(windows))),
            "sequence_id": [f"s{i}" for i in range(len(windows))],
            "start": 0,
            "end": len(windows[0]),
            "strand": "+",
            "core_start": 0,
            "core_end": len(windows[0]),
            "window": windows,
        }
    )
    return Motif(name, name, "", inst, count_matrix(windows), 1e-8, q)


def _planted(rng, n, core="TATAAAAG", width=24):
    out = []
    for _ in range(n):
        w = list(rng.choice(list("ACGT"), width))
        w[8 : 8 + len(core)] = core
        out.append("".join(w))
    return out


def _result(motifs):
    from core.motifs.pwm import consensus

    for m in motifs:
        m.consensus = consensus(m.ppm)
    return MotifResult(motifs, {}, MotifParams(), pd.DataFrame())


def test_low_support_rule_and_trimmed_consensus():
    rng = np.random.default_rng(0)
    few = _motif("few", _planted(rng, 3))  # 3 instances: every column looks informative by chance
    noise = _motif("noise", ["".join(rng.choice(list("ACGT"), 24)) for _ in range(40)])
    good = _motif("good", _planted(rng, 40))
    table = _result([few, noise, good]).table()
    row = table.set_index("name")
    assert row.loc["few", "low_support"] and "3 instances" in row.loc["few", "support_issue"]
    assert len(few.ppm) == 24 and few.core[1] - few.core[0] > 20  # the old, finding-like 22-24-letter name
    assert row.loc["noise", "low_support"] and "positions of >= 1 bit" in row.loc["noise", "support_issue"]
    assert not row.loc["good", "low_support"] and row.loc["good", "support_issue"] == ""
    assert row.loc["good", "consensus"] == "TATAAAAG"  # flanks trimmed: only the informative core is shown
    assert MIN_SUPPORT == 5


def test_summary_names_after_jaspar_only_when_significant_and_sorts_supported_first():
    from core.reports.motifs import motif_summary

    rng = np.random.default_rng(1)
    weak = _motif("weak", _planted(rng, 4), q=1e-9)  # the best enrichment, but 4 instances
    tbp = _motif("tbp", _planted(rng, 60), q=1e-3)
    other = _motif("other", _planted(rng, 30, core="GGGCGCCA"), q=1e-4)
    res = _result([weak, tbp, other])
    tomtom = pd.DataFrame(
        {
            "Query_ID": ["tbp", "other", "weak"],
            "Target_ID": ["MA0108.3", "MA9999.1", "MA0001.1"],
            "Target_name": ["TBP", "NOPE", "AGL3"],
            "p-value": [1e-6, 1e-3, 1e-5],
            "q-value": [5e-4, 0.02, 1e-3],
        }
    )
    s = motif_summary(res, tomtom)
    assert s["name"].tolist() == ["other", "tbp", "weak"]  # supported first (then by q), low support last
    lab = s.set_index("name")
    assert lab.loc["tbp", "label"] == "TBP (MA0108.3)" and lab.loc["tbp", "jaspar_match"] == "TBP (MA0108.3)"
    assert lab.loc["other", "jaspar_match"] == "" and lab.loc["other", "label"] == "GGGCGCCA"  # q = 0.02: no name
    assert lab.loc["other", "best_jaspar_id"] == "MA9999.1"  # the hit itself stays visible
    assert s["low_support"].tolist() == [False, False, True]


@pytest.mark.slow
def test_cli_motifs_csv_has_the_support_columns_and_the_rule(tmp_path, sample, capsys):
    from core.cli import main

    out = tmp_path / "m"
    args = ["motifs", str(sample / "demo_positives.fa"), "--negatives", str(sample / "demo_negatives.fa")]
    assert main([*args, "--no-jaspar", "--min-n-motif", "2", "--out", str(out)]) == 0
    df = pd.read_csv(out / "motifs.csv", keep_default_na=False)
    assert {"label", "low_support", "support_issue", "jaspar_match"} <= set(df.columns)
    flags = df["low_support"].astype(str).tolist()
    assert flags == sorted(flags)  # False before True
    assert (df["instances"][df["low_support"].astype(str) == "False"] >= MIN_SUPPORT).all()
    assert "fewer than 5 instances" in json.loads((out / "stages.json").read_text())["low_support_rule"]
    assert all(len(c) < 24 for c in df["consensus"])  # trimmed, not the whole 24-bp window
