"""What the server holds of uploaded files (ui/upload_memory.py): Streamlit's own upload route,
run in-process with the bounded store, refuses a file past a session's or the server's quota
with HTTP 413 and keeps nothing of it; these tests fail when the Streamlit internals that module
touches change. Against a real server (slow): the quota holds per tab, and an upload the app has
read no longer counts against it."""
from __future__ import annotations

import asyncio
import os
import uuid

import pytest
from streamlit import config
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

from ui import upload_memory
from ui.upload_memory import MB, SESSION_BYTES, SESSION_FILES, BoundedUploads


class OneSession:
    """What Streamlit's upload route asks of the runtime: whether a session exists."""

    def is_active_session(self, session_id: str) -> bool:
        return session_id == "tab"


def put(app, data: bytes, session_id: str = "tab", file_id: str | None = None) -> tuple[int, bytes]:
    """One PUT of a file to Streamlit's upload route, as a browser sends it: (status, body)."""
    boundary, file_id = uuid.uuid4().hex, file_id or uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.zip"\r\n'
            "Content-Type: application/zip\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    scope = {"type": "http", "method": "PUT", "path": f"/_stcore/upload_file/{session_id}/{file_id}",
             "raw_path": b"", "root_path": "", "query_string": b"", "scheme": "http", "http_version": "1.1",
             "server": ("test", 80), "client": ("test", 1),
             "headers": [(b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
                         (b"content-length", str(len(body)).encode())]}
    chunks, sent = [body], []

    async def receive():
        return {"type": "http.request", "body": chunks.pop() if chunks else b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@pytest.fixture
def route():
    """(Streamlit's upload routes in a Starlette app, the bounded store they write into)."""
    from starlette.applications import Starlette
    from streamlit.web.server.starlette.starlette_routes import create_upload_routes
    store = MemoryUploadedFileManager("/_stcore/upload_file")
    store.__class__ = BoundedUploads  # as install() does to the running server's store
    before = config.get_option("server.enableXsrfProtection")
    config.set_option("server.enableXsrfProtection", False)
    try:
        yield Starlette(routes=create_upload_routes(OneSession(), store, None)), store
    finally:
        config.set_option("server.enableXsrfProtection", before)


def test_streamlits_upload_route_keeps_a_tab_within_its_files_and_bytes(route):
    app, store = route
    for _ in range(SESSION_FILES):
        assert put(app, b"x" * 1000)[0] == 204
    status, body = put(app, b"x" * 1000)
    assert status == 413 and b"this tab already holds 8 uploaded files" in body
    assert len(store.get_files("tab", list(store.file_storage["tab"]))) == SESSION_FILES  # the refused one is not kept
    store.remove_session_files("tab")
    big = os.urandom(9 * MB)
    assert [put(app, big)[0] for _ in range(3)] == [204, 204, 413]  # 27 MB > 26 MB
    assert store._total_bytes == 18 * MB < SESSION_BYTES


def test_the_server_as_a_whole_holds_at_most_its_quota(route, monkeypatch):
    app, store = route
    monkeypatch.setattr(upload_memory, "SERVER_BYTES", 3 * MB)
    monkeypatch.setattr(OneSession, "is_active_session", lambda self, sid: True)
    assert [put(app, bytes(MB), session_id=f"tab{i}")[0] for i in range(4)] == [204, 204, 204, 413]
    status, body = put(app, bytes(MB), session_id="tab9")
    assert status == 413 and b"the server is holding as many uploads as it can" in body
    store.remove_session_files("tab0")  # a tab closed (or its upload was read): room again
    assert put(app, bytes(MB), session_id="tab9")[0] == 204


def test_install_refuses_a_store_it_does_not_know(monkeypatch):
    from streamlit import runtime

    class Other:
        uploaded_file_mgr = object()
    monkeypatch.setattr(runtime, "exists", lambda: True)
    monkeypatch.setattr(runtime, "get_instance", lambda: Other())
    with pytest.raises(RuntimeError, match="not the MemoryUploadedFileManager ui/upload_memory.py bounds"):
        upload_memory.install()


@pytest.mark.slow
def test_a_real_server_bounds_each_tab_and_forgets_an_upload_once_read(app_env, tmp_path):
    """`streamlit run app.py`: the lifespan installs the quota; an accepted upload leaves the store."""
    from benchmarks.browser import streamlit_server
    from benchmarks.sessions import Session
    from test_uploads import zip_of
    from factories import CKPT_16D
    env = {**os.environ, "TMPDIR": str(tmp_path), "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION": "false"}

    async def visit(url: str) -> None:
        async with Session(url, timeout_s=240) as session:
            upload, _ = await session.put({"mine.zip": zip_of(app_env / CKPT_16D)})
            for _ in range(2):  # the browser sends the uploader's files again with every rerun
                run = await session.run_with(upload)
                assert not run.errors, run.errors
            extra = {f"f{i}.zip": os.urandom(1000) for i in range(SESSION_FILES)}
            stored, refused = await session.put(extra)
            assert len(stored) == SESSION_FILES and not refused, "the read upload still counted"
            stored, refused = await session.put({"one-more.zip": b"x"})
            assert not stored and "HTTP 413" in refused[0] and "already holds 8 uploaded files" in refused[0]

    with open(tmp_path / "server.log", "w+") as log, streamlit_server("app.py", env, log, timeout=240) as (_, url):
        asyncio.run(visit(url))
