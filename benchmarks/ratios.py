"""`python -m benchmarks.load --cold-runs N` and `--points DATASET`: two measurements taken as
ratios to a reference measured in the same run, so the machine's load cancels out.

--cold-runs N: cold starts to a drawn map of the app and of the reference page (a bare Streamlit
+ plotly scatter, benchmarks.load.REFERENCE_APP), taking turns N times each; the ratio of their
medians. --points DATASET: on the Latent map, the seconds until the map of every image of the
dataset's train + test is drawn, against its test split's map: both chosen in turn --rounds times
(one draw varies by 2x on a shared machine), the ratio of their medians.
"""
from __future__ import annotations

import asyncio
import re
import statistics
import time
from pathlib import Path

from benchmarks.browser import CHROMIUM_ARGS, chromium_path, streamlit_server
from benchmarks.load import ERRORS_JS, GOALS, REFERENCE_APP, STAGE_JS, drawn_map, server_env

POINTS_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const gd = document.querySelector('.st-key-map .js-plotly-plot');
  if (!app || app.dataset.testScriptState !== 'notRunning' || !gd || !gd._fullData) return 0;
  return gd._fullData.reduce((n, t) => n + (t.name === 'grid' ? 0 : t._length), 0);
}"""


async def choose(page, key: str, option: str) -> None:
    """Pick `option` (its visible text, from the start) in the selectbox with `key`."""
    await page.locator(f".st-key-{key}").get_by_role("combobox").click()
    await page.get_by_role("option", name=re.compile(f"^{re.escape(option)}")).first.click()


async def points_drawn(page, key: str, option: str, count: int, timeout_s: float) -> float:
    """Seconds from picking `option` in selectbox `key` until the map holds `count` points."""
    start = time.perf_counter()
    await choose(page, key, option)
    while (shown := await page.evaluate(POINTS_JS)) != count:
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError(f"the map did not show {count:,} points within {timeout_s:g} s (it shows {shown:,})")
        await asyncio.sleep(0.05)
    return time.perf_counter() - start


async def every_point(browser, url: str, dataset: str, timeout_s: float, rounds: int) -> dict:
    """On the Latent map of the first checkpoint shown on `dataset`: seconds from choosing the test
    split's map, then the train + test one, until each is drawn, cold (the server computes its
    codes) and again, `rounds` times each in turn (both cached: what is left is sending and drawing)."""
    from aecore.data import split_size
    n_test = split_size(dataset, "test")  # counted from the labels files: no 70,000 images loaded here
    n_all = split_size(dataset, "train") + n_test
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await context.new_page()
        await page.goto(f"{url}/latent_map")
        while await page.evaluate(STAGE_JS) < 2:
            await asyncio.sleep(0.1)
        out = {"n_test": n_test, "n_all": n_all,
               "test_cold": await points_drawn(page, "dataset", dataset, n_test, timeout_s),
               "all_cold": await points_drawn(page, "split", "train + test", n_all, timeout_s)}
        out["test"], out["all"] = [], []
        for _ in range(rounds):
            out["test"].append(await points_drawn(page, "split", "test", n_test, timeout_s))
            out["all"].append(await points_drawn(page, "split", "train + test", n_all, timeout_s))
        out["errors"] = await page.evaluate(ERRORS_JS)
        return out
    finally:
        await context.close()


async def cold_starts(browser, tmp: str, args, runs: int) -> dict:
    """Cold starts to a drawn map, the app and the reference page taking turns `runs` times each,
    so both see the same machine: {"app": [s, ...], "reference": [s, ...]}."""
    reference = Path(tmp) / "reference_app.py"
    reference.write_text(REFERENCE_APP)
    times = {"app": [], "reference": []}
    for i in range(runs):
        for name, script in (("reference", str(reference)), ("app", "app.py")):
            cache = Path(tmp) / f"cold-{name}-{i}"  # empty: nothing cached from the turn before
            cache.mkdir()
            times[name].append(await _cold(browser, script, server_env(args, str(cache)), cache, args.timeout))
    return times


async def _cold(browser, script: str, env: dict, folder: Path, timeout_s: float) -> float:
    """Seconds from `streamlit run script` until its Latent map is drawn in a new page."""
    with open(folder / "cold.log", "w+") as log:
        start = time.perf_counter()
        with streamlit_server(script, env, log) as (_, url):
            up = time.perf_counter() - start
            _, drawn, _, _ = await drawn_map(browser, url, timeout_s)
            return up + drawn  # until drawn: not the page's closing after it (0.3-0.7 s, longer for a busier page)


def _listed(times: list[float]) -> str:
    return f"[{', '.join(f'{t:.2f}' for t in times)}]"


def _ratio_row(name: str, ratio: float, goal: float, detail: str) -> bool:
    """Print a ratio beside its goal and what it was measured from; True when it misses."""
    print(f"{name:<44} {ratio:>8.2f}x   goal <= {goal:g}x {'ok' if ratio <= goal else 'MISSED'}  ({detail})")
    return ratio > goal


async def extras(args, tmp: str) -> int:
    """--cold-runs and --points: the cold start beside the reference page, and every point."""
    from playwright.async_api import async_playwright
    failed = 0
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        if args.cold_runs:
            times = await cold_starts(browser, tmp, args, args.cold_runs)
            app, ref = statistics.median(times["app"]), statistics.median(times["reference"])
            failed += _ratio_row("cold start: app / reference page", app / ref, GOALS["cold_ratio"],
                                 f"medians of {args.cold_runs} turns each: app {app:.2f} s {_listed(times['app'])}, "
                                 f"reference {ref:.2f} s {_listed(times['reference'])}")
        if args.points:
            cache = Path(tmp) / "points"
            cache.mkdir()
            with open(cache / "server.log", "w+") as log, \
                    streamlit_server("app.py", server_env(args, str(cache)), log) as (_, url):
                m = await every_point(browser, url, args.points, args.timeout, args.rounds)
            test, every = statistics.median(m["test"]), statistics.median(m["all"])
            failed += _ratio_row(f"{m['n_all']:,}-point map / {m['n_test']:,}-point map, drawn", every / test,
                                 GOALS["points_ratio"],
                                 f"{args.points}, medians of {args.rounds} turns: {every:.2f} s {_listed(m['all'])} "
                                 f"vs {test:.2f} s {_listed(m['test'])}; the first time, codes computed: "
                                 f"{m['all_cold']:.2f} s vs {m['test_cold']:.2f} s")
            failed += bool(m["errors"])
            for text in m["errors"][:1]:
                print(f"error on the page: {text[:300]}")
        await browser.close()
    return 1 if failed else 0
