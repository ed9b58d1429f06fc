"""What the server does as it starts and while it runs, outside any page view: put the default
checkpoint's first map (its dataset, its codes, the figure) into the shared caches before the
first visitor's browser has booted, with the modules and compiled page scripts a first page view
needs (warm_streamlit); freeze what is loaded out of the garbage collector's way; a
few seconds after the first page has run, import pandas, load torch and the default model (so a
first click decodes at once) and compile UMAP, in the background.

The first map needs no torch when the checkpoint stores its codes (aecore.checkpoint.codes, as
the zoo's do): importing torch takes over a second here, and in a thread beside the server it
also slows every request the first browser makes while it boots.

app.py's `st.App` runs `lifespan` when `streamlit run app.py` starts the server.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import os
import threading
from pathlib import Path

import streamlit as st

from ui.frame import use_navigation_pages  # light: this module is imported as the server starts

log = logging.getLogger("aecore.app")
WARM_UP_DELAY_S = 2.0  # the first browser draws its page meanwhile; torch's import would slow it


def freeze_long_lived() -> None:
    """Streamlit runs a full gc.collect() after every script run. With torch, plotly and numba
    loaded, that scan cost ~0.15 CPU s per page view (twice the page's own work). gc.freeze()
    moves every object alive now (libraries, the preloaded model and data) where collections no
    longer look; the few a page in flight holds at that moment are then never collected."""
    gc.freeze()


@st.cache_resource(show_spinner=False)
def _preloaded(folder: str, data_dir: str) -> str | None:
    """Inside a cached function, the caches it calls show no spinner: there is no page here."""
    from ui import cached, checkpoints, maps
    paths = checkpoints.scan()[0]
    if not paths:
        return None
    maps.first_map(paths[0], cached.dataset_for(paths[0]))
    checkpoints.warm_labels(paths)  # the sidebar's picker
    return paths[0]


ROOT = Path(__file__).resolve().parent.parent
FIRST_SCRIPTS = ("app.py", "pages/1_overview.py", "pages/2_latent_map.py")  # the main script, the landing pages
FIRST_MODULES = ("ui.widgets", "ui.display", "ui.exports")  # what those import beside the first map's


def warm_streamlit() -> None:
    """The once-per-process work of a first page view, done ahead: importing the modules its
    pages need, Streamlit's compiling the main script and the pages a first visit lands on (its
    script cache keeps their bytecode, 0.02-0.035 s each here) and its check that it runs outside a
    REPL (inspect.stack() over every frame: 0.07 s on the first element a process sends)."""
    import importlib
    try:
        for module in FIRST_MODULES:
            importlib.import_module(module)
        from streamlit import delta_generator
        from streamlit.runtime import Runtime
        delta_generator._maybe_print_use_warning()  # runs once per process; no warning under `streamlit run`
        if Runtime.exists():
            for script in FIRST_SCRIPTS:
                Runtime.instance()._script_cache.get_bytecode(str(ROOT / script))
    except Exception:  # noqa: BLE001 -- Streamlit internals moved: the first page view does it itself
        log.exception("warming Streamlit up failed")


def preload() -> None:
    """Fill the shared caches with what the first page view needs: the default checkpoint's (the
    picker's first) dataset, its test split's codes and its Latent map as a first visit shows it."""
    from ui.checkpoints import checkpoint_dir
    try:
        path = _preloaded(str(checkpoint_dir()), os.environ.get("AECORE_DATA_DIR", ""))
        log.info("preloaded %s", path)
    except Exception:  # noqa: BLE001 -- the page itself will load it again and show the error
        log.exception("preload failed")


_STARTED, _PRELOADED = threading.Event(), threading.Event()
PRELOAD_WAIT_S = 60.0


class _PageViews:
    """Page views run side by side; an import that must not meet one runs alone. Two threads
    importing the same modules at once can each see the other's half-initialised: aecore.data's
    registry and loader import each other ("cannot import name 'DATASETS' from partially
    initialized module", a session that connected as the server started), and so do pandas'
    modules ("partially initialized module 'pandas' has no attribute 'Series'"; scikit-learn
    imports pandas, so any page that fits a map can be importing it)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._running, self._alone = 0, False

    @contextlib.contextmanager
    def page(self):
        """Around a whole page view: first wait for the server's preload (its imports and the
        first map; a browser boots for a second or more before its first view, the preload takes
        under half of that) and for an import running alone."""
        if _STARTED.is_set():
            _PRELOADED.wait(PRELOAD_WAIT_S)
        with self._cond:
            self._cond.wait_for(lambda: not self._alone)
            self._running += 1
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def alone(self):
        """Wait for a moment with no page view running, then hold new ones back until done."""
        with self._cond:
            self._cond.wait_for(lambda: self._running == 0 and not self._alone)
            self._alone = True
        try:
            yield
        finally:
            with self._cond:
                self._alone = False
                self._cond.notify_all()


PAGE_VIEWS = _PageViews()
page_view = PAGE_VIEWS.page  # app.py: `with server.page_view(): ...` around each page view


def _preload_then_freeze() -> None:
    # The first map needs plotly, not pandas: pandas (0.3 CPU s) waits for the warm-up, since every
    # CPU second spent here while the first browser boots on the same cores delays its first page.
    try:
        import plotly.graph_objects  # noqa: F401
        preload()
        warm_streamlit()
    finally:
        _PRELOADED.set()
    freeze_long_lived()  # then each page view's garbage collection skips all of that


@contextlib.asynccontextmanager
async def lifespan(_app):
    """The st.App lifespan: before the first session, mark pages/ as st.navigation pages and start
    preloading in a thread. The server answers once this returns, so nothing slow runs here."""
    use_navigation_pages()
    from ui import upload_memory
    upload_memory.install()  # uploaded files within a quota, before any session can upload
    _STARTED.set()  # from now on a page view waits for the preload (page_view)
    threading.Thread(target=_preload_then_freeze, name="aecore-preload", daemon=True).start()
    yield


def _warm_model() -> None:
    """torch and the default checkpoint's model, which the first map did not need."""
    from ui import cached, checkpoints
    try:
        if paths := checkpoints.scan()[0]:
            cached.load(paths[0])
            log.info("loaded %s", paths[0])
    except Exception:  # noqa: BLE001 -- the page that needs it will load it and show the error
        log.exception("loading the default model failed")


def _warm_up() -> None:
    with PAGE_VIEWS.alone():  # 0.3 s: then scikit-learn, here or in a page, finds it imported
        import pandas  # noqa: F401
    _warm_model()
    _warm_umap()
    freeze_long_lived()  # torch's, numba's and umap's objects too


def _warm_umap() -> None:
    import numpy as np

    from aecore.latent import project
    from aecore.latent.inverse import inverse_map
    try:  # numba compiles UMAP's kernels on first use (or loads them from its disk cache)
        codes = np.random.default_rng(0).standard_normal((500, 16)).astype(np.float32)
        xy = project(codes, "umap", 0)
        inverse_map(codes, xy, "umap").inverse_transform(xy[:1])  # and those of a click's decoding
        log.info("umap warmed up")
    except Exception:  # noqa: BLE001 -- a failed warm-up only costs time later
        log.exception("umap warm-up failed")


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread | None:
    """Once per process, WARM_UP_DELAY_S after it is first called, load the default model and
    compile UMAP in a background thread (AECORE_NO_WARMUP=1 skips it, for tests). A page that
    needs either sooner loads it itself."""
    if os.environ.get("AECORE_NO_WARMUP") == "1":
        return None
    thread = threading.Timer(WARM_UP_DELAY_S, _warm_up)
    thread.name, thread.daemon = "aecore-warm-up", True
    thread.start()
    return thread
