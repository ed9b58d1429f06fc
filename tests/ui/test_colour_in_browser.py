"""The zoo's colour sprites models in Chromium, against screenshot baselines: the 2-D map coloured
by a numeric factor (a colour bar), its decoded manifold in colour, a unit's colour image, and the
disentangling model's traversals (units sorted by KL, each active row changing the sprite it
draws, the inactive units folded away). The app reads a small sprites set generated from the
same seed as the full one (`python -m aecore download sprites` writes 40,000)."""
from __future__ import annotations

import re

import pytest
from conftest import session_on, streamlit_app
from playwright.sync_api import expect

from aecore.data import sprites
from snapshot import assert_matches
from traversal_rows import row_changes

pytestmark = pytest.mark.browser

# how much of a picture is drawn in colour: the fraction of its pixels whose channels differ by
# more than 2 (of 255); a grey picture, drawn with R = G = B, has none
COLOURFUL_JS = """img => {
  const c = document.createElement('canvas');
  [c.width, c.height] = [img.naturalWidth, img.naturalHeight];
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) n += Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 2;
  return n / (d.length / 4);
}"""


@pytest.fixture(scope="module")
def sprites_app(browser, tmp_path_factory):
    """The app with 1,000 training and 1,000 test sprites in its data folder."""
    tmp = tmp_path_factory.mktemp("sprites-app")
    sprites.generate(tmp / "data" / "sprites", train=1_000, test=1_000)
    with streamlit_app(tmp) as url:
        yield url


@pytest.fixture
def app(browser, sprites_app):
    with session_on(browser, sprites_app) as app:
        yield app


def colourful(img) -> float:
    return img.evaluate(COLOURFUL_JS)


def test_the_2d_sprites_map_coloured_by_position_has_a_colour_bar(app, update_snapshots):
    app.open("latent_map", "sprites-2d")
    assert app.errors() == []
    main = app.page.locator('[data-testid="stMain"]')
    expect(main.get_by_text("All 1,000 sprites of sprites (the test split)", exact=False)).to_be_visible()
    app.choose("colour", re.compile("^x$"))
    chart = main.locator('[data-testid="stPlotlyChart"]').first
    expect(chart.locator(".colorbar")).to_have_count(1)  # a numeric factor: a colour bar, no legend
    expect(chart.locator(".colorbar .cbtitle")).to_contain_text("x")
    assert_matches(app.screenshot(), "latent_map_sprites", update_snapshots)


def test_the_2d_sprites_manifold_is_drawn_in_colour(app, update_snapshots):
    app.open("generate", "sprites-2d")
    assert app.errors() == []
    main = app.page.locator('[data-testid="stMain"]')
    expect(main.get_by_role("heading", name="The decoded manifold")).to_be_visible()
    pictures = main.locator('[data-testid="stImage"] img')
    assert max(colourful(img) for img in pictures.all()) > 0.01  # coloured sprites, not grey ones
    assert_matches(app.screenshot(), "generate_sprites", update_snapshots)


def test_a_colour_models_units_draw_in_colour(app, update_snapshots):
    app.open("units", "sprites-tcvae")
    assert app.errors() == []
    pictures = app.page.locator('[data-testid="stMain"] [data-testid="stImage"] img')
    expect(pictures.first).to_be_visible()
    assert max(colourful(img) for img in pictures.all()) > 0.01
    assert_matches(app.screenshot(), "units_sprites", update_snapshots)


def test_the_disentangling_models_traversals_sort_units_and_fold_the_inactive(app, update_snapshots):
    app.open("traversals", "sprites-tcvae")
    page = app.page
    assert app.errors() == []
    main = page.locator('[data-testid="stMain"]')
    heading = main.get_by_role("heading", name="active units of")
    expect(heading).to_be_visible()
    active, total = (int(w) for w in heading.inner_text().split() if w.isdigit())
    assert 2 <= active <= total
    start = main.locator('[data-testid="stImage"]', has_text="the start: test")  # the default start
    expect(start).to_have_count(1)
    rows = main.locator('[data-testid="stImage"]', has_not_text="the start").locator("img").locator("visible=true")
    expect(rows).to_have_count(active)
    labels = [t.split() for t in main.locator('[data-testid="stMarkdownContainer"]', has=page.locator("strong"))
              .locator("visible=true").all_inner_texts() if t.startswith("unit ")]  # "unit 3\nKL 2.43 nats"
    kls = [float(words[3]) for words in labels]
    assert len(kls) == active and kls == sorted(kls, reverse=True) and kls[-1] >= 0.01
    # each active row changes the sprite it draws (a sprite covers 1-8% of its picture, so a
    # mean change over the picture of 1.5 is a clear one); the inactive rows barely change
    assert min(row_changes(rows, 9, 64)) > 1.5
    folded = main.locator('[data-testid="stExpander"]', has_text=f"{total - active} inactive unit")
    expect(folded).to_have_count(1 if active < total else 0)
    assert_matches(app.screenshot(), "traversals_sprites", update_snapshots)
    if active < total:
        folded.locator("summary").click()
        app.wait_idle()
        inactive = folded.locator('[data-testid="stImage"] img')
        expect(inactive).to_have_count(total - active)
        assert max(row_changes(inactive, 9, 64)) < 0.5
