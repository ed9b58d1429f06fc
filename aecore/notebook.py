"""aecore.explore: the explorer on a notebook's own model, in one call.

    view = aecore.explore(encoder, decoder, images, labels)   # torch modules, numpy or torch arrays
    view = aecore.explore("checkpoints/my-vae")                # an aecore checkpoint or ONNX model folder
    view = aecore.explore("encoder.onnx", "decoder.onnx", images)

Everything is checked in the notebook's process before a server starts, and every problem is one
ExploreError that says what was wrong. Modules are exported to ONNX and compared with the graphs
(aecore.models.from_torch); images become a dataset (aecore.data.from_arrays). Both go into this
process's temporary folder, which the server reads: its checkpoints/ is the picker, its data/ comes
before $AECORE_DATA_DIR. The server (aecore.launch) starts on the first call, on a free port of
127.0.0.1, and later calls add their model to it; another process (another notebook) gets its own.
stop(), or the process's exit, stops the server and removes the folder. No streamlit is imported here.
"""
from __future__ import annotations

import atexit
import html
import os
import shutil
import socket
import sys
import tempfile
import threading
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import launch
from .checks import lookup

PAGES = {"overview": "", "latent map": "latent_map", "generate": "generate", "denoise": "denoise",
         "units": "units", "compare": "compare", "attribute vectors": "steer", "leaderboard": "leaderboard",
         "train": "train", "history": "history", "traversals": "traversals"}  # app.py's pages: title -> URL path (tests check the two agree)
OUTPUTS, PRIORS = ("probabilities", "logits"), (None, "normal")


class ExploreError(ValueError):
    """What is wrong with what aecore.explore was given; shown in a notebook as this one line."""

    def _render_traceback_(self) -> list[str]:  # IPython shows these lines instead of a traceback
        return [f"{type(self).__name__}: {self}"]


def page_path(name: str) -> str:
    """The URL path of a page given by its title ("Latent map") or its path ("latent_map")."""
    key = name.strip().lower().replace("_", " ").replace("-", " ")
    by_path = {path.replace("_", " "): path for path in PAGES.values() if path}
    try:
        return by_path[key] if key in by_path else lookup(PAGES, key, "page")
    except ValueError as e:
        raise ExploreError(str(e)) from None


@dataclass(frozen=True)
class Explorer:
    """The explorer showing one checkpoint: `url`, `page(name)` for another page, `stop()`; in
    Jupyter it shows itself as the app in an iframe."""
    base: str                  # http://127.0.0.1:PORT
    checkpoint: str            # its folder's name in the picker
    dataset: str | None = None  # the notebook's images, when given
    path: str = "latent_map"   # the page

    @property
    def url(self) -> str:
        query = {"checkpoint": self.checkpoint, **({"dataset": self.dataset} if self.dataset else {})}
        return f"{self.base}/{self.path}?{urllib.parse.urlencode(query)}"

    def page(self, name: str) -> "Explorer":
        """The same checkpoint on another page: "Generate", "units", "attribute vectors", ..."""
        return replace(self, path=page_path(name))

    def stop(self) -> None:
        """Stop this process's explorer server and remove its folder (every Explorer of it stops)."""
        stop()

    def _repr_html_(self) -> str:
        url = html.escape(self.url, quote=True)
        return (f'<iframe src="{url}" width="100%" height="820" style="border: 1px solid #d0d7de; '
                f'border-radius: 6px"></iframe><p><a href="{url}" target="_blank">{url}</a></p>')

    def __repr__(self) -> str:
        return f"Explorer({self.url})"


@dataclass
class _Session:
    """This process's folder and server, and the datasets already written into it by digest."""
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="aecore-explore-")))
    server: launch.Server | None = None
    datasets: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for sub in ("checkpoints", "data", "trained", "staging"):
            (self.folder / sub).mkdir()


_session: _Session | None = None
_lock = threading.RLock()


def explore(model, decoder=None, images=None, labels=None, *, classes=None, name: str | None = None,
            page: str = "latent map", input_range=None, output: str | None = None, prior: str | None = None,
            host: str = launch.HOST, port: int | None = None) -> Explorer:
    """Open the explorer on `model`: an encoder (torch.nn.Module, with `decoder`), a checkpoint
    folder (aecore's or one of ONNX graphs), or the path of encoder.onnx (with `decoder` the path
    of decoder.onnx). `images` in the display layout ((N, H, W) grey, (N, H, W, 3) colour), the
    batch layout (N, C, H, W) or flat rows (MNIST's (N, 784)), uint8 or floats in [0, 1], numpy or
    torch (as aecore.data.from_arrays reads them), are what the pages show, with `labels` (class numbers, named by `classes`,
    or class names). For modules and graphs: `input_range` the pixel values the encoder takes
    (default (0, 1)), `output` "probabilities" (default) or "logits", `prior` "normal" for a VAE.
    `name` names it in the picker; `page` is the page to open. The first call starts the server
    on `host`:`port` (default 127.0.0.1 and a free port); later calls add to it."""
    from .models import from_torch  # noqa: F401 -- torch: loaded before the lock, where the work starts
    meta = _meta(input_range, output, prior)
    path = page_path(page)
    with _lock:
        session = _current()
        try:
            entry, dataset = _add(session, model, decoder, images, labels, classes, name, meta)
        except (ValueError, TypeError, OSError) as e:
            raise ExploreError(str(e)) from None
        finally:
            shutil.rmtree(session.folder / "staging", ignore_errors=True)
            (session.folder / "staging").mkdir(exist_ok=True)
        base = _server(session, host, port)
    view = Explorer(base, entry, dataset, path)
    if not _in_jupyter():
        print(f"The explorer shows {entry} at {view.url}")
    return view


def stop() -> None:
    """Stop this process's explorer server, if any, and remove its folder."""
    global _session
    with _lock:
        session, _session = _session, None
    if session is not None:
        if session.server is not None:
            session.server.stop()
        shutil.rmtree(session.folder, ignore_errors=True)


atexit.register(stop)


def _current() -> _Session:
    global _session
    if _session is None:
        _session = _Session()
    return _session


def _meta(input_range, output, prior) -> dict:
    """What onnx.json says for the notebook's model, from explore's arguments (those given)."""
    meta = {}
    if input_range is not None:
        black, white = (float(v) for v in input_range)
        if not black < white:
            raise ExploreError(f"input_range={tuple(input_range)}: give (black, white), e.g. (0, 1) or (0, 255)")
        meta["input_range"] = [black, white]
    if output is not None:
        meta["output"] = output if output in OUTPUTS else _bad("output", output, OUTPUTS)
    if prior is not None:
        meta["prior"] = prior if prior in PRIORS else _bad("prior", prior, PRIORS)
    return meta


def _bad(key: str, value, valid) -> None:
    raise ExploreError(f"{key}={value!r}: valid: {', '.join(map(repr, valid))}")


def _add(session: _Session, model, decoder, images, labels, classes, name, meta) -> tuple[str, str | None]:
    """Check what was given, write it into the session's folder; (checkpoint name, dataset or None)."""
    from .staging import add_model
    data = None
    if images is not None:
        from .data import from_arrays
        pixels = from_arrays.as_images(images)
        ids, names = from_arrays.as_labels(labels, len(pixels), classes)
        data = (pixels, ids, names)
    elif labels is not None or classes is not None:
        raise ValueError("labels and classes go with images: pass images=... too")
    return add_model(session.folder, model, decoder, images, data, name, meta, session.datasets)


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _server(session: _Session, host: str, port: int | None) -> str:
    """The base URL of the session's server, started now unless it runs."""
    if session.server is not None and session.server.running():
        return session.server.url
    roots = [session.folder / "data", *filter(None, os.environ.get("AECORE_DATA_DIR", "").split(os.pathsep))]
    env = launch.environment(session.folder / "checkpoints", [r for r in roots if Path(r).is_dir()],
                             session.folder / "trained")
    try:
        session.server = launch.start(port or _free_port(host), host, env, session.folder / "server.log")
    except (launch.ServerDidNotStart, FileNotFoundError) as e:
        raise ExploreError(str(e)) from None
    return session.server.url


def _in_jupyter() -> bool:
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return type(shell).__name__ == "ZMQInteractiveShell"
