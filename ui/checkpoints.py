"""The checkpoints a visitor can pick: the valid folders in the checkpoint folder, those the Train
page saved (trained_dir), plus this session's uploads, unpacked into a per-session temporary
folder outside the repository."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import streamlit as st

from aecore.checkpoint import CheckpointError, list_checkpoints, load_checkpoint, read_config, unpack_upload
from ui.cached import stamp

UPLOADS = "uploaded_checkpoints"  # session_state: {path: label} of this session's valid uploads


def checkpoint_dir() -> Path:
    """$AECORE_CHECKPOINTS, else <repo>/checkpoints (read at call time, so tests can point it)."""
    return Path(os.environ.get("AECORE_CHECKPOINTS") or Path(__file__).resolve().parent.parent / "checkpoints")


@st.cache_data(show_spinner=False)
def _scan(folder: str, signature: str) -> tuple[list[str], list[tuple[str, str]]]:
    valid, skipped = list_checkpoints(folder)
    return [str(p) for p in valid], [(p.name, reason) for p, reason in skipped]


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def session_id() -> str:
    """A random id for this browser session, kept in its session state."""
    return st.session_state.setdefault("_session_id", uuid.uuid4().hex[:12])


def trained_dir() -> Path:
    """Where the Train page saves: $AECORE_TRAINED_DIR, else <cache root>/trained (never the
    repository, which may be read-only). In the hosted demo, one folder per session, so a
    visitor's picker lists only what that visitor trained."""
    from aecore.data.registry import cache_root
    folder = Path(os.environ.get("AECORE_TRAINED_DIR") or cache_root() / "trained")
    return folder / f"session-{session_id()}" if os.environ.get("AECORE_DEMO") == "1" else folder


def scan(folder: Path | None = None) -> tuple[list[str], list[tuple[str, str]]]:
    """(paths of the valid checkpoint folders, [(skipped folder name, reason)]) in `folder`
    (default: the checkpoint folder), rescanned when a folder's weights or config change."""
    folder = folder or checkpoint_dir()
    subs = sorted(folder.iterdir()) if folder.is_dir() else []
    signature = ";".join(f"{p.name}:{stamp(p)}:{_mtime(p / 'config.json')}" for p in subs if p.is_dir())
    return _scan(str(folder), signature)


def available() -> list[str]:
    """Paths of every valid checkpoint in the checkpoint folder, then those the Train page saved,
    then this session's uploads."""
    return scan()[0] + scan(trained_dir())[0] + list(st.session_state.get(UPLOADS, {}))


@st.cache_data(show_spinner=False)
def _label(path: str, weights: str) -> str:
    model = read_config(path)["model"]
    return f"{Path(path).name} · {model['kind']} · {model['latent_dim']}-D"


def label(path: str) -> str:
    """'name · kind · d-D' for pickers; uploads say so."""
    uploads = st.session_state.get(UPLOADS, {})
    try:
        text = _label(path, stamp(path))
    except CheckpointError:
        return Path(path).name
    return f"{uploads[path]} (upload) · {text.split(' · ', 1)[1]}" if path in uploads else text


def handle_upload(files) -> None:
    """Unpack an upload into this session's temp folder and validate it; a valid one joins the
    picker and is selected, a bad one gets its CheckpointError message."""
    signature = "|".join(f"{f.name}:{f.size}" for f in files)
    if st.session_state.get("_upload_done") == signature:
        return  # already handled on an earlier rerun
    st.session_state["_upload_done"] = signature
    data = {f.name: f.getvalue() for f in files}
    digest = hashlib.sha256(b"".join(data[n] for n in sorted(data))).hexdigest()[:12]
    if "_upload_root" not in st.session_state:  # per session, outside the (maybe read-only) repo
        st.session_state["_upload_root"] = tempfile.mkdtemp(prefix="aecore-upload-")
    folder = Path(st.session_state["_upload_root"]) / digest
    try:
        path = unpack_upload(data, folder)
        load_checkpoint(path)
    except CheckpointError as err:  # name the uploaded file, not our temp folder
        shutil.rmtree(folder, ignore_errors=True)
        text = str(err).replace(f"{folder}/", "uploaded ").replace(str(folder), "the upload")
        st.session_state["_upload_error"] = f"Upload rejected: {text}"
        return
    st.session_state.pop("_upload_error", None)
    name = Path(files[0].name).stem if len(files) == 1 else f"upload-{digest[:6]}"
    st.session_state.setdefault(UPLOADS, {})[str(path)] = name
    st.session_state["checkpoint"] = str(path)  # before the picker exists, so this is allowed


def forget_upload() -> None:
    """The uploader was emptied: its next file is a new upload."""
    st.session_state.pop("_upload_done", None)
    st.session_state.pop("_upload_error", None)
