"""Small things a new user saw: singular "sequence", sorted layers in lens titles, the device message in the GUI's
words, the layer × head grid's y values, and a dependency map's x axis that spans the map only."""

from pathlib import Path

import numpy as np
import pytest

APP = str(Path(__file__).resolve().parent.parent / "dashboard" / "app.py")


def test_layer_head_grid_shows_y_values_on_its_first_column():
    from core.reports.figures import plotly_grid

    grid = np.random.default_rng(0).random((2, 3, 10))
    fig = plotly_grid(grid, "t").to_dict()["layout"]
    first = [fig["yaxis"], fig["yaxis4"]]  # column 1 of rows 1 and 2
    assert all(ax["showticklabels"] is True for ax in first)
    assert [fig[f"yaxis{i}"]["showticklabels"] for i in (2, 3, 5, 6)] == [False] * 4
    assert fig["yaxis2"]["matches"] == "y" and fig["yaxis5"]["matches"] == "y4"  # heads of a layer: one scale


def test_dependency_map_axes_span_the_map():
    from core.reports.dependency import plotly_dependency

    fig = plotly_dependency(np.zeros((60, 60)), "ACGT" * 15, "t", first=10).to_dict()["layout"]
    assert fig["xaxis"]["range"] == [9.5, 69.5] and fig["xaxis"]["constrain"] == "domain"
    assert fig["yaxis"]["range"] == [69.5, 9.5] and fig["yaxis"]["constrain"] == "domain"


def test_cuda_without_a_gpu_says_choose_cpu():
    import torch

    from core.errors import ModelError
    from core.model.loading import resolve_device

    if torch.cuda.is_available():
        pytest.skip("a GPU is here")
    with pytest.raises(ModelError, match=r"choose cpu \(device cpu in the dashboard"):
        resolve_device("cuda")


@pytest.mark.slow
def test_one_pasted_sequence_and_sorted_layers(tmp_path):
    from checkpoints import make_dnabert_checkpoint
    from streamlit.testing.v1 import AppTest

    path = make_dnabert_checkpoint(tmp_path, k=6, layers=2, hidden=16, heads=2, max_pos=64)
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["model_name"] = str(path)
    at.switch_page("views/sequences.py")
    at.run()
    at.text_area(key="paste_text").input(">one\n" + "ACGT" * 10 + "\n")
    at.button(key="load_paste").click().run()
    assert any(s.value == "Loaded 1 sequence from pasted text." for s in at.success)
    at.selectbox(key="att_recipe").set_value("custom").run()
    at.multiselect(key="att_layers").set_value([1, 0]).run()
    lens = at.session_state["lens"]
    assert lens.layers == (0, 1) and "layers 0,1" in lens.describe()
