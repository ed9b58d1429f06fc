"""Checkpoint uploads in the app: sizes checked before any of an upload is read, each session's
upload folder deleted when Streamlit releases the session; and against a real server (slow), the folder gone once the visitor's tab closes."""
from __future__ import annotations

import asyncio
import io
import os
import zipfile
from pathlib import Path

import pytest
import streamlit as st
from factories import CKPT_2D, CKPT_16D

OVERVIEW = "pages/1_overview.py"


def zip_of(folder: Path, *extra: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("config.json", "model.safetensors", *extra):
            z.write(folder / name, f"{folder.name}/{name}")
    return buf.getvalue()


def upload(at, *files):
    at.sidebar.file_uploader(key="upload").set_value(list(files)).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_an_upload_above_the_limits_never_reaches_the_model_code(open_page, monkeypatch):
    import ui.checkpoints
    for name in ("unpack_upload", "load_checkpoint", "_digest"):
        monkeypatch.setattr(ui.checkpoints, name, lambda *a: pytest.fail(f"{name} was called"))
    at = upload(open_page(OVERVIEW, CKPT_2D), ("big.zip", bytes(17 * 2**20), "application/zip"))
    assert at.sidebar.error[0].value == "Upload rejected: big.zip is 17.0 MB; an upload may hold at most 16 MB."
    files = [(f"f{i}.json", b"{}", "application/json") for i in range(7)]
    at = upload(at, *files)
    assert at.sidebar.error[0].value.startswith("Upload rejected: 7 files; upload at most 6")
    assert at.sidebar.selectbox(key="checkpoint").value.endswith(CKPT_2D)  # still the old one


def test_the_upload_folder_goes_when_streamlit_releases_the_session(app_env, open_page):
    at = upload(open_page(OVERVIEW, CKPT_2D), ("mine.zip", zip_of(app_env / CKPT_16D), "application/zip"))
    root = Path(at.session_state["_upload_root"])
    assert [p.name for p in root.iterdir()] and at.title[0].value == "Tiny 16-D VAE"
    st.cache_resource.clear()  # what Streamlit does to a session's resources when it disconnects
    assert not root.exists()


def png() -> bytes:
    from PIL import Image
    buf = io.BytesIO()
    Image.new("L", (28, 28)).save(buf, "PNG")
    return buf.getvalue()


def empty_zip() -> bytes:
    buf = io.BytesIO()
    zipfile.ZipFile(buf, "w").close()
    return buf.getvalue()


def picked(at) -> Path:
    return Path(at.sidebar.selectbox(key="checkpoint").value)


def test_an_upload_named_dotdot_zip_gets_a_folder_of_its_own(app_env, open_page):
    """'...zip' was unpacked into a folder named '..': the session's upload root itself."""
    at = upload(open_page(OVERVIEW, CKPT_2D), ("...zip", zip_of(app_env / CKPT_16D), "application/zip"))
    root, path = Path(at.session_state["_upload_root"]), picked(at)
    assert path.name.startswith("upload-") and path.parent.parent == root and path.resolve().is_relative_to(root)
    assert f"{path.name} (upload) · vae · 16-D" in at.sidebar.selectbox(key="checkpoint").options


def test_an_upload_named_like_a_zoo_checkpoint_gets_a_name_of_its_own(app_env, open_page):
    at = upload(open_page(OVERVIEW, CKPT_2D), (f"{CKPT_2D}.zip", zip_of(app_env / CKPT_16D), "application/zip"))
    assert picked(at).name == f"{CKPT_2D}-2"
    assert [o.split(" · ")[0] for o in at.sidebar.selectbox(key="checkpoint").options] == \
        [f"{CKPT_2D} (local)", f"{CKPT_16D} (local)", f"{CKPT_2D}-2 (upload)"]


def test_loose_onnx_files_are_named_by_their_onnx_json(open_page, tmp_path):
    from onnx_factories import linear_pair
    linear_pair(tmp_path, d=3, meta={"name": "My linear model"})
    files = [(n, (tmp_path / n).read_bytes(), "application/octet-stream") for n in ("encoder.onnx", "decoder.onnx", "onnx.json")]
    at = upload(open_page(OVERVIEW, CKPT_2D), *files)
    assert picked(at).name == "My-linear-model"
    assert "My-linear-model (upload) · onnx · 3-D" in at.sidebar.selectbox(key="checkpoint").options
    assert at.title[0].value == "My linear model"


@pytest.mark.parametrize("files, message", [
    ([("digit.onnx", png(), "application/octet-stream")],
     "digit.onnx is a PNG image: none is a file of a checkpoint; expected config.json and model.safetensors"),
    ([("empty.zip", empty_zip(), "application/zip")],
     "empty.zip is an empty .zip archive (it holds no files); expected config.json and model.safetensors"),
    ([("encoder.onnx", png(), "application/octet-stream"), ("decoder.onnx", png(), "application/octet-stream")],
     "encoder.onnx is a PNG image, not an ONNX graph"),
    ([("config.json", b"", "application/json")], "config.json is empty (0 bytes), not JSON"),
])
def test_an_upload_that_is_not_a_checkpoint_says_what_it_is_and_what_was_expected(open_page, files, message):
    """A PNG renamed .onnx and an empty zip both said 'upload is missing config.json and model.safetensors'."""
    at = upload(open_page(OVERVIEW, CKPT_2D), *files)
    assert at.sidebar.error[0].value.startswith(f"Upload rejected: {message}"), at.sidebar.error[0].value
    assert picked(at).name == CKPT_2D


def test_a_safetensors_file_whatever_its_header_length_is_not_taken_for_something_else():
    from aecore.checkpoint.upload import describe
    for length in (640, 896, 0x8B1F, 0x4034B50):  # the first bytes of a pickle, gzip, a zip
        head = length.to_bytes(8, "little") + b'{"w":'
        assert describe(head, length + 100) == "a safetensors file"
    assert describe(b"\x80\x04\x95" + bytes(13), 1000) == "a Python pickle (never loaded here)"


def test_a_checkpoints_first_file_asks_for_the_rest(app_env, open_page):
    config = ("config.json", (app_env / CKPT_16D / "config.json").read_bytes(), "application/json")
    at = upload(open_page(OVERVIEW, CKPT_2D), config)
    assert at.sidebar.error[0].value == ("Upload rejected: the upload is missing model.safetensors (it holds "
                                         "config.json): add model.safetensors of the same model")
    weights = ("model.safetensors", (app_env / CKPT_16D / "model.safetensors").read_bytes(), "application/octet-stream")
    at = upload(at, config, weights)
    assert not at.sidebar.error and at.title[0].value == "Tiny 16-D VAE"


@pytest.mark.slow
def test_a_visitor_who_leaves_leaves_no_upload_behind(app_env, tmp_path):
    """A real `streamlit run app.py`, a session over the websocket protocol that uploads a zip."""
    from benchmarks.browser import streamlit_server
    from benchmarks.sessions import Session
    env = {**os.environ, "TMPDIR": str(tmp_path), "STREAMLIT_SERVER_ENABLE_XSRF_PROTECTION": "false"}

    async def visit(url: str) -> list[Path]:
        async with Session(url, timeout_s=240) as session:
            run = await session.upload({"mine.zip": zip_of(app_env / CKPT_16D)})
            assert not run.errors
            return list(tmp_path.glob("aecore-upload-*/*/*/model.safetensors"))  # root/digest/name/

    with open(tmp_path / "server.log", "w+") as log, streamlit_server("app.py", env, log, timeout=240) as (_, url):
        assert len(asyncio.run(visit(url))) == 1
        for _ in range(100):  # the server notices the closed connection within a moment
            if not list(tmp_path.glob("aecore-upload-*")):
                break
            asyncio.run(asyncio.sleep(0.1))
        assert not list(tmp_path.glob("aecore-upload-*"))
