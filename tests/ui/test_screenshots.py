"""Every page, fully drawn, against its committed baseline (tests/ui/snapshots/<name>.png).
`pytest tests/ui --update-snapshots` rewrites the baselines; look at them before committing."""
import pytest
from playwright.sync_api import expect

from snapshot import assert_matches

pytestmark = pytest.mark.browser

# (baseline name, url path, checkpoint, what must be on screen besides the title)
PAGES = [
    ("overview", "", "ae-2d", 1),
    ("latent_map", "latent_map", "ae-2d", 1),
    ("generate", "generate", "ae-2d", 1),
    ("denoise", "denoise", "denoise", 2),
    ("units", "units", "sparse", 3),
    ("compare", "compare", "vae-16d", 2),
    ("steer", "steer", "ae-2d", 0),
]


@pytest.mark.parametrize("name, path, checkpoint, charts", PAGES, ids=[p[0] for p in PAGES])
def test_page_matches_baseline(app, update_snapshots, name, path, checkpoint, charts):
    app.open(path, checkpoint)
    page = app.page
    assert app.errors() == []
    # drawn, not only laid out: every chart has its traces, every image has pixels
    assert page.locator('[data-testid="stPlotlyChart"] .main-svg').count() >= charts
    assert page.locator('[data-testid="stImage"] img').count() >= 1
    assert_matches(app.screenshot(), name, update_snapshots)


def test_latent_map_with_backdrop_and_filter_matches_baseline(app, update_snapshots):
    app.open("latent_map", "ae-2d")
    app.widget("backdrop").get_by_text("Decoded backdrop").click()
    app.wait_idle()
    images = app.widget("map").locator(".js-plotly-plot").evaluate("gd => gd._fullLayout.images.map(i => i.layer)")
    assert images == ["below"], images  # the decoded backdrop, under the points
    assert app.errors() == []
    assert_matches(app.screenshot(), "latent_map_backdrop", update_snapshots)


def test_leaderboard_matches_baseline(app, update_snapshots):
    app.open("leaderboard", "ae-2d")
    assert app.errors() == []
    assert app.page.locator('[data-testid="stDataFrame"]').count() == 1
    assert_matches(app.screenshot(), "leaderboard", update_snapshots)


def test_fashion_mnist_map_matches_baseline(app, update_snapshots):
    """fashion-2d opens on its own dataset: every test image on the map, clothing class names."""
    from aecore.data import available_datasets
    if not available_datasets().get("fashion-mnist"):
        pytest.skip("Fashion-MNIST is not on this machine (apt-get install dataset-fashion-mnist)")
    app.open("latent_map", "fashion-2d")
    assert app.errors() == []
    expect(app.widget("dataset").get_by_role("combobox")).to_have_value("fashion-mnist (trained on)")
    legend = app.widget("map").locator(".legendtext").evaluate_all("els => els.map(e => e.textContent)")
    assert "T-shirt/top" in legend and "Ankle boot" in legend, legend
    assert_matches(app.screenshot(), "latent_map_fashion", update_snapshots)
