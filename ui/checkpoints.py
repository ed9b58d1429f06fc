"""The checkpoints a visitor can pick: the valid folders in the checkpoint folder, those the Train
page saved (trained_dir), plus this session's uploads, unpacked into a per-session temporary
folder outside the repository that is deleted when the session ends (or the server stops)."""
from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import streamlit as st

from aecore.checkpoint import (MAX_UPLOAD_BYTES, CheckpointError, is_onnx_folder, list_checkpoints,
                               load_checkpoint, read_config, unpack_upload)
from aecore.checkpoint.names import name_from, unique_name
from aecore.checkpoint.upload import IncompleteUpload
from aecore.pictures.pixels import MNIST, ImageShape
from ui import upload_memory
from ui.cached import stamp

UPLOADS = "uploaded_checkpoints"  # session_state: {path: picker label} of this session's valid uploads
MAX_FILES = 6  # an ONNX model's: encoder.onnx, decoder.onnx, their two .data files, onnx.json, metrics.json
KEPT_UPLOADS = 5  # a session's valid uploads kept on disk; an older one is deleted
_roots: set[str] = set()  # every upload folder of this process, for the exit


def _remove(root: str) -> None:
    _roots.discard(root)
    shutil.rmtree(root, ignore_errors=True)


@st.cache_resource(scope="session", on_release=_remove, show_spinner=False)
def upload_root() -> str:
    """This session's upload folder. Streamlit has no public "session ended" hook, but it
    releases a session-scoped resource when its session disconnects: `_remove` then deletes
    the folder with every upload in it. A session that reconnects gets a new, empty folder."""
    root = tempfile.mkdtemp(prefix="aecore-upload-")
    _roots.add(root)
    return root


@atexit.register
def _remove_all() -> None:  # on_release is not called when the server stops
    for root in list(_roots):
        _remove(root)


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


def _uploads() -> dict[str, str]:
    """This session's valid uploads {path: label}; forgotten when Streamlit released their folder
    (the session had disconnected). Their files left the server's memory once read, so a visitor
    whose tab reconnects uploads again; files still held (a checkpoint's first) are unpacked anew."""
    uploads = st.session_state.setdefault(UPLOADS, {})
    if uploads and st.session_state.get("_upload_root") != upload_root():
        uploads.clear()
        st.session_state.pop("_upload_done", None)
    return uploads


def uploads() -> list[str]:
    """Paths of this session's valid uploads."""
    return list(_uploads())


def available() -> list[str]:
    """Paths of every valid checkpoint in the checkpoint folder, then those the Train page saved,
    then this session's uploads."""
    return scan()[0] + scan(trained_dir())[0] + list(_uploads())


def _described(name: str, origin: str, kind: str, latent_dim: int, image=None) -> str:
    """'name (origin) · kind · d-D', and the images it takes when they are not MNIST's 28x28 grey
    (`image`: an ImageShape or config.json's [C, H, W])."""
    try:
        shape = image if image is None or isinstance(image, ImageShape) else ImageShape.from_list(image)
    except ValueError:
        shape = None
    return f"{name} ({origin}) · {kind} · {latent_dim}-D" + (f" · {shape}" if shape not in (None, MNIST) else "")


@st.cache_data(show_spinner=False)
def _label(path: str, weights: str, origin: str) -> str:
    if is_onnx_folder(path):  # no config.json: its model says what it is
        model = load_checkpoint(path).model
        return _described(Path(path).name, origin, model.kind, model.latent_dim, getattr(model, "image_shape", None))
    model = read_config(path)["model"]  # no weights loaded for a label
    return _described(Path(path).name, origin, model["kind"], model["latent_dim"], model.get("image"))


@st.cache_data(show_spinner=False)
def _recipe_names(recipe: str, mtime: int) -> frozenset[str]:
    try:
        return frozenset(json.loads(Path(recipe).read_text()))
    except (OSError, ValueError):
        return frozenset()


def origin(path: str) -> str:
    """Where a checkpoint comes from: "zoo" (an entry of the checkpoint folder's recipe.json: the
    shipped models), "local" (another folder there: one's own, a notebook's), "trained here" (the
    Train page's), "upload" (this session's)."""
    if path in st.session_state.get(UPLOADS, {}):
        return "upload"
    return folder_origin(path)


def folder_origin(path: str) -> str:
    """origin() of a checkpoint that is not an upload: known without a session."""
    folder = Path(path).parent
    if folder != checkpoint_dir():
        return "trained here"
    recipe = folder / "recipe.json"
    return "zoo" if Path(path).name in _recipe_names(str(recipe), _mtime(recipe)) else "local"


def label(path: str) -> str:
    """'name (origin(path)) · kind · d-D' for pickers; an upload's label was made as it was
    accepted (read-only here: a picker may ask outside a script run)."""
    if path in (uploads := st.session_state.get(UPLOADS, {})):
        return uploads[path]
    origin_ = origin(path)
    try:
        return _label(path, stamp(path), origin_)
    except CheckpointError:
        return f"{Path(path).name} ({origin_})"


def warm_labels(paths: list[str]) -> None:
    """Read every picker label once, outside any session (the server's preload), so that the
    first page view's sidebar finds them cached: 18 config.json files checked cost it ~0.06 s."""
    for path in paths:
        try:
            _label(path, stamp(path), folder_origin(path))
        except CheckpointError:
            pass


def taken_names() -> set[str]:
    """The names of the checkpoints in the picker (the zoo's, those trained here, this session's
    uploads) and of the folders the zoo skipped: every checkpoint's name is unique, as pages, the
    Leaderboard and Compare's default call a checkpoint by its name."""
    return zoo_names() | {Path(p).name for p in scan(trained_dir())[0] + list(_uploads())}


def zoo_names() -> set[str]:
    """The names of the checkpoint folder's checkpoints (valid or skipped)."""
    valid, skipped = scan()
    return {Path(p).name for p in valid} | {name for name, _ in skipped}


def over_limits(files) -> str | None:
    """What is wrong with an upload's sizes, or None: checked before any of it is read."""
    if len(files) > MAX_FILES:
        return f"{len(files)} files; upload at most {MAX_FILES}: config.json and model.safetensors, or encoder.onnx and decoder.onnx, or one .zip"
    sizes = [(f.name, f.size) for f in files]
    if any(size > MAX_UPLOAD_BYTES for _, size in sizes) or sum(s for _, s in sizes) > MAX_UPLOAD_BYTES:
        name, size = max(sizes, key=lambda ns: ns[1])
        return (f"{'the files are' if len(files) > 1 else name + ' is'} {sum(s for _, s in sizes) / 2**20:.1f} MB; "
                f"an upload may hold at most {MAX_UPLOAD_BYTES / 2**20:.0f} MB")
    return None


def _digest(files) -> str:
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.name):
        h.update(f.getvalue())
    return h.hexdigest()[:12]


def handle_upload(files) -> None:
    """Unpack an upload into this session's upload folder and validate it; a valid one joins the
    picker and is selected, a bad one (or one above the limits, before any of it is read) gets its
    message. Once read, its files leave the server's memory (ui/upload_memory), unless they are a
    checkpoint's first files, to which the visitor may add the rest. The session keeps its last
    KEPT_UPLOADS valid uploads."""
    if not (files := upload_memory.held(files)):  # all read and let go of already
        forget_upload()
        return
    upload_memory.watch_session()  # this tab's files leave memory when it closes
    uploads = _uploads()  # first: a released folder means this upload must be unpacked again
    signature = "|".join(str(getattr(f, "file_id", f"{f.name}:{f.size}")) for f in files)
    if st.session_state.get("_upload_done") == signature:
        return  # already handled on an earlier rerun
    st.session_state["_upload_done"] = signature
    st.session_state.pop("_upload_released", None)
    if problem := over_limits(files):
        st.session_state["_upload_error"] = f"Upload rejected: {problem}."
        _release(files)
        return
    try:
        path, label = _accept(files)
    except CheckpointError as err:
        st.session_state["_upload_error"] = f"Upload rejected: {err}"
        if not isinstance(err, IncompleteUpload):
            _release(files)
        return
    _release(files)
    st.session_state.pop("_upload_error", None)
    uploads.pop(path, None)
    uploads[path] = label
    while len(uploads) > KEPT_UPLOADS:
        shutil.rmtree(Path(old := next(iter(uploads))).parent, ignore_errors=True)
        del uploads[old]
    st.session_state["checkpoint"] = path  # before the picker exists, so this is allowed


def _accept(files) -> tuple[str, str]:
    """(path, picker label) of a valid upload, unpacked and loaded as the pages will; its folder
    is named by the one rule (aecore.checkpoint.names): a .zip's name, else its model's own
    (onnx.json's name, config.json's title), else upload-<digest>, unique among the picker's."""
    digest = _digest(files)
    st.session_state["_upload_root"] = upload_root()
    fallback = f"upload-{digest[:6]}"
    zipped = len(files) == 1 and files[0].name.lower().endswith(".zip")
    folder = Path(upload_root()) / digest / fallback
    uploads = _uploads()
    for same in [p for p in uploads if Path(p).parent == folder.parent]:  # the same files again: anew
        del uploads[same]
    shutil.rmtree(folder.parent, ignore_errors=True)
    try:
        unpack_upload({f.name: f.getvalue() for f in files}, folder)
        model = (ckpt := load_checkpoint(folder)).model  # strictly: what the pages will load
    except CheckpointError as err:  # name the uploaded file, not our temp folder
        shutil.rmtree(folder.parent, ignore_errors=True)
        text = str(err).replace(f"{folder}/", "uploaded ").replace(str(folder), "the upload")
        raise type(err)(text) from None
    own = Path(files[0].name).name[:-4] if zipped else str((ckpt.config.get("about") or {}).get("title") or "")
    name = unique_name(name_from(own, fallback), taken_names())
    if name != folder.name:
        folder = folder.rename(folder.with_name(name))
    return str(folder), _described(name, "upload", model.kind, model.latent_dim, getattr(model, "image_shape", None))


def _release(files) -> None:
    upload_memory.release(files)
    st.session_state["_upload_released"] = True


def forget_upload() -> None:
    """The uploader holds no file: its next file is a new upload. Unless this session let go of
    the files itself (they were read): the uploader still shows them, so their message stays."""
    if st.session_state.get("_upload_released"):
        return
    st.session_state.pop("_upload_done", None)
    st.session_state.pop("_upload_error", None)
