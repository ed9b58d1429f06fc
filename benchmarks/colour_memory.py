"""`python -m benchmarks.colour_memory`: the app server's peak memory with a 100,000-picture colour
set loaded and mapped, printed beside its goal (2.5 GB).

It generates the colour sprites with 100,000 test pictures (and 1,000 training ones) into a
temporary data folder (or uses --data DIR holding sprites/), starts `streamlit run app.py` on it,
and asks for the Latent map of a colour checkpoint (default checkpoints/sprites-vae) on that set
over Streamlit's websocket protocol, as a browser does: the server reads the pictures, encodes all
100,000 (no stored codes are for these pictures), projects them and sends the map. The resident
memory of the server's process tree is sampled every 50 ms throughout; no browser shares the machine.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from aecore.data.sprites import generate
from benchmarks.browser import streamlit_server
from benchmarks.load import PeakMemory, tree_rss

GOAL_GB = 2.5
BOOT_S = 5.0  # default seconds between the server answering and the first session (a browser booting)
TEST_PICTURES, TRAIN_PICTURES = 100_000, 1_000


async def latent_map(url: str, query: str, timeout_s: float) -> tuple[float, int, list[str]]:
    """One session: run the Latent map page with `query` over the websocket; (seconds until the
    script finished, points in the map's chart, error texts sent)."""
    import json

    import websockets  # a dependency of streamlit
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    start, errors, points = time.perf_counter(), [], 0
    async with asyncio.timeout(timeout_s), websockets.connect(
            url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"], max_size=None) as ws:
        back = BackMsg()
        back.rerun_script.page_name = "latent_map"
        back.rerun_script.query_string = query
        await ws.send(back.SerializeToString())
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await ws.recv())
            if msg.WhichOneof("type") == "script_finished":
                return time.perf_counter() - start, points, errors
            if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                kind = element.WhichOneof("type")
                if kind == "plotly_chart":
                    traces = json.loads(element.plotly_chart.spec or "{}").get("data", [])
                    points = max(points, sum(_count(t.get("x")) for t in traces if t.get("name") != "grid"))
                elif kind == "exception" or (kind == "alert" and element.alert.format == element.alert.ERROR):
                    errors.append(str(getattr(element, kind)).strip())


def _count(values) -> int:
    from benchmarks.apptest import count_values as count
    return count(values)


def measure(ckpt: Path, data: Path, timeout_s: float, wait_s: float = BOOT_S) -> dict:
    """Start the server on `data` (a folder holding sprites/) and map the set; the numbers in a dict."""
    with tempfile.TemporaryDirectory() as tmp:
        checkpoints = Path(tmp) / "checkpoints"
        checkpoints.mkdir()
        os.symlink(ckpt.resolve(), checkpoints / ckpt.name)
        env = {**os.environ, "AECORE_DATA_DIR": str(data), "AECORE_CACHE_DIR": str(Path(tmp) / "cache"),
               "AECORE_CHECKPOINTS": str(checkpoints), "PYTHONDONTWRITEBYTECODE": "1"}
        with open(Path(tmp) / "server.log", "w+") as log, streamlit_server("app.py", env, log) as (server, url):
            memory = PeakMemory(server.pid)  # from the start: the server's own preload of the set counts
            memory.start()
            try:
                # a browser's first page arrives seconds after the server is up (a session at once
                # races the preload thread's imports: "partially initialized module")
                time.sleep(wait_s)
                idle = tree_rss(server.pid)
                seconds, points, errors = asyncio.run(
                    latent_map(url, f"checkpoint={ckpt.name}&dataset=sprites", timeout_s))
            finally:
                memory.stopped.set()
                memory.join()
            after = tree_rss(server.pid)
    return {"idle": idle, "peak": memory.peak, "after": after, "seconds": seconds, "points": points,
            "errors": errors}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.colour_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", default="checkpoints/sprites-vae", help="a colour checkpoint (default %(default)s)")
    parser.add_argument("--data", default=None, metavar="DIR",
                        help="a folder holding sprites/ made by `python -m aecore download sprites --to DIR/sprites "
                             f"--train {TRAIN_PICTURES} --test {TEST_PICTURES}` (default: generated into a temporary folder)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds the map may take (default %(default)s)")
    parser.add_argument("--wait", type=float, default=BOOT_S,
                        help="seconds from the server answering to the first session (default %(default)s, a browser "
                             "booting: the server is still preloading the set; 120: it has finished)")
    args = parser.parse_args(argv)
    ckpt = Path(args.checkpoint)
    if not (ckpt / "config.json").is_file():
        print(f"error: no checkpoint folder {ckpt}; pass a colour checkpoint with --checkpoint", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(args.data) if args.data else Path(tmp)
        if not args.data:
            made = generate(data / "sprites", train=TRAIN_PICTURES, test=TEST_PICTURES)
            print(f"generated {made.summary()}")
        m = measure(ckpt, data, args.timeout, args.wait)
    gb = m["peak"] / 1e9
    print(f"{os.cpu_count()} CPUs; {ckpt}; the Latent map of {m['points']:,} colour pictures in {m['seconds']:.1f} s "
          f"(the first session {args.wait:g} s after the server answered)")
    print(f"server memory: {args.wait:g} s after it answered {m['idle'] / 1e9:.2f} GB, after the map "
          f"{m['after'] / 1e9:.2f} GB")
    print(f"{'peak memory of the server, set loaded and mapped':52s} {gb:6.2f} GB  goal <= {GOAL_GB} GB  "
          f"{'ok' if gb <= GOAL_GB else 'OVER'}")
    if m["errors"] or m["points"] < TEST_PICTURES:
        print(f"error: the map showed {m['points']:,} points; errors: {m['errors']}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
