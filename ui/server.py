"""What the server does as it starts and while it runs, outside any page view: load the default
checkpoint, dataset and codes into the shared caches before the first visitor's browser has
booted; freeze what is loaded out of the garbage collector's way; compile UMAP in the
background a few seconds after the first page has run.

app.py's `st.App` runs `lifespan` when `streamlit run app.py` starts the server.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import os
import threading

import streamlit as st

from ui.frame import use_navigation_pages  # light: this module is imported as the server starts

log = logging.getLogger("aecore.app")
WARM_UP_DELAY_S = 5.0  # the first browser draws its page meanwhile; UMAP's compile would slow it


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
    return paths[0]


def preload() -> None:
    """Fill the shared caches with what the first page view needs: torch, the default checkpoint
    (the picker's first), its dataset's test split, its codes and its Latent map as a first
    visit shows it."""
    from ui.checkpoints import checkpoint_dir
    try:
        path = _preloaded(str(checkpoint_dir()), os.environ.get("AECORE_DATA_DIR", ""))
        log.info("preloaded %s", path)
    except Exception:  # noqa: BLE001 -- the page itself will load it again and show the error
        log.exception("preload failed")


def _preload_then_freeze() -> None:
    preload()
    freeze_long_lived()  # then each page view's garbage collection skips all of that


@contextlib.asynccontextmanager
async def lifespan(_app):
    """The st.App lifespan: before the first session, mark pages/ as st.navigation pages, import
    the libraries every page uses, and start preloading in a thread (the server answers meanwhile)."""
    use_navigation_pages()
    # Imported here, once, before any thread: a page and the preload (or a training) importing
    # pandas at the same moment saw it half-initialised ("partially initialized module 'pandas'
    # has no attribute 'Series'") in the load benchmark's page views during a training.
    import pandas  # noqa: F401
    import plotly.graph_objects  # noqa: F401
    threading.Thread(target=_preload_then_freeze, name="aecore-preload", daemon=True).start()
    yield


def _warm_umap() -> None:
    import numpy as np

    from aecore.latent import project
    from aecore.latent.inverse import inverse_map
    try:  # numba compiles UMAP's kernels on first use (or loads them from its disk cache)
        codes = np.random.default_rng(0).standard_normal((500, 16)).astype(np.float32)
        xy = project(codes, "umap", 0)
        inverse_map(codes, xy, "umap").inverse_transform(xy[:1])  # and those of a click's decoding
        log.info("umap warmed up")
        freeze_long_lived()  # numba's and umap's objects too
    except Exception:  # noqa: BLE001 -- a failed warm-up only costs time later
        log.exception("umap warm-up failed")


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread | None:
    """Once per process, WARM_UP_DELAY_S after it is first called, compile UMAP in a background
    thread (AECORE_NO_WARMUP=1 skips it, for tests). A page that needs UMAP sooner compiles it."""
    if os.environ.get("AECORE_NO_WARMUP") == "1":
        return None
    thread = threading.Timer(WARM_UP_DELAY_S, _warm_umap)
    thread.name, thread.daemon = "umap-warm-up", True
    thread.start()
    return thread
