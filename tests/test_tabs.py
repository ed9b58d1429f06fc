"""The Streamlit internal ui/tabs.py relies on: the runtime says whether a session's websocket is
connected now (False as soon as it closes, while Streamlit still keeps the session for the tab to
come back). These fail when Streamlit changes it; tests/test_train_page.py tests what the Train
page does with it."""
from __future__ import annotations

import asyncio
import inspect
import os

import pytest


def test_the_runtime_still_says_whether_a_session_is_connected():
    from streamlit import runtime
    from streamlit.runtime import Runtime
    from streamlit.runtime.websocket_session_manager import WebsocketSessionManager
    assert callable(runtime.exists) and callable(runtime.get_instance)
    assert list(inspect.signature(Runtime.is_active_session).parameters) == ["self", "session_id"]
    # connected sessions only: a disconnected one waits in the session storage, not in this dict
    assert "_active_session_info_by_id" in inspect.getsource(WebsocketSessionManager.is_active_session)
    assert "_session_storage.save" in inspect.getsource(WebsocketSessionManager.disconnect_session)


@pytest.mark.slow
def test_a_closed_tab_is_not_an_active_session_though_streamlit_keeps_it(app_env, tmp_path):
    """On a real server, through the one request that asks is_active_session of a client's
    session id: the upload route takes files while the tab is connected and refuses them after."""
    from benchmarks.browser import streamlit_server
    from benchmarks.sessions import Session, put_file
    env = {**os.environ, "TMPDIR": str(tmp_path), "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION": "false"}

    async def visit(url: str) -> str:
        async with Session(url, timeout_s=240) as session:
            stored, refused = await session.put({"a.zip": b"x"})
            assert len(stored) == 1 and not refused
            return session.session_id

    with open(tmp_path / "server.log", "w+") as log, streamlit_server("app.py", env, log, timeout=240) as (_, url):
        session_id = asyncio.run(visit(url))
        for _ in range(50):  # the server notices the closed websocket within a moment
            try:
                put_file(f"{url}/_stcore/upload_file/{session_id}/later", "b.zip", b"x")
            except Exception as err:  # noqa: BLE001 -- urllib's HTTPError
                assert getattr(err, "code", None) == 400 and "Invalid session_id" in err.read().decode()
                return
            asyncio.run(asyncio.sleep(0.1))
        pytest.fail("the closed tab's session still counted as active")
