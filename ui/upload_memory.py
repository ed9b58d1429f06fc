"""What the server holds of visitors' uploaded files, bounded and given back.

Streamlit keeps every file a browser PUTs to /_stcore/upload_file in memory (its
MemoryUploadedFileManager) until the session ends, and a session ends only
server.disconnectedSessionTTL (120 s) after its tab closed. The app's own checks (ui/checkpoints:
6 files, 16 MB) run after that, and server.maxUploadSize (10 MB) is per file: one session that
sent 150 files of 9.5 MB took the server from 1.65 to 3.86 GB. So:

- `install()` (at server start, ui/server.py) gives Streamlit's store a quota: a file that would
  take a session past SESSION_FILES files or SESSION_BYTES, or the server past SERVER_BYTES, is
  refused with HTTP 413 and a message, and dropped at once.
- `release(files)`: once the app has read an upload (ui/checkpoints.handle_upload), its files
  leave the store; the app works from the unpacked folder. `held(files)`: what is left of them.
- `watch_session()`: when the session's tab closes, its files leave the store then, not 120 s later.
- Memory freed goes back to the system. The route reads each file into one bytes object in a
  worker thread; glibc's malloc serves blocks of that size from per-thread arenas once a freed one
  has raised its adaptive mmap threshold, and malloc_trim cannot shrink those arenas: after 150
  refused files of 9.5 MB the server kept 78 MB more than before. `install()` fixes the threshold
  at MMAP_THRESHOLD, so every block from 1 MB up is its own mapping, unmapped when freed. That
  costs page faults on large tensors: encoding + decoding 10,000 images took 164 instead of
  150 CPU ms (medians 181 and 175; `python -m benchmarks.mmap_threshold`).
  `trim()` (malloc_trim) returns what the main heap frees.

This is the one module that touches Streamlit's upload internals (MemoryUploadedFileManager's
fields, the script run context, the runtime's manager). tests/test_upload_memory.py runs
Streamlit's own upload route against them and fails when Streamlit changes underneath.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

import streamlit as st
from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager

log = logging.getLogger("aecore.app")
MB = 2**20
SESSION_FILES = 8            # an upload holds at most 6 (ui/checkpoints.MAX_FILES); 2 more get the app's own message
SESSION_BYTES = 26 * MB      # an upload holds at most 16 MB, plus one file of server.maxUploadSize (10 MB)
SERVER_BYTES = 256 * MB      # every session together: 16 sessions uploading a full 16 MB at the same moment
MMAP_THRESHOLD = 1 * MB      # glibc: blocks this big or bigger are mappings of their own (M_MMAP_THRESHOLD)
M_MMAP_THRESHOLD = -3        # mallopt's parameter number (malloc.h)


class BoundedUploads(MemoryUploadedFileManager):
    """Streamlit's in-memory store of uploaded files, with a quota per session and for the server."""

    def add_file(self, session_id: str, file) -> None:
        with self._lock:
            held = [f for f in self.file_storage.get(session_id, {}).values() if f.file_id != file.file_id]
            problem = over_quota(len(held), sum(len(f.data) for f in held), self._total_bytes, len(file.data))
        if problem:
            from starlette.exceptions import HTTPException
            log.warning("upload refused for session %s: %s", session_id, problem)
            _trim_soon()  # once the route has let go of the file's bytes
            raise HTTPException(status_code=413, detail=problem)
        super().add_file(session_id, file)


def over_quota(files: int, session_bytes: int, server_bytes: int, size: int) -> str | None:
    """Why a file of `size` bytes may not join a session holding `files` files of
    `session_bytes`, on a server holding `server_bytes`; None when it may."""
    if files + 1 > SESSION_FILES:
        return (f"this tab already holds {files} uploaded files, the most it may: remove files from the "
                "uploader (an upload holds at most 6)")
    if session_bytes + size > SESSION_BYTES:
        return (f"this tab's uploaded files would hold {(session_bytes + size) / MB:.1f} MB; it may hold at most "
                f"{SESSION_BYTES / MB:.0f} MB: remove files from the uploader")
    if server_bytes + size > SERVER_BYTES:
        return "the server is holding as many uploads as it can: try again in a minute"
    return None


def install() -> bool:
    """Give the running server's upload store its quota (once; True if it was installed now).
    RuntimeError when Streamlit's store is not the class this module extends."""
    from streamlit import runtime
    if not runtime.exists():
        return False
    manager = runtime.get_instance().uploaded_file_mgr
    if isinstance(manager, BoundedUploads):
        return False
    if type(manager) is not MemoryUploadedFileManager:
        raise RuntimeError(f"Streamlit's upload store is a {type(manager).__name__}, not the "
                           "MemoryUploadedFileManager ui/upload_memory.py bounds: update that module")
    manager.__class__ = BoundedUploads  # the same object: Streamlit's routes and sessions hold it
    if (mallopt := _libc_function("mallopt")) is not None:
        mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    return True


def held(files) -> list:
    """The UploadedFiles among a file uploader's value in session state: there, Streamlit hands a
    file that left the store back as a DeletedFile (the widget's own return value drops those)."""
    from streamlit.typing import UploadedFile
    return [f for f in files or () if isinstance(f, UploadedFile)]


def release(files) -> None:
    """The app has read these UploadedFiles of this session: drop them from the store and empty
    them (the BytesIO lets go of the bytes it shared with the store; it stays open, as Streamlit
    copies a widget's value in each run), then hand the memory back."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
    ctx = get_script_run_ctx()
    for f in files:
        if ctx is not None:
            ctx.uploaded_file_mgr.remove_file(ctx.session_id, f.file_id)
        f.seek(0)
        f.truncate(0)
    trim()


def _drop(session_id: str) -> None:
    from streamlit import runtime
    if runtime.exists():
        runtime.get_instance().uploaded_file_mgr.remove_session_files(session_id)
    trim()


@st.cache_resource(scope="session", on_release=_drop, show_spinner=False)
def _session_files(session_id: str) -> str:
    return session_id


def watch_session() -> None:
    """In a script run of a session that uploads: when its tab closes (Streamlit releases its
    session-scoped resources then), drop its files from the store."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx
    if (ctx := get_script_run_ctx()) is not None:
        _session_files(ctx.session_id)


@functools.cache
def _libc_function(name: str):
    """glibc's function `name`, or None where there is none (macOS, musl for mallopt's numbers)."""
    path = ctypes.util.find_library("c")
    libc = ctypes.CDLL(path) if path else None
    return getattr(libc, name, None) if libc is not None and hasattr(libc, "gnu_get_libc_version") else None


def _trim_soon() -> None:
    """trim() half a second from now on the server's event loop (once, however many ask)."""
    import asyncio
    global _trim_due
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not on the server's loop
        return
    if not _trim_due:
        _trim_due = True
        loop.call_later(0.5, _trim_now)


def _trim_now() -> None:
    global _trim_due
    _trim_due = False
    trim()


_trim_due = False


def trim() -> None:
    """Return freed heap memory to the system (glibc's malloc_trim; elsewhere nothing)."""
    if (malloc_trim := _libc_function("malloc_trim")) is not None:
        malloc_trim(0)
