"""Real interactions in Chromium, each checked by what appears on the screen: clicks on the
latent map, the noise slider, a stroke drawn on the canvas, uploaded pictures and checkpoints."""
import os
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import picked
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent / "fixtures"
INPUT_CAPTION = "input (the 28x28 the model sees)"

# Screen positions of the map's points: plotly's own axis transforms on the drawn graph div.
MAP_POINTS_JS = """gd => {
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
  const traces = gd._fullData.filter(t => t.visible === true).map(t => ({
    grid: t.name === 'grid',
    x: Array.from(t.x, v => r.left + xa._offset + xa.l2p(v)),
    y: Array.from(t.y, v => r.top + ya._offset + ya.l2p(v)),
    index: Array.from(t.customdata || [], c => Array.isArray(c) ? c[0] : c)}));
  return {area: [r.left + xa._offset, r.top + ya._offset, xa._length, ya._length], traces};
}"""


def map_points(app, key: str = "map") -> dict:
    return app.widget(key).locator(".js-plotly-plot").evaluate(MAP_POINTS_JS)


def data_points(points: dict) -> tuple[np.ndarray, np.ndarray]:
    """((n, 2) screen positions, (n,) dataset indices) of the digits on the map."""
    traces = [t for t in points["traces"] if not t["grid"]]
    xy = np.concatenate([np.stack([t["x"], t["y"]], axis=1) for t in traces])
    return xy, np.concatenate([t["index"] for t in traces]).astype(int)


def inside(xy: np.ndarray, area, margin: float) -> np.ndarray:
    left, top, width, height = area
    return ((xy[:, 0] > left + margin) & (xy[:, 0] < left + width - margin) &
            (xy[:, 1] > top + margin + 30) & (xy[:, 1] < top + height - margin))  # 30: the modebar


def emptiest_spot(points: dict) -> np.ndarray:
    """The spot (pixels) inside the plot area farthest from every point, on a 6-pixel grid over
    the map's click grid."""
    xy, _ = data_points(points)
    grid = next(t for t in points["traces"] if t["grid"])
    gx, gy = np.meshgrid(np.arange(min(grid["x"]), max(grid["x"]), 6.0),
                         np.arange(min(grid["y"]), max(grid["y"]), 6.0))
    spots = np.stack([gx.ravel(), gy.ravel()], axis=1)
    spots = spots[inside(spots, points["area"], 12)]
    return spots[np.linalg.norm(spots[:, None] - xy[None], axis=2).min(axis=1).argmax()]


def click(page, x: float, y: float) -> None:
    page.mouse.move(x - 20, y - 20)
    page.mouse.move(x, y, steps=5)  # plotly picks the point under a hover
    page.wait_for_timeout(200)
    page.mouse.click(x, y)


def column_with(app, text):
    """The st.columns column that holds `text` (a string: the whole text; or a regex)."""
    return app.page.locator('[data-testid="stColumn"]').filter(has=app.page.get_by_text(text, exact=True))


def assert_drawn(app, img) -> None:
    """An image that has loaded and is not one flat colour."""
    stats = app.image_stats(img)
    assert stats["width"] >= 28 and stats["max"] - stats["min"] > 100, stats


def test_deep_link_right_after_start(fresh_app):
    """The first visitor of a restarted app follows a link straight to a page: it must get the
    sidebar and the page itself, not Streamlit's fallback to a pages/ folder app."""
    fresh_app.open("units")
    expect(fresh_app.widget("checkpoint")).to_be_visible()
    expect(fresh_app.page.get_by_role("heading", name="Units")).to_be_visible()
    expect(fresh_app.page.locator('[data-testid="stPlotlyChart"] .main-svg').first).to_be_visible()
    assert fresh_app.errors() == []


def test_click_on_a_digit_shows_it_and_its_reconstruction(app):
    app.open("latent_map", "ae-2d")
    points = map_points(app)
    xy, index = data_points(points)
    ok = np.flatnonzero(inside(xy, points["area"], 12))
    # the most isolated digit, so the click cannot land on a neighbour
    dist = np.linalg.norm(xy[ok, None] - xy[None], axis=2)
    dist[np.arange(len(ok)), ok] = np.inf
    pick = ok[dist.min(axis=1).argmax()]
    click(app.page, *xy[pick])
    right = column_with(app, re.compile(r"^1 selected\b"))
    expect(right).to_be_visible()
    app.wait_idle()
    assert_drawn(app, right.locator('[data-testid="stImage"] img').first)
    # the nearest-neighbour view follows the clicked digit
    expect(app.page.get_by_text(re.compile(rf"^#{index[pick]} \(digit \d\), then its 8 nearest in code"))).to_be_visible()
    assert app.errors() == []


def test_click_on_empty_space_decodes_that_spot(app):
    app.open("latent_map", "ae-2d")
    emptiest = emptiest_spot(map_points(app))
    click(app.page, *emptiest)
    heading = app.page.get_by_text(re.compile(r"^Decoded at \(-?[\d.]+, -?[\d.]+\)$"))
    expect(heading).to_be_visible()
    app.wait_idle()
    assert_drawn(app, column_with(app, heading.inner_text()).locator('[data-testid="stImage"] img').first)
    # the decoded spot is the clicked one, to within the click grid's spacing
    x, y = map(float, re.findall(r"-?[\d.]+", heading.inner_text()))
    data = app.widget("map").locator(".js-plotly-plot").evaluate(
        """(gd, p) => [gd._fullLayout.xaxis.p2l(p[0] - gd.getBoundingClientRect().left - gd._fullLayout.xaxis._offset),
                       gd._fullLayout.yaxis.p2l(p[1] - gd.getBoundingClientRect().top - gd._fullLayout.yaxis._offset),
                       gd._fullLayout.xaxis.range, gd._fullLayout.yaxis.range]""", emptiest.tolist())
    span = [abs(data[2][1] - data[2][0]), abs(data[3][1] - data[3][0])]
    assert abs(x - data[0]) < span[0] / 30 and abs(y - data[1]) < span[1] / 30, (x, y, data)
    assert app.errors() == []


def test_noise_slider_changes_psnr(app):
    app.open("denoise", "denoise")
    table = app.page.locator('[data-testid="stMarkdownContainer"] table')
    before = table.inner_text()
    assert "PSNR" in before
    app.widget("noise_level").get_by_role("slider").focus()
    app.page.keyboard.press("ArrowRight")
    expect(app.page.get_by_text(re.compile(r"^gaussian noise at level 0\.55"))).to_be_visible()
    app.wait_idle()
    assert table.inner_text() != before
    assert app.errors() == []


def draw_seven(app, canvas, top: float) -> None:
    """A "7" on `canvas` with the mouse, in two strokes that both start at its top right, `top`
    (a fraction of its height) below the top edge: the bar to the left, then the stem down."""
    box = canvas.bounding_box()
    mouse = app.page.mouse
    at = lambda fx, fy: (box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)  # noqa: E731
    for end in ((0.35, top), (0.45, top + 0.6)):
        mouse.move(*at(0.7, top))
        mouse.down()
        for t in np.linspace(0, 1, 12):
            mouse.move(*at(0.7 + (end[0] - 0.7) * t, top + (end[1] - top) * t))
        mouse.up()


def test_stroke_on_canvas_shows_model_input_and_output(app):
    """The stroke starts 3% below the canvas's top edge, where the old canvas's invisible toolbar
    swallowed it; Clear empties the canvas again."""
    app.open("denoise", "denoise")
    app.widget("source").get_by_text("Draw", exact=True).click()
    expect(app.page.get_by_text("Draw a digit: white on black, large.")).to_be_visible()
    canvas = app.widget("canvas").locator("canvas")
    expect(canvas).to_be_visible()
    draw_seven(app, canvas, top=0.03)
    expect(app.page.get_by_text(INPUT_CAPTION, exact=True)).to_be_visible()
    app.wait_idle()
    assert_drawn(app, column_with(app, INPUT_CAPTION).locator("img").first)
    assert_drawn(app, column_with(app, "denoising model (denoise)").locator("img").first)
    assert app.errors() == []
    app.widget("canvas").get_by_role("button", name="Clear").click()
    expect(app.page.get_by_text("Draw a digit: white on black, large.")).to_be_visible()


def test_uploaded_picture_and_a_text_file_named_png(app, tmp_path):
    app.open("denoise", "denoise")
    app.widget("source").get_by_text("Upload", exact=True).click()
    uploader = app.widget("picture").locator('input[type="file"]')
    uploader.set_input_files(FIXTURES / "digit-7.png")
    expect(app.page.get_by_text(INPUT_CAPTION, exact=True)).to_be_visible()
    app.wait_idle()
    assert_drawn(app, column_with(app, INPUT_CAPTION).locator("img").first)
    assert_drawn(app, column_with(app, "denoising model (denoise)").locator("img").first)
    assert app.errors() == []

    fake = tmp_path / "notes.png"
    fake.write_text("these are my notes, not a picture\n")
    uploader.set_input_files(fake)
    error = app.page.locator('[data-testid="stMain"] [data-testid="stAlertContentError"]')
    expect(error).to_contain_text("not an image")
    expect(error).to_contain_text("notes.png")
    expect(app.page.get_by_text(INPUT_CAPTION, exact=True)).to_have_count(0)


def test_broken_checkpoint_upload_is_refused_and_the_app_keeps_working(app):
    app.open("latent_map", "ae-2d")
    app.widget("upload").locator('input[type="file"]').set_input_files([
        {"name": "config.json", "mimeType": "application/json", "buffer": b'{"model": {"kind": "nonsense"}}'},
        {"name": "model.safetensors", "mimeType": "application/octet-stream", "buffer": b"not weights\n"},
    ])
    error = app.page.locator('[data-testid="stSidebar"] [data-testid="stAlertContentError"]')
    expect(error).to_contain_text("Upload rejected")
    app.wait_idle()
    expect(app.widget("checkpoint").get_by_role("combobox")).to_have_value(picked("ae-2d"))

    app.page.locator('[data-testid="stSidebarNavLink"]', has_text="Overview").click()
    expect(app.page.get_by_role("heading", name="Loss curves")).to_be_visible()
    app.wait_idle()
    main = app.page.locator('[data-testid="stMain"]')
    expect(main.locator('[data-testid="stPlotlyChart"] .main-svg').first).to_be_visible()
    assert main.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count() == 0
    assert_drawn(app, main.locator('[data-testid="stImage"] img').first)


SLOWDOWN = float(os.environ.get("AECORE_UI_SLOWDOWN") or 1)  # as tests/ui/conftest.py reads it
IMAGES_JS = """gd => {
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
  return gd._fullLayout.images.map(im => ({
    x: r.left + xa._offset + xa.l2p(im.x), y: r.top + ya._offset + ya.l2p(im.y),
    w: Math.abs(xa.l2p(im.x + im.sizex) - xa.l2p(im.x)), h: Math.abs(ya.l2p(im.y + im.sizey) - ya.l2p(im.y))}));
}"""


def test_thumbnails_are_drawn_large_and_untinted_on_top_of_the_points(app):
    from io import BytesIO

    from PIL import Image
    app.open("latent_map", "ae-2d")
    app.widget("thumbs").locator("label").first.click()
    app.wait_idle()
    thumbs = app.widget("map").locator(".js-plotly-plot").evaluate(IMAGES_JS)
    assert 20 <= len(thumbs) <= 64 and min(t["w"] for t in thumbs) > 30, thumbs  # were 150 specks of ~25 px
    shot = np.asarray(Image.open(BytesIO(app.page.screenshot())).convert("RGB")).astype(int)
    coloured = []
    for t in thumbs:  # the middle half of each: no dot may show through (each one's own digit lies under it)
        x0, x1 = int(t["x"] - t["w"] / 4), int(t["x"] + t["w"] / 4)
        y0, y1 = int(t["y"] - t["h"] / 4), int(t["y"] + t["h"] / 4)
        patch = shot[y0:y1, x0:x1]
        coloured.append(float(((patch.max(axis=2) - patch.min(axis=2)) > 60).mean()))
    assert max(coloured) < 0.02, coloured  # dark ink on white, not the points' colours
    assert app.errors() == []


def test_a_slow_map_says_its_cost_shows_progress_cancels_and_is_then_drawn(app):
    app.open("latent_map", "vae-16d")
    app.choose("split", re.compile(r"^train \+ test"))  # 5,000 codes: t-SNE takes tens of seconds
    app.choose("projection", "tsne")
    expect(app.page.get_by_text(re.compile(r"t-SNE of 5,000 16-D codes takes about \d+ s on this machine"))).to_be_visible()
    assert not app.widget("map").count(), "no map before it is started"
    app.page.get_by_role("button", name=re.compile(r"^Compute it")).click()
    # the worker's own count of its steps, while the page keeps polling (so no wait_idle)
    expect(app.page.get_by_text(re.compile(r"(iteration|neighbour probabilities, code) [\d,]+ of [\d,]+"))).to_be_visible(
        timeout=120_000 * SLOWDOWN)
    app.page.get_by_role("button", name="Cancel").click()
    expect(app.page.get_by_text(re.compile(r"cancelled after \d+ s\. Nothing was cached"))).to_be_visible()
    app.wait_idle()
    assert not app.widget("map").count()
    app.page.get_by_role("button", name=re.compile(r"^Compute it")).click()
    expect(app.widget("map").locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=600_000 * SLOWDOWN)
    app.wait_idle()
    assert len(data_points(map_points(app))[0]) == 5000
    assert app.errors() == []


def test_compare_draws_a_tsne_map_beside_the_codes(app):
    """On the 1,000 sample digits a t-SNE takes about the few seconds past which it runs in the
    background (whether it does depends on what this machine's finished jobs taught the estimate:
    tests/test_background_maps.py checks Compare's background path), so: start it if asked."""
    app.open("compare", "ae-2d")
    app.choose("cmp_a_projection", "tsne")
    start = app.page.get_by_role("button", name=re.compile(r"^Compute it"))
    if start.count():
        start.click()
    expect(app.widget("cmp_a_map").locator(".js-plotly-plot .main-svg").first).to_be_visible(timeout=300_000 * SLOWDOWN)
    app.wait_idle()
    assert len(data_points(map_points(app, "cmp_a_map"))[0]) == len(data_points(map_points(app, "cmp_b_view"))[0]) == 1000
    expect(app.page.get_by_text(re.compile(r"^ae-2d: t-SNE \(perplexity=30.0\) of the 2-D codes, seed 0"))).to_be_visible()
    assert app.errors() == []
