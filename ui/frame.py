"""The frame around every page body: errors become a short message, never a traceback; and the
one workaround Streamlit needs for this app's pages/ folder.

Streamlit treats an app whose main script has a `pages/` folder beside it as a legacy
multipage app, and runs a page file on its own (no app.py, so no sidebar) until some session has
called st.navigation in this process: a deep link right after the server starts, and every
AppTest. `use_navigation_pages()` says, once and before that happens, that pages/ holds
st.navigation pages. It sets Streamlit's class attribute PagesManager.uses_pages_directory, the
flag st.navigation itself sets; tests/test_frame.py fails if Streamlit changes underneath it.
"""
from __future__ import annotations

import contextlib
import logging
from typing import Iterator

import streamlit as st

log = logging.getLogger("aecore.app")


def use_navigation_pages() -> bool:
    """Mark pages/ as st.navigation pages for this process. True when Streamlit had taken the
    app for a legacy multipage app (the caller may then need to rerun)."""
    from streamlit.runtime.pages_manager import PagesManager
    legacy = bool(getattr(PagesManager, "uses_pages_directory", False))
    PagesManager.uses_pages_directory = False
    return legacy


def ensure_frame() -> None:
    """In a page body: if Streamlit ran this page without app.py, switch to st.navigation and
    rerun, which runs app.py with this page."""
    if use_navigation_pages():
        st.rerun()


def message(err: Exception) -> str:
    """A short message that says what to do, without the server's folders in a hosted demo
    (ui.text.without_paths); the traceback goes to the server log only."""
    from ui.text import without_paths
    return without_paths(_message(err))


def _message(err: Exception) -> str:
    from aecore.checkpoint import CheckpointError  # here: app.py's server start imports this module,
    from aecore.data import DataError              # and must not wait for torch
    from aecore.pictures.images import ImageError

    if isinstance(err, CheckpointError):
        return f"{err} Pick another checkpoint in the sidebar."
    if isinstance(err, DataError):
        return f"{err} Or pick the bundled mnist-sample in the sidebar."
    if isinstance(err, (ImageError, ValueError)):
        return f"{err}"
    if isinstance(err, MemoryError):
        return "Out of memory: pick a smaller dataset (mnist-sample) or fewer points."
    text = str(err).splitlines()[0][:200] if str(err) else ""
    return (f"Something went wrong on this page ({type(err).__name__}{': ' + text if text else ''}). "
            "Try another checkpoint or setting, or reload the page; details are in the server log.")


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Run a page body: any Exception becomes a short st.error, the traceback goes to the log.
    Streamlit's own rerun/stop signals are BaseExceptions and pass through."""
    ensure_frame()
    try:
        yield
    except Exception as err:  # noqa: BLE001 -- users see a message, never a traceback
        log.exception("page failed")
        st.error(message(err))
