"""`python -m benchmarks.load`: how the hosted demo loads, measured in headless Chromium, each
number printed beside its goal (the responsiveness numbers are `python -m benchmarks.app`).

1. Cold start: seconds from `streamlit run app.py` (AECORE_DEMO=1, an empty cache folder) until
   the Latent map page of ae-2d shows its drawn plotly chart.
2. Then N browser pages (one Chromium, one context each: N separate sessions) open the Latent map
   at once: the slowest page's seconds to a drawn map, and whether any page shows an error; also
   the CPU seconds the server and Chromium used meanwhile, and how busy the machine's cores were.
3. Then the server's part alone: N sessions at once over Streamlit's websocket protocol, without a
   browser: the slowest session's seconds until the server had sent its map.
4. All along, the peak resident memory of the server's process tree.

--reference measures the same for a reference app instead: a bare Streamlit page holding only a
plotly WebGL scatter of 5,000 random points in 10 traces, the least any Streamlit + plotly map
costs. On a machine where the browser pages share the CPU with the server, its numbers are the
floor under ours: what is left above it is the explorer's own cost.

Checkpoints come from $AECORE_CHECKPOINTS or checkpoints/, the dataset from the usual default
($AECORE_DATA_DIR or the bundled sample; --sample forces the sample). Chromium: $CHROMIUM_PATH,
/usr/bin/chromium, else Playwright's own.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.browser import CHROMIUM_ARGS, chromium_path, streamlit_server

GOALS = {"cold": 4.0, "many": 15.0, "memory_gb": 2.0, "cold_ratio": 1.15, "points_ratio": 2.0}
# 0: loading; 1: the script finished and sent the map (the server's part is done); 2: plotly drew it
STAGE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const gd = document.querySelector('.st-key-map .js-plotly-plot');
  if (!app || app.dataset.testScriptState !== 'notRunning' || !document.querySelector('.st-key-map')) return 0;
  return gd && gd._fullData && gd._fullData.length > 0 && gd.querySelector('.main-svg') ? 2 : 1;
}"""
REFERENCE_APP = """
import numpy as np, plotly.graph_objects as go, streamlit as st
def latent_map():
    st.title("Latent map")
    st.sidebar.selectbox("Checkpoint", ["reference page"], key="checkpoint")
    xy, label = np.random.default_rng(0).normal(size=(5000, 2)), np.arange(5000) % 10
    fig = go.Figure([go.Scattergl(x=xy[label == c, 0], y=xy[label == c, 1], mode="markers", name=str(c))
                     for c in range(10)])
    st.plotly_chart(fig.update_layout(height=620), on_select="rerun", key="map")
st.navigation([st.Page(latent_map, title="Latent map", url_path="latent_map")]).run()
"""
ERRORS_JS = """() => [...document.querySelectorAll(
  '[data-testid="stException"], [data-testid="stAlertContentError"]')].map(e => e.innerText)"""


def _tree(root: int) -> dict[int, list[str]]:
    """/proc/<pid>/stat fields (after the command name) of `root` and all its descendants."""
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            stats[int(stat.parent.name)] = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError, ValueError):
            continue
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, fields in stats.items():
            if int(fields[1]) in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return {pid: stats[pid] for pid in tree if pid in stats}


def tree_rss(root: int) -> int:
    """Resident bytes of process `root` and all its descendants."""
    return sum(int(f[21]) for f in _tree(root).values()) * os.sysconf("SC_PAGE_SIZE")


def tree_cpu(root: int) -> float:
    """CPU seconds (user + system) used so far by process `root` and its descendants, including
    those that have exited (a closed page's renderer) once their parent has reaped them."""
    return sum(sum(map(int, f[11:15])) for f in _tree(root).values()) / os.sysconf("SC_CLK_TCK")


def busy_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, from /proc/stat."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK"), sum(ticks) / os.sysconf("SC_CLK_TCK")


class PeakMemory(threading.Thread):
    """Samples tree_rss(pid) every 50 ms until stopped; .peak in bytes."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stopped = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self.stopped.wait(0.05)


async def drawn_map(browser, url: str, timeout_s: float) -> tuple[float, float, list[str], str]:
    """In a new session: (seconds until the script had sent the map, seconds until the map was
    drawn, error texts on the page, the checkpoint shown)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await context.new_page()
        start = time.perf_counter()
        await page.goto(f"{url}/latent_map", wait_until="commit")
        sent = None
        while (stage := await page.evaluate(STAGE_JS)) < 2:
            if stage == 1 and sent is None:
                sent = time.perf_counter() - start
            if time.perf_counter() - start > timeout_s:
                if os.environ.get("AECORE_BENCH_SHOTS"):  # what the page showed instead
                    await page.screenshot(path=os.path.join(os.environ["AECORE_BENCH_SHOTS"], "no-map.png"))
                raise TimeoutError(f"no drawn map after {timeout_s:g} s")
            await asyncio.sleep(0.1)
        drawn = time.perf_counter() - start
        picked = await page.locator(".st-key-checkpoint input").input_value()
        return sent or drawn, drawn, await page.evaluate(ERRORS_JS), picked
    finally:
        await context.close()


async def sent_map(url: str, timeout_s: float) -> tuple[float, list[str]]:
    """A session without a browser: ask for the Latent map over Streamlit's websocket protocol, as
    the browser does; (seconds until the server had sent the map's chart, error texts sent)."""
    import websockets  # a dependency of streamlit
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    start, errors = time.perf_counter(), []
    async with asyncio.timeout(timeout_s), websockets.connect(
            url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"], max_size=None) as ws:
        back = BackMsg()
        back.rerun_script.page_name = "latent_map"
        await ws.send(back.SerializeToString())
        chart = None
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await ws.recv())
            if msg.WhichOneof("type") == "script_finished":
                if chart is None:
                    errors.append("the script finished without sending a chart")
                return chart or time.perf_counter() - start, errors
            if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                kind = element.WhichOneof("type")
                if kind == "plotly_chart" and chart is None:
                    chart = time.perf_counter() - start
                elif kind == "exception" or (kind == "alert" and element.alert.format == element.alert.ERROR):
                    errors.append(str(getattr(element, kind)).strip())


def server_env(args, cache: str) -> dict:
    env = {**os.environ, "AECORE_DEMO": "1", "AECORE_CACHE_DIR": cache, "PYTHONDONTWRITEBYTECODE": "1"}
    if args.sample:
        env["AECORE_DATA_DIR"] = str(Path(cache) / "no-data")  # empty: the bundled sample
    return env


async def measure(args, tmp: str) -> dict:
    """Start the server cold, load one page, then args.pages at once; the numbers in a dict."""
    from playwright.async_api import async_playwright
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        m = {}
        script = "app.py"
        if args.reference:
            script = str(Path(tmp) / "reference_app.py")
            Path(script).write_text(REFERENCE_APP)
        with open(Path(tmp) / "server.log", "w+") as log:
            start = time.perf_counter()  # the clock starts with `streamlit run`; the browser is ready
            with streamlit_server(script, server_env(args, tmp), log) as (server, url):
                m["up"] = time.perf_counter() - start
                memory = PeakMemory(server.pid)
                memory.start()
                try:
                    _, m["first"], m["errors"], m["picked"] = await drawn_map(browser, url, args.timeout)
                    m["cold"] = m["up"] + m["first"]  # until drawn, not the page's closing after it
                    cpu, everything, machine, wall = (tree_cpu(server.pid), tree_cpu(os.getpid()),
                                                      busy_cpu(), time.perf_counter())
                    m["results"] = await asyncio.gather(
                        *(drawn_map(browser, url, args.timeout) for _ in range(args.pages)),
                        return_exceptions=True)
                    m["cpu"], m["wall"] = tree_cpu(server.pid) - cpu, time.perf_counter() - wall
                    m["browser_cpu"] = tree_cpu(os.getpid()) - everything - m["cpu"]  # Chromium + driver
                    busy, total = (b - a for a, b in zip(machine, busy_cpu()))
                    m["busy"] = busy / total
                    await browser.close()  # the server's part alone: Chromium no longer shares the cores
                    m["server_only"] = await asyncio.gather(
                        *(sent_map(url, args.timeout) for _ in range(args.pages)), return_exceptions=True)
                finally:
                    memory.stopped.set()
                    memory.join()
                    await browser.close()
        m["peak_gb"] = memory.peak / 2**30
        return m


def report(m: dict, pages: int) -> int:
    """Print each number beside its goal; 1 when a page failed or showed an error, else 0."""
    results = m["results"]
    failed = [r for r in results if isinstance(r, BaseException)]
    loaded = [r for r in results if not isinstance(r, BaseException)]
    times, sent = [r[1] for r in loaded], [r[0] for r in loaded]
    bad = len(failed) + sum(1 for r in loaded if r[2]) + bool(m["errors"])
    slowest = max(times) if times and not failed else float("inf")
    alone = m["server_only"]
    alone_bad = [r for r in alone if isinstance(r, BaseException) or r[1]]
    alone_slowest = max(r[0] for r in alone) if not alone_bad else float("inf")
    print(f"checkpoint shown: {m['picked']}; server healthy after {m['up']:.1f} s; "
          f"the first page's own load {m['first']:.1f} s")
    rows = [
        ("cold start to a drawn latent map", f"{m['cold']:.1f} s", f"<= {GOALS['cold']:g} s", m["cold"] <= GOALS["cold"]),
        (f"{pages} pages at once: slowest drawn map", f"{slowest:.1f} s", f"<= {GOALS['many']:g} s",
         slowest <= GOALS["many"]),
        (f"server alone, {pages} sessions: slowest map sent", f"{alone_slowest:.1f} s",
         f"<= {GOALS['many']:g} s", alone_slowest <= GOALS["many"]),
        ("server peak memory (RSS, process tree)", f"{m['peak_gb']:.2f} GB", f"<= {GOALS['memory_gb']:g} GB",
         m["peak_gb"] <= GOALS["memory_gb"]),
        ("pages showing an error or not drawn", f"{bad}", "0", bad == 0),
    ]
    for name, value, goal, ok in rows:
        print(f"{name:<44} {value:>9}   goal {goal:<9} {'ok' if ok else 'MISSED'}")
    print(f"during the {pages} pages: {m['wall']:.1f} s wall; the server used {m['cpu']:.1f} CPU s, Chromium "
          f"{m['browser_cpu']:.1f} CPU s ({m['browser_cpu'] / pages:.1f} per page); the machine's "
          f"{os.cpu_count()} cores were {m['busy']:.0%} busy")
    if times:
        print(f"per page: drawn after {min(times):.1f} to {max(times):.1f} s; the server had sent the "
              f"map after {min(sent):.1f} to {max(sent):.1f} s (the rest is Chromium drawing)")
    for r in failed[:3]:
        print(f"a page failed: {str(r).splitlines()[0]}")
    for r in alone_bad[:3]:
        print(f"a session without a browser failed: {str(r if isinstance(r, BaseException) else r[1][0])[:300]}")
    for texts in [m["errors"], *(r[2] for r in loaded)]:
        if texts:
            print(f"error on a page: {texts[0][:300]}")
            break
    if not m["picked"].startswith(("ae-2d", "reference page")):
        print("the map was not ae-2d's: the benchmark needs ae-2d to be the first checkpoint")
        return 1
    return 1 if bad or alone_bad else 0


async def main(args) -> int:
    with tempfile.TemporaryDirectory(prefix="aecore-load-") as tmp:
        if args.cold_runs or args.points:  # ratios to a reference measured alike (benchmarks/ratios.py)
            from benchmarks.ratios import extras
            return await extras(args, tmp)
        if args.uploads:  # the server under uploads instead (benchmarks/uploads.py)
            from benchmarks.uploads import measure_uploads, report_uploads
            return report_uploads(await measure_uploads(args, tmp, server_env(args, tmp)), args.pages)
        return report(await measure(args, tmp), args.pages)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=20, help="browser pages opened at once (default 20)")
    parser.add_argument("--sample", action="store_true", help="use the bundled sample even if $AECORE_DATA_DIR is set")
    parser.add_argument("--reference", action="store_true",
                        help="measure the reference page (a bare Streamlit + plotly scatter) instead of the app")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a page may take (default 120)")
    parser.add_argument("--cold-runs", type=int, default=0, metavar="N",
                        help="instead: N cold starts of the app and of the reference page, taking turns, "
                             "and their ratio")
    parser.add_argument("--points", metavar="DATASET", default=None,
                        help="instead: the map of every point of DATASET's train + test against its test split "
                             "(e.g. fashion-mnist)")
    parser.add_argument("--uploads", action="store_true",
                        help="measure the server under checkpoint uploads instead: --pages sessions upload at once, "
                             "--rounds times; the folders left, hostile uploads, peak memory (benchmarks/uploads.py)")
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of --pages uploads for --uploads, or turns of each map for --points (default 5)")
    parser.add_argument("--train", action="store_true",
                        help="instead: page views while the app trains, against idle (benchmarks/train_load.py)")
    parser.add_argument("--views", type=int, default=5, help="with --train: page views per condition (default 5)")
    args = parser.parse_args()
    if args.train:
        from benchmarks.train_load import run
        sys.exit(run(args))
    sys.exit(asyncio.run(main(args)))
