"""Colour by a metadata column: a number column gives a figure with a colour bar (Viridis, missing
values grey and said in the hover), a category column a legend (as classes); every point's hover
carries a few columns, numbers to 3 significant digits. Asserted on the plotly figure's content."""
from __future__ import annotations

import html

import numpy as np

from aecore.data import Dataset
from aecore.pictures.columns import category_labels, describe, format_values
from aecore.pictures.plots import PALETTE, latent_scatter
from ui.colourings import COLUMN, greyed_labels, options, scatter_colours

N = 40


def _data(columns: dict) -> Dataset:
    rng = np.random.default_rng(0)
    return Dataset("toy", "test", rng.integers(0, 256, (N, 8, 8), dtype=np.uint8), np.arange(N) % 4,
                       ("zero", "one", "two", "three"), "tmp", columns=columns)


COLUMNS = {"size": np.where(np.arange(N) % 10 == 3, np.nan, np.linspace(0.001234, 123.456, N)),
           "shape": np.array(["square", "heart", "ellipse", "square"] * (N // 4)),
           "angle": np.arange(N, dtype=np.int64) * 9}


def _figure(colour: str, shown=None):
    data = _data(COLUMNS)
    kwargs = scatter_colours(data, colour)
    kwargs["labels"], shown = greyed_labels(kwargs, data, shown)
    xy = np.random.default_rng(1).normal(size=(N, 2))
    return latent_scatter(xy, np.arange(N), **kwargs, shown=shown)


def test_a_number_column_colours_on_a_colour_bar_with_missing_values_grey():
    fig = _figure(COLUMN + "size")
    missing, coloured = fig.data
    assert coloured.marker.colorbar.title.text == "size" and coloured.marker.colorscale[0][1] == "#440154"  # Viridis
    assert np.allclose(coloured.marker.color, COLUMNS["size"][np.isfinite(COLUMNS["size"])])
    assert sorted(missing.customdata) == [3, 13, 23, 33] and missing.marker.colorbar.title.text is None
    assert missing.name == "no size" and "size missing" in missing.hovertemplate
    assert "%{marker.color:.3g}" in coloured.hovertemplate  # the value to 3 significant digits
    assert not fig.layout.legend.title.text or fig.layout.legend.title.text == "class"


def test_a_category_column_colours_by_category_with_a_legend():
    fig = _figure(COLUMN + "shape")
    assert [t.name for t in fig.data] == ["ellipse", "heart", "square"]
    assert fig.layout.legend.title.text == "shape"
    assert all(t.marker.colorbar.title.text is None for t in fig.data)
    assert sorted(fig.data[2].customdata) == [i for i in range(N) if i % 4 in (0, 3)]
    assert "class zero" in fig.data[2].text[0] and "class three" in fig.data[2].text[1]  # the class is in the hover


def test_categories_named_after_colours_are_drawn_in_those_colours():
    data = Dataset("toy", "test", np.zeros((N, 8, 8), np.uint8), np.arange(N) % 4, ("zero", "one", "two", "three"),
                   "tmp", columns={"colour": np.array(["red", "Blue", "yellow", "red"] * (N // 4)),
                                   "shape": COLUMNS["shape"]})
    xy = np.zeros((N, 2))
    by_colour = latent_scatter(xy, np.arange(N), **scatter_colours(data, COLUMN + "colour"))
    assert {t.name: t.marker.color for t in by_colour.data} == {"Blue": "#0000ff", "red": "#ff0000",
                                                                "yellow": "#ffff00"}
    by_shape = latent_scatter(xy, np.arange(N), **scatter_colours(data, COLUMN + "shape"))
    assert [t.marker.color for t in by_shape.data] == PALETTE[:3]  # other names: the palette, in order
    by_class = latent_scatter(xy, np.arange(N), **scatter_colours(data, "class"))
    assert [t.marker.color for t in by_class.data] == PALETTE[:4]


def test_the_class_filter_greys_other_classes_under_a_category_colouring():
    fig = _figure(COLUMN + "shape", shown=(0,))
    grey, *coloured = fig.data
    assert grey.name == "other classes" and sorted(grey.customdata) == [i for i in range(N) if i % 4]
    assert {t.name: len(t.customdata) for t in coloured} == {"ellipse": 0, "heart": 0, "square": N // 4}
    # class zero is all squares; the legend keeps every category (and its colour)


def test_hover_carries_a_few_columns_numbers_to_three_significant_digits():
    fig = _figure("class")
    zero = fig.data[0]  # class zero: points 0, 4, 8, ...
    assert [t.name for t in fig.data] == ["zero", "one", "two", "three"]
    assert zero.text[1] == "<br>size 12.7<br>shape square<br>angle 36"  # point 4
    assert "%{text}" in zero.hovertemplate
    assert "<br>size missing" in fig.data[3].text[0]  # point 3 has no size
    assert _figure(COLUMN + "size").data[1].text[0] == "zero<br>shape square<br>angle 0"  # no second size


def test_without_columns_the_map_is_as_before():
    data = _data({})
    kwargs = scatter_colours(data, "class")
    assert kwargs["hover"] is None and kwargs["labels"] is data.labels
    fig = latent_scatter(np.zeros((N, 2)), np.arange(N), **kwargs)
    assert fig.data[0].text is None and fig.data[0].hovertemplate == "class zero<br>#%{customdata}<extra></extra>"


def test_colour_by_offers_class_each_column_then_the_measures():
    shown = options(_data({**COLUMNS, "reconstruction error": np.zeros(N)}))
    assert list(shown.values()) == ["class", "size", "shape", "angle", "reconstruction error (column)",
                                    "reconstruction error", "neighbour preservation"]
    assert list(shown)[1] == COLUMN + "size" and len(set(shown.values())) == len(shown)


def test_column_names_and_values_are_text_not_markup():
    data = _data({"<b>x</b>": np.array(["%{customdata}", "$y$"] * (N // 2))})
    fig = latent_scatter(np.zeros((N, 2)), np.arange(N), **scatter_colours(data, "class"))
    assert html.unescape(fig.data[0].text[0]) == "<br><b>x</b> %{customdata}"
    assert "<b>" not in fig.data[0].text[0] and "%{" not in fig.data[0].text[0] and "$" not in fig.data[1].text[0]
    fig = latent_scatter(np.zeros((N, 2)), np.arange(N), **scatter_colours(data, COLUMN + "<b>x</b>"))
    assert html.unescape(fig.layout.legend.title.text) == "<b>x</b>" and "<b>" not in fig.layout.legend.title.text


def test_values_read_as_people_write_them():
    assert format_values(np.array([0.000123456, 1234.5, 12.0, np.nan])).tolist() == ["0.000123", "1.23e+03", "12",
                                                                                     "missing"]
    assert format_values(np.array([12345, -3], np.int64)).tolist() == ["12345", "-3"]
    assert format_values(np.array(["a", ""])).tolist() == ["a", "missing"]
    assert describe(COLUMNS, 3) == "size missing, shape square, angle 27"
    assert describe(COLUMNS, 3, first="angle", limit=2) == "angle 27, size missing"


def test_many_categories_keep_the_commonest_and_share_other():
    values = np.array([f"c{i:02d}" for i in range(15)] + ["c07"] * 5 + ["c11"] * 3)
    labels, names = category_labels(values, limit=4)
    assert names == ["c00", "c07", "c11", "other (12 values)"]
    assert labels[values == "c07"].tolist() == [1] * 6 and set(labels[~np.isin(values, ["c00", "c07", "c11"])]) == {3}
