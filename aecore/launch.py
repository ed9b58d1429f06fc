"""Where the explorer's files are, and its server: `aecore app` runs it in the foreground,
aecore.explore (aecore/notebook.py) in the background.

In a clone the app (app.py, pages/, ui/, .streamlit/config.toml, checkpoints/) is the repository's
root, beside aecore/. An installed wheel carries the same files as the folder `aecore_app`
(pyproject.toml maps the root onto it), so they run unchanged: the server is `python -m streamlit
run app.py` with that folder as its working directory; Streamlit puts app.py's folder on sys.path
(`import ui`) and reads .streamlit/config.toml from the working directory.

This module imports neither streamlit nor torch: a notebook starts the server without loading it.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

APP_PACKAGE = "aecore_app"  # the installed copy of the app's files (pyproject.toml)
CLONE = Path(__file__).resolve().parents[1]  # the repository root, when aecore runs from a clone
PORT, HOST = 8501, "127.0.0.1"  # Streamlit's usual port; only this machine unless asked


def _is_app(folder: Path) -> bool:
    return all((folder / part).exists() for part in ("app.py", "ui/widgets.py", "pages"))


def app_root() -> Path:
    """The folder holding app.py: the clone's root, else the installed aecore_app. FileNotFoundError
    saying what to do when neither is there (a copy of aecore/ alone)."""
    if _is_app(CLONE):
        return CLONE
    spec = importlib.util.find_spec(APP_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if _is_app(Path(folder)):
            return Path(folder)
    raise FileNotFoundError(f"the explorer's files (app.py, pages/, ui/) are neither beside {CLONE / 'aecore'} "
                            f"nor installed as {APP_PACKAGE}: install the package (`pip install .` in the "
                            "repository) or run from a clone of it")


def zoo_dir() -> Path:
    """The shipped checkpoints (recipe.json, baselines.json, the zoo): the app's checkpoints/."""
    try:
        return app_root() / "checkpoints"
    except FileNotFoundError:  # the library alone: `aecore zoo` and `report` say what is missing
        return CLONE / "checkpoints"


def command(port: int = PORT, host: str = HOST) -> list[str]:
    """The server's command line (run it in app_root())."""
    return [sys.executable, "-m", "streamlit", "run", str(app_root() / "app.py"), "--server.port", str(port),
            "--server.address", host, "--server.headless", "true", "--browser.gatherUsageStats", "false"]


def environment(checkpoints: str | Path | None = None, data: list[str | Path] | tuple = (),
                trained: str | Path | None = None) -> dict[str, str]:
    """This process's environment with the app's folders set where given: AECORE_CHECKPOINTS (the
    picker's folder), AECORE_DATA_DIR (dataset folders, the first found first), AECORE_TRAINED_DIR
    (where the Train page saves). NotADirectoryError naming a folder that is not one."""
    env = dict(os.environ)
    for name, value in (("AECORE_CHECKPOINTS", checkpoints), ("AECORE_TRAINED_DIR", trained)):
        if value is not None:
            env[name] = str(_folder(value))
    if data:
        env["AECORE_DATA_DIR"] = os.pathsep.join(str(_folder(d)) for d in data)
    return env


def _folder(path: str | Path) -> Path:
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise NotADirectoryError(f"{path}: no such folder")
    return folder


def run(port: int, host: str, env: dict[str, str]) -> int:
    """`aecore app`: the server in the foreground until Ctrl-C; its exit status. On POSIX this
    process becomes the server (exec), so every signal reaches Streamlit itself."""
    cmd, root = command(port, host), app_root()
    if os.name == "posix":
        os.chdir(root)
        os.execve(cmd[0], cmd, env)
    process = subprocess.Popen(cmd, cwd=root, env=env)
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        return process.wait()


class ServerDidNotStart(RuntimeError):
    """The server exited, or did not answer in time; the message ends with its output."""


@dataclass
class Server:
    """A server started in the background, its output going to `log`."""
    process: subprocess.Popen
    url: str
    log: Path

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.running():
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def start(port: int, host: str, env: dict[str, str], log: Path, timeout_s: float = 90) -> Server:
    """The server in the background on host:port, once /_stcore/health answers; ServerDidNotStart
    (with its output) when it exits first or does not answer within `timeout_s`."""
    with open(log, "ab") as out:
        process = subprocess.Popen(command(port, host), cwd=app_root(), env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    # reaped the moment it exits: a Jupyter kernel shutting down waits for its children, and an
    # unreaped server would stay one (a zombie) until the kernel is killed before its exit handlers
    threading.Thread(target=process.wait, name="aecore-server-reaper", daemon=True).start()
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    server, deadline = Server(process, url, log), time.monotonic() + timeout_s
    while not healthy(url):
        if not server.running() or time.monotonic() > deadline:
            server.stop()
            raise ServerDidNotStart(f"the explorer did not start on {url} (exit status {process.poll()}); "
                                    f"its output ({log}):\n{log.read_text(errors='replace')[-3000:]}")
        time.sleep(0.2)
    return server
