"""A hosted demo (AECORE_DEMO=1) shows visitors none of the server's folders: not the checkpoint
folder, the data or cache folders, nor any path inside an error message."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from factories import APP, CKPT_2D

from ui.frame import message
from ui.text import without_paths


def every_text(at) -> str:
    """Every text of the page, sidebar included, with the widgets' help texts."""
    texts = [e.value for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error")
             for e in getattr(at, kind)]
    texts += [str(w.help or "") + str(w.label) for kind in ("selectbox", "number_input") for w in getattr(at, kind)]
    return "\n".join(texts)


@pytest.mark.parametrize("page", ["pages/1_overview.py", "pages/8_leaderboard.py", "pages/9_train.py"])
def test_the_demo_names_no_server_folder(app_env, page, monkeypatch):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("AECORE_DEMO", "1")
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["checkpoint"] = str(app_env / CKPT_2D)
    at.run()
    at.switch_page(page).run()
    shown = every_text(at)
    folders = [os.environ[v] for v in ("AECORE_CHECKPOINTS", "AECORE_CACHE_DIR", "AECORE_DATA_DIR")]
    assert shown and not [f for f in folders if f in shown], shown
    assert str(Path.home()) not in shown and "/tmp" not in shown


def test_errors_in_the_demo_keep_file_names_and_drop_folders(monkeypatch):
    from aecore.data import DataError
    err = DataError("/srv/data/mine/t10k-images-idx3-ubyte.gz: the header claims 9,999 images, the file holds 3")
    monkeypatch.setenv("AECORE_DEMO", "1")
    assert message(err).startswith("t10k-images-idx3-ubyte.gz: the header claims 9,999 images")
    assert without_paths("saved as /root/.cache/aecore/trained/session-1/run-a.") == "saved as run-a."
    monkeypatch.delenv("AECORE_DEMO")
    assert "/srv/data/mine/" in message(err)  # a local user needs the path
