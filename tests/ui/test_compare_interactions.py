"""Issue 15's interactions in Chromium, checked by what appears on the screen: a click on one map
of the Compare page rings the same digit on the other map, and a click on empty space of a UMAP
map decodes that spot through the map's inverse."""
import os
import re

import numpy as np
import pytest
from conftest import picked
from playwright.sync_api import expect
from test_interactions import assert_drawn, click, column_with, data_points, emptiest_spot, inside, map_points

pytestmark = pytest.mark.browser


def isolated(xy: np.ndarray, area, candidates=None) -> int:
    """The point (index into xy) farthest from every other, inside the plot area."""
    ok = np.flatnonzero(inside(xy, area, 12))
    dist = np.linalg.norm(xy[ok, None] - xy[None], axis=2)
    dist[np.arange(len(ok)), ok] = np.inf
    return int(ok[dist.min(axis=1).argmax()])


def test_a_click_on_one_compare_map_rings_the_same_digit_on_the_other(app):
    app.open("compare", "ae-2d")
    app.choose("cmp_b_ckpt", picked("vae-2d"))
    points = map_points(app, "cmp_a_map")
    xy, index = data_points(points)
    pick = isolated(xy, points["area"])
    click(app.page, *xy[pick])
    expect(app.page.get_by_text(re.compile(r"^1 selected: digits, then their reconstructions"))).to_be_visible()
    app.wait_idle()
    other = map_points(app, "cmp_b_view")
    rings = [t for t in app.widget("cmp_b_view").locator(".js-plotly-plot").evaluate(
        "gd => gd._fullData.map(t => ({name: t.name, index: Array.from(t.customdata || [])}))")
        if t["name"] == "selected on A"]
    assert [r["index"] for r in rings] == [[int(index[pick])]], rings
    assert other["traces"], "map B was not drawn"
    assert_drawn(app, app.page.locator('[data-testid="stImage"] img').first)
    assert app.errors() == []


def test_click_on_empty_space_of_a_umap_map_decodes_that_spot(app):
    app.open("latent_map", "vae-16d")
    app.choose("projection", "umap")
    click(app.page, *emptiest_spot(map_points(app)))
    heading = app.page.get_by_text(re.compile(r"^Decoded at \(-?[\d.]+, -?[\d.]+\)$"))
    # the first click fits the map's inverse
    expect(heading).to_be_visible(timeout=90_000 * float(os.environ.get("AECORE_UI_SLOWDOWN") or 1))
    app.wait_idle()
    assert_drawn(app, column_with(app, heading.inner_text()).locator('[data-testid="stImage"] img').first)
    assert app.errors() == []


def test_compare_follows_the_sidebar_to_a_model_of_other_data(app):
    """Compare on ae-2d, the sidebar switched to fashion-2d while on the page, then 'Select on: map
    B': both maps are fashion-2d's on its own data (this crashed with KeyError: 'digit', the old
    colour option's text coming back from the browser)."""
    from aecore.data import available_datasets
    if not available_datasets().get("fashion-mnist"):
        pytest.skip("Fashion-MNIST is not on this machine (apt-get install dataset-fashion-mnist)")
    app.open("compare", "ae-2d")
    app.choose("checkpoint", picked("fashion-2d"))
    for side in ("cmp_a_ckpt", "cmp_b_ckpt"):
        expect(app.widget(side).get_by_role("combobox")).to_have_value(re.compile(r"^fashion-"))
    app.widget("cmp_source").get_by_text("map B").click()
    app.wait_idle()
    assert app.errors() == []
    legend = app.widget("cmp_b_map").locator(".legendtext").evaluate_all("els => els.map(e => e.textContent)")
    assert "Ankle boot" in legend, legend
    expect(app.widget("cmp_colour").get_by_role("combobox")).to_have_value("class")
