"""Text from files (class names) put into Streamlit's markdown as the text it is.

Streamlit renders markdown in captions, image captions, widget labels and radio options: bold,
links, colours (:red[...]), icons, emoji shortcodes and LaTeX ($...$). A dataset's class names
come from its files, so every one goes through `plain` on its way into such a string; pickers
(selectbox, multiselect options) show their options as text and need nothing. Plotly's twin is
aecore.pictures.plots.plain_text. tests/ui/test_class_names_in_browser.py checks both in Chromium.
"""
from __future__ import annotations

import re

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character: markdown may escape each
# GFM also makes links of "https://...", "www.x" and "a@b.c" in plain text, after escapes are read:
# a word joiner (U+2060, invisible) after ":" and "@" and before "." breaks those patterns
_LINK_TRIGGER = re.compile(r"(?<=[:@])|(?=\.)")
WORD_JOINER = "\u2060"


def plain(text: object) -> str:
    """`text` as markdown that Streamlit shows exactly as those characters (plus invisible word
    joiners where a link would start): "**b**" shows as **b**, not bold."""
    return _PUNCTUATION.sub(r"\\\1", _LINK_TRIGGER.sub(WORD_JOINER, str(text)))


def with_article(noun: str) -> str:
    """'a digit', 'an image': the noun with its indefinite article (by its first letter, enough
    for the nouns a dataset calls its items)."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


_PATH = re.compile(r"(?<![\w.~])(?:~|/)[^\s'\"`:;,()]*/([^\s'\"`:;,()/]+)")


def without_paths(text: str) -> str:
    """`text` with every absolute path shortened to its last part ('/srv/cache/aecore/trained/x'
    -> 'x'), when the app runs as a hosted demo (AECORE_DEMO=1): a visitor learns nothing of the
    server's folders from a message. Elsewhere the text as it is: a local user needs the path."""
    import os
    return _PATH.sub(r"\1", text) if os.environ.get("AECORE_DEMO") == "1" else text
