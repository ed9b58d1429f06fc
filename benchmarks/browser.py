"""What the browser tests (tests/ui/conftest.py) and the load benchmark (benchmarks/load.py) both
need: the headless Chromium to drive and its flags, and a `streamlit run` on a free port of
127.0.0.1 that is up once /_stcore/health answers. Plain Python: no pytest, no Playwright."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Iterator

from aecore.launch import healthy  # the same check as `aecore app`

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--enable-unsafe-swiftshader"]  # WebGL (the maps' scattergl) in software, as on CI


class ServerDidNotStart(RuntimeError):
    """`streamlit run` exited, or did not answer /_stcore/health in time."""


def chromium_path() -> str | None:
    """$CHROMIUM_PATH, else the system Chromium, else None (Playwright's own browser)."""
    if os.environ.get("CHROMIUM_PATH"):
        return os.environ["CHROMIUM_PATH"]
    for name in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if os.access(name, os.X_OK):
            return name
    return shutil.which("chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(script: str, env: dict, log: IO[str], timeout: float = 60,
                     poll: float = 0.05) -> Iterator[tuple[subprocess.Popen, str]]:
    """Run `streamlit run <script>` (from the repository root) headless on a free port of
    127.0.0.1, its output into `log` (opened w+); yield (process, URL) once /_stcore/health
    answers, and stop it afterwards. If it does not come up within `timeout` seconds:
    ServerDidNotStart, with the server's output."""
    url = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
         "--server.port", url.rsplit(":", 1)[1], "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout
        while not healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise ServerDidNotStart(f"streamlit did not come up on {url} within {timeout:g} s "
                                   f"(exit code {proc.poll()}); its output:\n{log.read()[-4000:]}")
            time.sleep(poll)
        yield proc, url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
