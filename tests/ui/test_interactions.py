"""Real interactions in Chromium, each checked by what appears on the screen: clicks on the
latent map, the noise slider, a stroke drawn on the canvas, uploaded pictures and checkpoints."""
import re
from pathlib import Path

import numpy as np
import pytest
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


def test_stroke_on_canvas_shows_model_input_and_output(app):
    app.open("denoise", "denoise")
    app.widget("source").get_by_text("Draw", exact=True).click()
    expect(app.page.get_by_text("Draw a digit: white on black, large.")).to_be_visible()
    canvas = app.widget("canvas").locator("canvas.upper-canvas")
    expect(canvas).to_be_visible()
    box = canvas.bounding_box()
    mouse = app.page.mouse
    mouse.move(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.2)
    mouse.down()
    for t in np.linspace(0, 1, 12):  # a "7": across, then down to the left
        mouse.move(box["x"] + box["width"] * (0.35 + 0.3 * t), box["y"] + box["height"] * 0.2)
    for t in np.linspace(0, 1, 12):
        mouse.move(box["x"] + box["width"] * (0.65 - 0.2 * t), box["y"] + box["height"] * (0.2 + 0.6 * t))
    mouse.up()
    expect(app.page.get_by_text(INPUT_CAPTION, exact=True)).to_be_visible()
    app.wait_idle()
    assert_drawn(app, column_with(app, INPUT_CAPTION).locator("img").first)
    assert_drawn(app, column_with(app, "denoising model (denoise)").locator("img").first)
    assert app.errors() == []


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
    expect(app.widget("checkpoint").get_by_role("combobox")).to_have_value(re.compile(r"^ae-2d ·"))

    app.page.locator('[data-testid="stSidebarNavLink"]', has_text="Overview").click()
    expect(app.page.get_by_role("heading", name="Loss curves")).to_be_visible()
    app.wait_idle()
    main = app.page.locator('[data-testid="stMain"]')
    expect(main.locator('[data-testid="stPlotlyChart"] .main-svg').first).to_be_visible()
    assert main.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').count() == 0
    assert_drawn(app, main.locator('[data-testid="stImage"] img').first)
