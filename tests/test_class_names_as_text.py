"""Class names come from a dataset's files: plotly and Streamlit must show them as the characters
they are, never as markup (bold, links, styles, LaTeX, hover directives). Here the strings the
figures and captions are given; tests/ui/test_class_names_in_browser.py looks at them in Chromium."""
from __future__ import annotations

import html
import re

import numpy as np

from aecore.pictures.plots import latent_scatter, plain_text
from aecore.pictures.replay import history_figure
from ui.text import WORD_JOINER, plain

HOSTILE = ["<b>bold</b>", "<a href='https://example.com'>click</a>", "<span style='font-size:90px'>big</span>",
           "%{customdata}", "$x^2$", "**bold**", "[link](https://example.com)", "https://example.com",
           "www.example.com", ":red[red]", ":material/home:", "a@b.co", "&amp;", "\\*star\\*", "x" * 64]
OURS = re.compile(r"%\{(customdata|text|marker\.color:\.3f)\}|<br>|<extra></extra>")  # latent_scatter's own


def _map(values=None):
    labels = np.arange(3 * len(HOSTILE)) % len(HOSTILE)
    xy = np.random.default_rng(0).normal(size=(len(labels), 2))
    return latent_scatter(xy, np.arange(len(labels)), labels, HOSTILE, values=values, value_name="score")


def _no_markup(shown: str) -> None:
    left = OURS.sub("", shown)
    assert not set("<>$") & set(left) and "%{" not in left, shown


def test_plotly_text_reads_back_as_the_name_and_holds_no_markup():
    for name in HOSTILE:
        _no_markup(plain_text(name))
        assert html.unescape(plain_text(name)) == name  # plotly decodes these entities back


def test_the_map_names_each_class_as_text_in_legend_and_hover():
    traces = _map().data
    assert [html.unescape(t.name) for t in traces] == HOSTILE
    for trace in traces:
        _no_markup(trace.name)
        _no_markup(trace.hovertemplate)


def test_the_map_coloured_by_a_value_hovers_class_names_as_text():
    (trace,) = _map(values=np.linspace(0, 1, 3 * len(HOSTILE))).data
    assert [html.unescape(t) for t in trace.text[:len(HOSTILE)]] == HOSTILE
    for shown in (*trace.text, trace.hovertemplate):
        _no_markup(shown)


def test_the_replay_names_each_class_as_text():
    n = 2 * len(HOSTILE)
    maps = np.random.default_rng(0).normal(size=(2, n, 2)).astype(np.float16)
    fig = history_figure(maps, np.arange(n), np.arange(n) % len(HOSTILE), HOSTILE,
                         np.zeros((2, 4, 28, 28), np.uint8), [1, 2], label="class")
    assert [html.unescape(t.name) for t in fig.data] == HOSTILE
    for trace in fig.data:
        _no_markup(trace.name)
        _no_markup(trace.hovertemplate)


def test_markdown_text_escapes_every_markdown_character_and_reads_back():
    for name in HOSTILE:
        shown = plain(name)
        assert re.sub(r"\\(.)", r"\1", shown.replace(WORD_JOINER, "")) == name
        bare = re.sub(r"\\.", "", shown)  # what is left unescaped: no ASCII punctuation at all
        assert not re.search(r"[!-/:-@\[-`{-~]", bare), shown
        assert not re.search(r"https?://|www\.|@\w", shown.replace("\\", "")), shown  # no link GFM finds
