"""Fixtures for the real-browser tests: one `streamlit run app.py` for the whole session (bundled
5,000-digit sample, a fresh cache, the shipped checkpoints or $AECORE_CHECKPOINTS), one headless
Chromium, and per test a fresh browser context wrapped in `App`, which knows when Streamlit has
finished drawing and how to take a deterministic full-page screenshot.
"""
from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

import pytest
from benchmarks.browser import CHROMIUM_ARGS, REPO, ServerDidNotStart, chromium_path, streamlit_server

VIEWPORT = {"width": 1400, "height": 1000}
NEEDED = ["ae-2d", "denoise", "sparse", "vae-16d"]  # checkpoints the UI tests open by name
# AECORE_UI_SLOWDOWN=N stretches every wait N times, for a machine shared with heavy jobs
SLOWDOWN = float(os.environ.get("AECORE_UI_SLOWDOWN") or 1)
START_TIMEOUT, IDLE_TIMEOUT_MS = 60 * SLOWDOWN, int(90_000 * SLOWDOWN)

# Streamlit is done when the script stopped, nothing is stale or a placeholder, every plotly chart
# has its SVG, and every image has loaded.
IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.dataset.testScriptState !== 'notRunning' || app.dataset.testConnectionState !== 'CONNECTED')
    return false;
  if (document.querySelector('[data-testid="stStatusWidget"], [data-testid="stSkeleton"], '
                             + '[data-testid="stAppSkeleton"], [data-testid="stSpinner"], [data-stale="true"]'))
    return false;
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]'))
    if (!chart.querySelector('.js-plotly-plot .main-svg')) return false;
  for (const img of document.querySelectorAll('img'))
    if (!img.complete || img.naturalWidth === 0) return false;
  return true;
}"""
# hidden while taking screenshots: blinking carets, the running man, the toolbar
SCREENSHOT_CSS = """
* { caret-color: transparent !important; }
[data-testid="stStatusWidget"], [data-testid="stToolbar"], [data-testid="stDecoration"],
[data-testid="stElementToolbar"], .modebar-container { visibility: hidden !important; }
"""
MASKED: list[str] = []  # selectors of anything that varies between runs (none found so far)
# the environment as pytest started: other tests' fixtures may point AECORE_* elsewhere later
START_ENV = dict(os.environ)
SERVERS: list[tuple] = []  # the running apps' (process, log), newest last: a failed test prints the log's end


def picked(name: str) -> re.Pattern:
    """A checkpoint picker's label of the checkpoint folder `name`: 'name (where from) · kind · d-D'."""
    return re.compile(rf"^{re.escape(name)}( \([^)]*\))? ·")


def checkpoint_folder() -> Path:
    """$AECORE_CHECKPOINTS, else the repository's checkpoints/ (what ships)."""
    return Path(START_ENV.get("AECORE_CHECKPOINTS") or REPO / "checkpoints")


@pytest.fixture(scope="session")
def update_snapshots(request) -> bool:
    """True under `pytest --update-snapshots` (the option is added in tests/conftest.py)."""
    return bool(request.config.getoption("--update-snapshots", default=False))


@contextlib.contextmanager
def streamlit_app(tmp: Path):
    """Run `streamlit run app.py` headless on a free port of 127.0.0.1 with the bundled sample
    and a fresh cache under `tmp`; yield its URL once /_stcore/health answers; stop it after."""
    folder = checkpoint_folder()
    missing = [n for n in NEEDED if not (folder / n / "config.json").is_file()]
    if missing:
        pytest.fail(f"the UI tests need the checkpoints {', '.join(missing)} in {folder} "
                    "(set AECORE_CHECKPOINTS to another folder, or train them: python -m aecore zoo)")
    (tmp / "data").mkdir(exist_ok=True)  # empty: the bundled sample, even where full MNIST is configured
    env = {**START_ENV, "AECORE_DATA_DIR": str(tmp / "data"), "AECORE_CACHE_DIR": str(tmp / "cache"),
           "AECORE_CHECKPOINTS": str(folder), "AECORE_NO_WARMUP": "1",  # no page here uses UMAP
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONFAULTHANDLER": "1"}  # a crash's tracebacks in its log
    with open(tmp / "server.log", "w+") as log:
        try:
            with streamlit_server("app.py", env, log, START_TIMEOUT, poll=0.25) as (process, url):
                SERVERS.append((process, tmp / "server.log"))
                try:
                    yield url
                finally:
                    SERVERS.remove((process, tmp / "server.log"))
        except ServerDidNotStart as err:
            pytest.fail(str(err))


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> str:
    """URL of the app shared by the session's tests."""
    with streamlit_app(tmp_path_factory.mktemp("app")) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import Error, expect, sync_playwright
    expect.set_options(timeout=5_000 * SLOWDOWN)
    with sync_playwright() as p:
        try:
            chromium = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        except Error as err:
            pytest.fail(f"no Chromium to drive ({err.message.splitlines()[0]}); "
                        "run tests/ui/ensure_browser.sh, or set CHROMIUM_PATH")
        yield chromium
        chromium.close()


def new_app(browser, url: str) -> "App":
    """A fresh browser context (its own Streamlit session) on the app at `url`."""
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, reduced_motion="reduce",
                                  locale="en-US", timezone_id="UTC")
    context.set_default_timeout(30_000 * SLOWDOWN)
    context.set_default_navigation_timeout(120_000 * SLOWDOWN)  # a first load on a busy 2-core machine
    app = App(context.new_page(), url)
    app.page.on("console", lambda m: m.type in ("error", "warning") and app.console.append(f"{m.type}: {m.text}"))
    app.page.on("pageerror", lambda err: app.console.append(f"page error: {err}"))
    app.page.on("crash", lambda _: app.console.append("the page crashed (Chromium's renderer)"))
    return app


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test (item.report_call), for the fixtures' teardown."""
    report = (yield).get_result()
    setattr(item, f"report_{report.when}", report)


def what_the_page_showed(app: "App") -> str:
    """For a failed test's output: the page's URL and text, the browser's console errors, and the
    end of the server's log (what CI keeps of a failure that does not happen here)."""
    parts = [f"page: {app.page.url}"]
    try:
        parts.append("page text:\n" + app.page.locator("body").inner_text(timeout=5_000)[-3000:])
    except Exception as err:  # noqa: BLE001 -- a crashed page: say so and go on
        parts.append(f"page text unreadable: {err}")
    parts.append("browser console:\n" + "\n".join(app.console[-30:]))
    for process, log in SERVERS[-1:]:
        state = "running" if process.poll() is None else f"exited with code {process.poll()}"
        parts.append(f"the server ({state}), the last lines of its log {log}:\n"
                     + "\n".join(log.read_text(errors="replace").splitlines()[-60:]))
    return "\n\n".join(parts)


@contextlib.contextmanager
def session_on(browser, url: str):
    """new_app(browser, url) for the block, its browser context closed after."""
    app = new_app(browser, url)
    try:
        yield app
    finally:
        app.page.context.close()


@pytest.fixture(scope="session")
def warm_server(browser, server) -> str:
    """The shared app after one visit to its front page, so the first test does not pay for
    loading the model and the sample."""
    with session_on(browser, server) as app:
        app.open("")
    return server


@pytest.fixture
def app(browser, warm_server, request):
    """The shared app in a new browser context (a new Streamlit session). A failed test prints
    what the page showed (what_the_page_showed)."""
    with session_on(browser, warm_server) as app:
        yield app
        report_if_failed(request, app)


def report_if_failed(request, app: "App") -> None:
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        print(what_the_page_showed(app))


@pytest.fixture
def fresh_app(browser, tmp_path, request):
    """An app started for this test alone (nothing has visited it yet), in a new browser context."""
    with streamlit_app(tmp_path) as url, session_on(browser, url) as app:
        yield app
        report_if_failed(request, app)


class App:
    """The app in one browser page: open pages, pick widgets, wait, take screenshots."""

    def __init__(self, page, url: str):
        self.page, self.url = page, url
        self.console: list[str] = []  # the browser's console errors and warnings, and page errors

    def open(self, path: str = "", checkpoint: str | None = None) -> "App":
        """Open /<path> (e.g. "latent_map") with `checkpoint` (a folder name; None: the default)
        and wait until everything is drawn. Like a user: the checkpoint is picked in the sidebar
        of the front page, then the page is opened from the navigation, so the page never draws
        another checkpoint first."""
        self.page.goto(f"{self.url}/" if checkpoint else f"{self.url}/{path}")
        self.wait_idle()
        if checkpoint:
            self.choose("checkpoint", picked(checkpoint))
            if path:
                self.page.locator(f'[data-testid="stSidebarNavLink"][href$="/{path}"]').click()
                self.page.wait_for_url(f"**/{path}")
                self.wait_idle()
        return self

    def wait_idle(self, settle: float = 0.4) -> None:
        """Wait until IDLE_JS holds, twice `settle` seconds apart (a rerun can start just after a
        widget changed)."""
        for _ in range(50):
            self.page.wait_for_function(IDLE_JS, timeout=IDLE_TIMEOUT_MS, polling=100)
            time.sleep(settle)
            if self.page.evaluate(IDLE_JS):
                return
        raise AssertionError("the app never stayed idle")

    def widget(self, key: str):
        """The container of the widget with `key=` (Streamlit gives it the class st-key-<key>)."""
        return self.page.locator(f".st-key-{key}")

    def choose(self, key: str, option) -> None:
        """Pick `option` (text or compiled regex) in the selectbox with `key`, then wait."""
        self.widget(key).get_by_role("combobox").click()
        self.page.get_by_role("option", name=option).first.click()
        self.wait_idle()

    def image_stats(self, img) -> dict:
        """{width, height, min, max, mean} of an <img>'s red channel (our digits are grey), read
        back through a canvas: a blank picture has max - min near 0."""
        return img.evaluate("""img => {
          const c = document.createElement('canvas');
          [c.width, c.height] = [img.naturalWidth, img.naturalHeight];
          const g = c.getContext('2d');
          g.drawImage(img, 0, 0);
          const d = g.getImageData(0, 0, c.width, c.height).data;
          let lo = 255, hi = 0, sum = 0;
          for (let i = 0; i < d.length; i += 4) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); sum += d[i]; }
          return {width: c.width, height: c.height, min: lo, max: hi, mean: sum / (d.length / 4)};
        }""")

    def errors(self) -> list[str]:
        """Texts of exceptions and error boxes on the page."""
        boxes = self.page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
        return boxes.all_inner_texts()

    def screenshot(self, mask: tuple[str, ...] = ()) -> bytes:
        """The whole page (the viewport stretched to the content, since Streamlit scrolls inside
        its own container), animations stopped, no caret, status widget or hover toolbars; `mask`:
        selectors of what varies between runs on this page (covered by a box)."""
        page = self.page
        page.mouse.move(VIEWPORT["width"] - 5, 5)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        height = page.evaluate("""() => Math.max(
            ...['stMain', 'stSidebarContent'].map(id => document.querySelector(`[data-testid="${id}"]`))
              .filter(Boolean).map(el => el.scrollHeight))""")
        page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], height)})
        try:
            self.wait_idle()
            return page.screenshot(full_page=True, animations="disabled", caret="hide",
                                   style=SCREENSHOT_CSS, mask=[page.locator(s) for s in (*MASKED, *mask)])
        finally:
            page.set_viewport_size(VIEWPORT)
