"""Small things a new user saw: singular "sequence", sorted layers in lens titles, the device message in the GUI's
words, the layer × head grid's y values, the landscape's cells (hover and click on the heatmap itself), and a
dependency map's x axis that spans the map only."""

import numpy as np
import pytest
from app_charts import dashboard_app


def test_layer_head_grid_shows_each_layer_on_its_own_scale():
    """One axis pair: a strip per layer (layer 0 on top), its heads side by side over their own positions, each strip
    on its own scale (0 at its base, ``layer l`` halfway, its largest value at its top, as y tick labels); every value of
    grid[l, h] is drawn at x = h * span + position, with its layer, head, position and value in the hover."""
    from core.reports.figures import plotly_grid

    grid = np.random.default_rng(0).random((2, 3, 10))
    grid[1] *= 0.01  # layer 1 far weaker than layer 0: still drawn over its whole strip
    f = plotly_grid(grid, "t")
    fig = f.to_dict()["layout"]
    assert "xaxis2" not in fig and "yaxis2" not in fig and not fig.get("annotations") and not fig.get("shapes")
    ys = fig["yaxis"]
    top = [f"{grid[l].max():.3g}" for l in range(2)]
    assert ys["ticktext"] == ["0", "<b>layer 0</b>", top[0], "0", "<b>layer 1</b>", top[1]]
    span = 12  # 10 positions + a gap of 2
    for l, tr in enumerate(f.data[:2]):
        base = 1 - l  # layer 0's strip above layer 1's
        assert ys["tickvals"][3 * l : 3 * l + 3] == [base, base + 0.4, base + 0.8]
        x, y, cd = np.asarray(tr.x, float), np.asarray(tr.y, float), np.asarray(tr.customdata, float)
        for h in range(3):
            part = (cd[:, 0] == h) & (cd[:, 1] >= 0)
            assert np.array_equal(cd[part, 1], np.arange(10)) and np.array_equal(x[part], h * span + np.arange(10))
            assert np.allclose(cd[part, 2], grid[l, h], rtol=1e-6)  # the hover's value: the value itself
            assert np.allclose(y[part], base + grid[l, h] / grid[l].max() * 0.8, rtol=1e-5)
        assert y[~np.isnan(y)].max() == pytest.approx(base + 0.8) and np.isnan(y[cd[:, 1] < 0]).all()
        assert f"layer {l} head %{{customdata[0]}}<br>position %{{customdata[1]}}<br>%{{customdata[2]" in (
            tr.hovertemplate
        )
    assert f.data[2].hoverinfo == "skip" and sorted(set(np.asarray(f.data[2].x))) == [11.0, 23.0]  # between heads
    text, vals = fig["xaxis"]["ticktext"], fig["xaxis"]["tickvals"]
    k = text.index("0", 1)  # head 1's position 0, drawn at its own offset, labelled 0 again
    assert text[:2] == ["0", "2"] and vals[:2] == [0, 2] and vals[k] == span
    assert text[-3:] == ["<br><b>head 0</b>", "<br><b>head 1</b>", "<br><b>head 2</b>"] and vals[-1] == 2 * span + 4.5


def test_landscape_cells_carry_hover_and_click_themselves():
    """One heatmap (no overlay trace): per cell the score (float32), the row's id as y (what a click reports), the
    base and the position in that row's sequence; the padding of a centred row has no base, position -1, no hover."""
    from core.reports.figures import plotly_landscape

    m = np.array([[0.1, 0.2, 0.3, 0.4], [np.nan, 0.5, 0.6, np.nan]])
    f = plotly_landscape(m, ["a", "b"], ["ACGT", "GT"], offsets=np.array([0, 1]), title="t")
    assert len(f.data) == 1
    tr = f.data[0]
    assert tr.type == "heatmap" and list(tr.y) == ["a", "b"] and tr.hoverongaps is False
    assert np.asarray(tr.z).dtype == np.float32 and np.allclose(tr.z, m, equal_nan=True)
    assert np.asarray(tr.text).tolist() == [["A", "C", "G", "T"], ["", "G", "T", ""]]
    assert np.asarray(tr.customdata).dtype == np.int16
    assert np.asarray(tr.customdata).tolist() == [[0, 1, 2, 3], [-1, 0, 1, -1]]
    for part in ("%{y}", "position %{customdata}", "base %{text}", "score %{z:.4f}", "click: select"):
        assert part in tr.hovertemplate
    assert f.layout.yaxis.autorange == "reversed" and f.layout.clickmode is None


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

    path = make_dnabert_checkpoint(tmp_path, k=6, layers=2, hidden=16, heads=2, max_pos=64)
    at = dashboard_app(300)
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


def test_static_landscape_names_its_rows_and_grid_shows_its_scale():
    """The PNG/SVG/PDF downloads a new user opened: the landscape of 200 rows named none of them (it showed row
    numbers), and the layer × head grid had no y values. Now the landscape names every k-th row by its id, rows at
    least 7 pt apart, and each layer's heads share a y scale shown on the layer's first panel."""
    from core.reports.figures import close, grid_figure, landscape_figure

    ids = [f"seq_{i:03d}" for i in range(200)]
    fig = landscape_figure(np.random.default_rng(0).random((200, 50)), ids, "t")
    ax = fig.axes[0]
    ticks, names = list(ax.get_yticks()), [t.get_text() for t in ax.get_yticklabels()]
    step = int(ticks[1] - ticks[0])
    assert names == [ids[int(t)] for t in ticks] and ticks[0] == 0 and step > 1
    assert fig.get_figheight() * 72 * 0.8 / (200 / step) >= 7 and ax.get_ylabel().endswith(f"one id every {step} rows)")
    close(fig)
    few = landscape_figure(np.zeros((5, 10)), ids[:5], "t")
    assert [t.get_text() for t in few.axes[0].get_yticklabels()] == ids[:5] and few.axes[0].get_ylabel() == "sequence"
    close(few)
    grid = np.random.default_rng(1).random((2, 3, 20)) * np.array([1.0, 0.1])[:, None, None]
    g = grid_figure(grid, "t")
    g.canvas.draw()
    axes = np.array(g.axes).reshape(2, 3)
    for row, top in zip(axes, (1.0, 0.1)):
        assert len({a.get_ylim() for a in row}) == 1 and row[0].get_ylim()[1] <= top * 1.1  # one scale per layer
        shown = [[t.get_text() for t in a.get_yticklabels() if t.get_visible() and t.get_text()] for a in row]
        assert len(shown[0]) >= 2 and not any(shown[1:])  # values on the first panel only
    close(g)
