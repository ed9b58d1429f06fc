"""When a visitor's browser tab is gone for good, for what its session leaves behind (a training
waiting in line, the demo's checkpoints).

Streamlit releases a session's session-scoped resources (st.cache_resource(scope="session",
on_release=...)) as soon as its websocket closes, but keeps the session itself
server.disconnectedSessionTTL seconds (120) for the tab to come back: a network blip, a server too
busy to answer a ping in time, a laptop waking up. The tab then carries on where it was, so what
it left must not be thrown away at the first disconnect. `when_gone(key, callback)`, called in a
script run, calls `callback` once that session has been disconnected for the whole TTL, checking
every CHECK_S seconds with the runtime's is_active_session: the one Streamlit internal here
(tests/test_tabs.py fails if it changes). Without a server (AppTest) a released session is gone
at once.
"""
from __future__ import annotations

import threading
import time
from typing import Callable

import streamlit as st

CHECK_S = 5.0
_waiting: set[tuple[str, str]] = set()  # (session id, key) of the watches under way
_lock = threading.Lock()


def when_gone(key: str, callback: Callable[[], None]) -> None:
    """In a script run: call `callback` (once, in a thread of its own) when this tab is gone for
    good. `key` names the watch: one per key and session, however often this is called."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
    if (ctx := get_script_run_ctx()) is not None:
        _armed(ctx.session_id, key, callback)


def _released(armed: tuple[str, str, Callable[[], None]]) -> None:
    session_id, key, callback = armed
    with _lock:
        if (session_id, key) in _waiting:
            return
        _waiting.add((session_id, key))
    threading.Thread(target=_wait, args=(session_id, key, callback), name=f"aecore-tab-{key}", daemon=True).start()


@st.cache_resource(scope="session", on_release=_released, show_spinner=False)
def _armed(session_id: str, key: str, _callback: Callable[[], None]) -> tuple:
    return session_id, key, _callback


def connected(session_id: str) -> bool | None:
    """Whether the session's websocket is connected now; None without a server."""
    from streamlit import runtime
    if not runtime.exists():
        return None
    return runtime.get_instance().is_active_session(session_id)


def disconnected_ttl() -> float:
    """Seconds Streamlit keeps a disconnected session for its tab to come back."""
    return float(st.get_option("server.disconnectedSessionTTL"))


def _wait(session_id: str, key: str, callback: Callable[[], None]) -> None:
    ttl, since = disconnected_ttl(), time.monotonic()
    try:
        while (now := connected(session_id)) is not None:
            if now:
                since = time.monotonic()  # it came back: the TTL starts again at its next disconnect
            elif time.monotonic() - since >= ttl:
                break
            time.sleep(CHECK_S)
        callback()
    finally:
        with _lock:
            _waiting.discard((session_id, key))
