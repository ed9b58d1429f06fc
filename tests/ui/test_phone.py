"""The explorer on a phone (390 x 844, touch): a tap on the map selects the tapped point at once,
and a finger draws on the canvas from its very top edge."""
import re
import time

import numpy as np
import pytest
from conftest import App, picked
from playwright.sync_api import expect
from test_interactions import INPUT_CAPTION, assert_drawn, column_with, data_points, inside, map_points

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, warm_server):
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True,
                                  reduced_motion="reduce", locale="en-US", timezone_id="UTC")
    yield App(context.new_page(), warm_server)
    context.close()


def open_on_phone(phone: App, path: str, checkpoint: str) -> None:
    """Open /path, then pick `checkpoint` in the sidebar, which a phone shows folded away."""
    phone.page.goto(f"{phone.url}/{path}")
    phone.wait_idle()
    phone.page.get_by_test_id("stExpandSidebarButton").tap()
    phone.choose("checkpoint", picked(checkpoint))
    phone.page.get_by_test_id("stSidebarCollapseButton").locator("button").tap()
    phone.wait_idle()


def touch_stroke(phone: App, points) -> None:
    """One finger stroke through the page positions `points`, as real touch events."""
    cdp = phone.page.context.new_cdp_session(phone.page)
    send = lambda kind, pts: cdp.send("Input.dispatchTouchEvent", {  # noqa: E731
        "type": kind, "touchPoints": [{"x": float(x), "y": float(y)} for x, y in pts]})
    send("touchStart", points[:1])
    for p in points[1:]:
        send("touchMove", [p])
    send("touchEnd", [])


def test_a_tap_on_the_map_selects_the_tapped_point_not_the_one_before(phone):
    open_on_phone(phone, "latent_map", "ae-2d")
    phone.widget("map").scroll_into_view_if_needed()
    points = map_points(phone)
    xy, index = data_points(points)
    ok = np.flatnonzero(inside(xy, points["area"], 15))
    gap = np.sort(np.linalg.norm(xy[ok, None] - xy[None], axis=2), axis=1)[:, 1]
    for j in ok[np.argsort(-gap)[:2]]:  # the two most isolated points: no neighbour under the finger
        phone.page.touchscreen.tap(float(xy[j, 0]), float(xy[j, 1]))
        time.sleep(0.5)
        phone.wait_idle()
        expect(phone.page.get_by_text(re.compile(rf"^#{index[j]} \(digit \d\), then its 8 nearest in code"))).to_be_visible()
    assert phone.errors() == []


def test_a_finger_draws_from_the_canvas_top_edge(phone):
    open_on_phone(phone, "denoise", "denoise")
    phone.widget("source").get_by_text("Draw", exact=True).tap()
    phone.wait_idle()
    canvas = phone.widget("canvas").locator("canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    at = lambda fx, fy: (box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)  # noqa: E731
    for end in ((0.35, 0.03), (0.45, 0.63)):  # a "7" whose strokes start at the top right
        touch_stroke(phone, [at(0.7 + (end[0] - 0.7) * t, 0.03 + (end[1] - 0.03) * t) for t in np.linspace(0, 1, 12)])
    expect(phone.page.get_by_text(INPUT_CAPTION, exact=True)).to_be_visible()
    phone.wait_idle()
    assert_drawn(phone, column_with(phone, INPUT_CAPTION).locator("img").first)
    assert phone.errors() == []
