"""`python -m benchmarks.load --train`: how much slower other sessions' page views get while the
app trains. Goal: at most 2x.

One server (the app, not the demo: the demo's 10 epochs end too soon to measure during) serves
--views page views of the Latent map, one after another, in three conditions:
  idle        nothing trains;
  watched     a session trains (the bundled sample, mlp, 2-D code, the demo's kind of model, for
              many epochs) and its browser page watches, redrawing the progress each second and the
              loss curves and map every 3 s;
  unwatched   the same training goes on after that page has closed.
Each view is timed twice: in a fresh browser page until the map is drawn, and without a browser
over Streamlit's websocket protocol until the server has sent the map (the server's part). The
slowdown is the median view of a condition over the idle median.
"""
from __future__ import annotations

import asyncio
import os
import re
import statistics
import time
from pathlib import Path

from benchmarks.browser import CHROMIUM_ARGS, chromium_path, streamlit_server

GOAL = 2.0
EPOCHS = 200  # the most the page offers: more than the measurement lasts (it checks)


async def start_training(browser, url: str, timeout_s: float):
    """A browser page on the Train page that starts a long training and waits for its first
    epoch; returns the page's context (close it to stop watching: the training goes on)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    await page.goto(f"{url}/train")
    field = page.locator(".st-key-train_epochs input")
    await field.fill(str(EPOCHS))
    await field.press("Enter")
    await page.wait_for_timeout(2000)  # the rerun with the new epochs has drawn the button again
    await page.get_by_role("button", name="Start training").first.click()
    try:
        await page.get_by_text(re.compile(r"^After epoch \d+:")).first.wait_for(timeout=timeout_s * 1000)
    except Exception:
        if os.environ.get("AECORE_BENCH_SHOTS"):  # what the page showed instead
            await page.screenshot(path=os.path.join(os.environ["AECORE_BENCH_SHOTS"], "no-training.png"))
        raise
    return context


async def views(browser, url: str, n: int, timeout_s: float) -> dict[str, list[float]]:
    """n page views of the Latent map one after another: seconds to a drawn map in a browser,
    and seconds until the server had sent it without one."""
    from benchmarks.load import drawn_map, sent_map
    out = {"drawn": [], "sent": []}
    for _ in range(n):
        _, drawn, errors, _ = await drawn_map(browser, url, timeout_s)
        sent, server_errors = await sent_map(url, timeout_s)
        if errors or server_errors:
            raise RuntimeError(f"a page view showed an error: {(errors + server_errors)[0][:300]}")
        out["drawn"].append(drawn)
        out["sent"].append(sent)
    return out


async def measure_training(args, tmp: str) -> dict:
    from playwright.async_api import async_playwright
    env = {**os.environ, "AECORE_CACHE_DIR": tmp, "AECORE_TRAINED_DIR": str(Path(tmp) / "trained"),
           "AECORE_DATA_DIR": str(Path(tmp) / "no-data"), "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("AECORE_DEMO", None)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        with open(Path(tmp) / "server.log", "w+") as log, streamlit_server("app.py", env, log) as (_, url):
            await views(browser, url, 1, args.timeout)  # warm: model, data and codes loaded once
            m = {"idle": await views(browser, url, args.views, args.timeout)}
            watcher = await start_training(browser, url, args.timeout)
            m["watched"] = await views(browser, url, args.views, args.timeout)
            await watcher.close()
            m["unwatched"] = await views(browser, url, args.views, args.timeout)
            m["epochs"] = await epochs_done(browser, url)
        await browser.close()
    return m


async def epochs_done(browser, url: str) -> str:
    """What another visitor reads on the Train page about the running training."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(f"{url}/train")
    info = page.get_by_text("for another visitor")
    await info.wait_for()
    text = await info.inner_text()
    await context.close()
    return text


POLL_SCRIPT = """
import streamlit as st
from ui.train_widgets import _live
_live(st.session_state["_session_id"])
"""


def poll_costs(runs: int = 5) -> tuple[float, float]:
    """(CPU seconds of a full run of the Train page, of a run of its live fragment alone), each the
    median of `runs`, while this session's training waits after its first epoch: what each
    second of watching costs the server's scripts, with reruns or with the fragment (AppTest, in
    this process; Streamlit's own work per run comes on top of both)."""
    import threading

    from streamlit.testing.v1 import AppTest

    from benchmarks.browser import REPO
    from ui import training
    hold, real = threading.Event(), training.train
    def held(*args, on_epoch=None, **kwargs):  # each epoch waits until the measurement is done
        return real(*args, on_epoch=lambda record: (on_epoch(record), hold.wait(600)), **kwargs)
    training.train = held
    try:
        at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600).run()
        at.switch_page("pages/9_train.py").run()
        at.button(key="train_start").click().run()
        job = training.trainer().mine(at.session_state["_session_id"])
        while job is not None and not job.epoch:
            time.sleep(0.1)
            job = training.trainer().mine(at.session_state["_session_id"])
        if job is None or job.error:
            raise RuntimeError(f"the training did not start: {job and job.error}")
        fragment = AppTest.from_string(POLL_SCRIPT, default_timeout=600)
        for key in ("_session_id", "_train_drawn"):
            fragment.session_state[key] = at.session_state[key]
        costs = []
        for test in (at, fragment):
            test.run()  # once to warm
            times = []
            for _ in range(runs):
                start = time.process_time()
                test.run()
                times.append(time.process_time() - start)
            costs.append(statistics.median(times))
        return costs[0], costs[1]
    finally:
        hold.set()
        training.trainer().stop(at.session_state["_session_id"])
        training.trainer().join(600)
        training.train = real


def report_training(m: dict) -> int:
    """Print each condition's median and slowest view beside the goal; 1 if a goal is missed."""
    missed = 0
    print(f"{'page views of the Latent map':<34} {'median':>8} {'slowest':>8}   slowdown (goal <= {GOAL:g}x)")
    for how in ("drawn", "sent"):
        idle = statistics.median(m["idle"][how])
        for condition in ("idle", "watched", "unwatched"):
            times = m[condition][how]
            ratio = statistics.median(times) / idle
            ok = ratio <= GOAL
            missed += not ok
            what = "drawn in a browser" if how == "drawn" else "sent by the server"
            print(f"{what + ', ' + condition:<34} {statistics.median(times):>7.2f}s {max(times):>7.2f}s   "
                  f"{ratio:.2f}x {'ok' if ok else 'MISSED'}")
    print(f"the training meanwhile: {m['epochs'][:200]}")
    print(f"the machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at the end")
    return 1 if missed else 0


async def main_training(args) -> int:
    import tempfile
    with tempfile.TemporaryDirectory(prefix="aecore-trainload-") as tmp:
        (Path(tmp) / "no-data").mkdir()
        start = time.perf_counter()
        os.environ["AECORE_TRAINED_DIR"] = str(Path(tmp) / "poll")
        os.environ["AECORE_CACHE_DIR"] = tmp
        full, fragment = poll_costs()
        print(f"watching a training, per second: a full run of the Train page {full * 1000:.0f} CPU ms, "
              f"its live fragment alone {fragment * 1000:.0f} CPU ms (the page uses the fragment)")
        m = await measure_training(args, tmp)
        print(f"measured in {time.perf_counter() - start:.0f} s")
        return report_training(m)


def run(args) -> int:
    return asyncio.run(main_training(args))
