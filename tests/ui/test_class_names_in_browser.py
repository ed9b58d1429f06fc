"""Class names that are markup (bold, LaTeX, links, colours, emoji, HTML, hover directives) are
shown as those characters in Chromium: in the map's legend (plotly) and in the pages' captions
(Streamlit markdown). They come from a user's classes.txt, which anyone who can put a dataset in
the data folder writes."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import session_on, streamlit_app

from aecore.data import write_idx
from aecore.data.registry import IDX_FILES
from ui.text import WORD_JOINER

pytestmark = pytest.mark.browser

NAMES = ["**bold**", "$x^2$", "[link](https://example.com)", "https://example.com/a", "www.example.com",
         ":red[red]", ":smile:", "<b>tag</b>", "%{customdata}", "a@b.co"]
MARKUP = "a, strong, em, del, code, .katex, .stMarkdownColoredText, [role=img], b"
CAPTIONS_JS = """(markup) => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
  .map(e => ({text: e.innerText, markup: e.querySelectorAll(markup).length}))"""


@pytest.fixture
def marks_app(browser, tmp_path):
    """The app with a dataset "marks" whose ten class names are markup."""
    folder = tmp_path / "data" / "marks"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 30), ("test", 20)):
        write_idx(folder / IDX_FILES[split][0], rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        write_idx(folder / IDX_FILES[split][1], (np.arange(n) % 10).astype(np.uint8))
    (folder / "classes.txt").write_text("\n".join(NAMES) + "\n")
    with streamlit_app(tmp_path) as url, session_on(browser, url) as app:
        yield app


def captions(app, holding: str) -> list[dict]:
    """The captions whose text holds `holding`: their text (word joiners removed) and how many
    elements of markup they hold."""
    found = app.page.evaluate(CAPTIONS_JS, MARKUP)
    found = [{**c, "text": c["text"].replace(WORD_JOINER, "")} for c in found]
    return [c for c in found if holding in c["text"]]


def visit(app, path: str) -> None:
    app.page.locator(f'[data-testid="stSidebarNavLink"][href$="/{path}"]').click()
    app.page.wait_for_url(f"**/{path}")
    app.wait_idle()


def test_class_names_show_as_text_in_legends_and_captions(marks_app):
    app = marks_app.open("latent_map", checkpoint="ae-2d")
    app.choose("dataset", "marks")
    assert not app.errors()
    legend = app.page.evaluate("() => [...document.querySelectorAll('.js-plotly-plot .legendtext')]"
                               ".map(e => e.textContent)")
    assert [n for n in legend if n in NAMES] == NAMES  # exactly the names, in order, as text
    (neighbours, *_) = captions(app, "then its 8")
    assert f"#0 (class {NAMES[0]})" in neighbours["text"] and neighbours["markup"] == 0

    visit(app, "generate")
    (interpolation,) = captions(app, "frames,")
    assert f"#0 ({NAMES[0]}) to #1 ({NAMES[1]})" in interpolation["text"] and interpolation["markup"] == 0

    visit(app, "denoise")
    (picked,) = captions(app, "Test image #0")
    assert f"#0 ({NAMES[0]})" in picked["text"] and picked["markup"] == 0

    visit(app, "steer")
    (direction,) = captions(app, "Direction")
    assert f"{NAMES[0]} → {NAMES[1]}" in direction["text"] and direction["markup"] == 0
    (steered,) = captions(app, "then decoded")
    assert f"#0 ({NAMES[0]})" in steered["text"] and steered["markup"] == 0
    assert not app.errors()
