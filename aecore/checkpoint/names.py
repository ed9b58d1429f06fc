"""Checkpoint folder names: the one rule for every name a folder gets, typed on the Train page or
made from an upload (its file's name, its model's title). Letters, digits, '.', '_' and '-', at
most 64, starting with a letter or digit: no name can be hidden, leave its folder ('..') or mean
something to a shell or a browser."""
from __future__ import annotations

import re

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
RULE = "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def check_name(name: str) -> str:
    """`name` if it is a valid folder name, else ValueError saying what to use."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ValueError(f"checkpoint name {str(name)[:80]!r}: {RULE}")
    return name


def name_from(text: str, fallback: str) -> str:
    """A valid name made of `text`: every run of other characters becomes '-', what cannot start
    a name is dropped from the front, at most 64 are kept; `fallback` (a valid name) when nothing
    is left ('...zip' gives '..', which leaves nothing)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", text)
    name = re.sub(r"^[^A-Za-z0-9]+", "", name)[:64].rstrip("-.")
    return name if NAME.fullmatch(name) else check_name(fallback)


def unique_name(name: str, taken) -> str:
    """`name`, or `name`-2, -3, ... (still within 64 characters), the first not in `taken`."""
    if name not in taken:
        return name
    for i in range(2, len(taken) + 3):
        candidate = f"{name[:64 - len(str(i)) - 1]}-{i}"
        if candidate not in taken:
            return candidate
    raise AssertionError("unreachable: one of len(taken) + 1 candidates is free")
