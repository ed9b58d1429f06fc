"""Training in the browser: the map redraws after each epoch while the page stays usable, Stop
keeps the last finished epoch, the saved checkpoint opens on every page, and its history plays;
the Train page and the History page against their baselines."""
import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from conftest import SLOWDOWN, picked
from playwright.sync_api import expect

from snapshot import assert_matches

pytestmark = pytest.mark.browser

PAGES = ["", "latent_map", "generate", "denoise", "units", "history"]
# the epoch the drawn map is of (its layout.meta), and the first points of each of its traces
MAP_JS = ("gd => [gd.layout.meta.epoch, "
          "gd._fullData.filter(t => t.visible === true).map(t => Array.from(t.x).slice(0, 5))]")
REPLAY_JS = ("gd => ({epoch: Number(gd._fullLayout.sliders[0].steps[gd._fullLayout.sliders[0].active].label), "
             "x: Array.from(gd._fullData[1].x).slice(0, 5)})")  # the epoch the slider names
VARYING = ('.st-key-train_where', '.st-key-train_outcome')  # the trained folder, the seconds it took


def set_field(app, key: str, value: str) -> None:
    field = app.widget(key).locator("input")
    field.fill(value)
    field.press("Enter")
    app.wait_idle()


def start(app, name: str, epochs: int) -> None:
    app.open("train")
    set_field(app, "train_epochs", str(epochs))
    set_field(app, "train_name", name)
    app.widget("train_start").get_by_role("button").click()


def seen_epoch(app) -> tuple[int, list] | None:
    """(the epoch the map shows, its first points), or None before the first epoch is drawn. Both
    come from the drawn chart in one read: its caption can be a redraw ahead of it."""
    if app.page.get_by_text(re.compile(r"^After epoch \d+:")).count() == 0 \
            or app.widget("train_map").locator(".main-svg").count() == 0:
        return None
    try:
        epoch, points = app.widget("train_map").locator(".js-plotly-plot").evaluate(MAP_JS)
    except PlaywrightError:  # caught between two draws of the live view's map (every 3 s)
        return None
    return epoch, points


def test_the_map_redraws_each_epoch_stop_keeps_it_and_it_opens_everywhere(app):
    start(app, "browser-run", 60)
    seen, deadline = {}, time.monotonic() + 600 * SLOWDOWN  # generous: a busy machine trains slowly
    while len(seen) < 3:  # three epochs drawn, each its own map
        assert time.monotonic() < deadline, f"saw epochs {sorted(seen)} only"
        now = seen_epoch(app)
        if now:
            seen.setdefault(now[0], now[1])
        time.sleep(0.2)
    maps = list(seen.values())
    assert all(a != b for a, b in zip(maps, maps[1:])), "the map did not change between epochs"
    expect(app.page.get_by_text(re.compile(r"^Epoch \d+ of 60: batch"))).to_be_visible()
    app.widget("train_stop").get_by_role("button").click()
    outcome = app.widget("train_outcome")
    # the last batch, a test-set evaluation and a save: seconds (a page that never says so fails
    # in minutes, with what it showed, not after CI's patience)
    expect(outcome).to_contain_text("stopped; it keeps", timeout=180_000 * SLOWDOWN)
    app.wait_idle()
    app.widget("train_open").get_by_role("button").click()
    app.page.wait_for_url(re.compile(r"/$|/overview$"))
    app.wait_idle()
    expect(app.page.get_by_role("heading", name="browser-run")).to_be_visible()
    for path in PAGES:
        app.page.locator(f'[data-testid="stSidebarNavLink"][href$="/{path}"]').first.click()
        app.wait_idle()
        expect(app.widget("checkpoint").get_by_role("combobox")).to_have_value(picked("browser-run"))
        assert app.errors() == [], path


def play(app, replay, epochs: int, js: str = REPLAY_JS) -> dict:
    """Press Play and watch the replay for up to 30 s: {epoch shown: the first map x values}
    until `epochs` different epochs were seen."""
    app.widget("replay").get_by_text("Play").click()
    shown, deadline = {}, time.monotonic() + 30 * SLOWDOWN
    while len(shown) < epochs and time.monotonic() < deadline:
        now = replay.evaluate(js)
        shown[now["epoch"]] = now["x"]
        time.sleep(0.05)
    return shown


def test_train_and_history_pages_match_baselines_and_the_history_plays(app, update_snapshots):
    start(app, "three-epochs", 3)
    expect(app.widget("train_outcome")).to_contain_text("finished 3 epochs", timeout=600_000 * SLOWDOWN)
    app.wait_idle()
    assert app.errors() == []
    assert_matches(app.screenshot(mask=VARYING), "train", update_snapshots)
    app.widget("train_replay").get_by_role("button").click()
    app.page.wait_for_url("**/history")
    app.wait_idle()
    assert app.errors() == []
    assert_matches(app.screenshot(), "history", update_snapshots)
    replay = app.widget("replay").locator(".js-plotly-plot")
    before = replay.evaluate(REPLAY_JS)
    assert before["epoch"] == 3
    shown = play(app, replay, 3)
    assert sorted(shown) == [1, 2, 3], f"played epochs {sorted(shown)}"
    assert shown[1] != shown[3], "the map did not move while playing"


def test_the_history_of_a_shipped_checkpoint_plays(app):
    """vae-2d ships with its training history (40 of its 150 epochs): the scrubber starts on the
    last epoch and plays."""
    app.open("history", "vae-2d")
    assert app.errors() == []
    replay = app.widget("replay").locator(".js-plotly-plot")
    labels = replay.evaluate("gd => gd._fullLayout.sliders[0].steps.map(s => Number(s.label))")
    assert len(labels) == 40 and labels[:3] == [1, 2, 3] and labels[-1] == 150, "40 frames kept of 150 epochs"
    one_colour = REPLAY_JS.replace("_fullData[1]", "_fullData[0]")  # MNIST's labels are not here: one trace
    assert replay.evaluate(one_colour)["epoch"] == 150
    shown = play(app, replay, 5, one_colour)
    assert len(shown) >= 5, f"played epochs {sorted(shown)}"
    first, last = min(shown), max(shown)
    assert shown[first] != shown[last], "the map did not move while playing"
