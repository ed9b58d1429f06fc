"""Every page, fully drawn, against its committed baseline (tests/ui/snapshots/<name>.png).
`pytest tests/ui --update-snapshots` rewrites the baselines; look at them before committing."""
import pytest

from snapshot import assert_matches

pytestmark = pytest.mark.browser

# (baseline name, url path, checkpoint, what must be on screen besides the title)
PAGES = [
    ("overview", "", "ae-2d", 1),
    ("latent_map", "latent_map", "ae-2d", 1),
    ("generate", "generate", "ae-2d", 1),
    ("denoise", "denoise", "denoise", 2),
    ("units", "units", "sparse", 3),
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
