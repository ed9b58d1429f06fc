"""The fence around the one Streamlit internal the app touches (ui/frame.py): these tests fail
when Streamlit changes how it decides that an app with a pages/ folder is a legacy multipage
app, so the workaround can be revisited (or dropped) then."""
from __future__ import annotations

import inspect

import pytest
from streamlit.runtime.pages_manager import PagesManager

from ui import frame


@pytest.fixture
def flag():
    before = PagesManager.uses_pages_directory
    yield
    PagesManager.uses_pages_directory = before


def test_streamlit_still_takes_a_pages_folder_for_a_legacy_app(flag, tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "app.py").write_text("")
    PagesManager.uses_pages_directory = None  # as in a fresh process
    PagesManager(str(tmp_path / "app.py"))
    assert PagesManager.uses_pages_directory is True  # what ui.frame works around


def test_st_navigation_clears_the_same_flag_we_clear():
    from streamlit.commands import navigation
    from streamlit.runtime.scriptrunner import script_runner
    assert "PagesManager.uses_pages_directory = False" in inspect.getsource(navigation)
    assert "PagesManager.uses_pages_directory" in inspect.getsource(script_runner.ScriptRunner)


def test_use_navigation_pages_says_whether_streamlit_had_guessed_legacy(flag):
    PagesManager.uses_pages_directory = True
    assert frame.use_navigation_pages() is True
    assert PagesManager.uses_pages_directory is False
    assert frame.use_navigation_pages() is False  # nothing to do the second time
