"""Per-image metadata columns as a map shows them: a category column as legend entries (labels and
names, as classes are), a number column as values on a colour scale, and any column as short text
(hover lines, captions). Columns are {name: (N,) array}: numbers (float or int; NaN = missing) or
categories (str), as aecore.data's Dataset.columns holds them.
"""
from __future__ import annotations

import math

import numpy as np

from .plots import PALETTE, plain_text

HOVER_COLUMNS = 4               # columns a point's hover shows (the coloured one first)
MAX_CATEGORIES = len(PALETTE)   # legend entries of a category colouring; the rarest share "other"
MISSING = "missing"             # how a missing value reads


def is_number(values) -> bool:
    """Is this column numbers (colour scale) rather than categories (legend)?"""
    dtype = np.asarray(values).dtype
    return np.issubdtype(dtype, np.number) and not np.issubdtype(dtype, np.bool_)


def _distinct_texts(values) -> tuple[list[str], np.ndarray]:
    """(the text of each distinct value, each value's index among them): a column of 70,000
    values has far fewer distinct ones, and each is formatted once."""
    values = np.asarray(values)
    distinct, inverse = np.unique(values, return_inverse=True)  # NaNs sort last, as one entry
    if np.issubdtype(values.dtype, np.integer):
        texts = [str(int(v)) for v in distinct]
    elif is_number(values):
        texts = [f"{v:.3g}" if math.isfinite(v) else MISSING for v in distinct.astype(float).tolist()]
    else:
        texts = [str(v) if str(v) else MISSING for v in distinct]
    return texts, inverse.reshape(-1)


def format_values(values) -> np.ndarray:
    """A column as text (N,) object: whole numbers as they are, other numbers to 3 significant
    digits, NaN as "missing", categories as their text ("" as "missing")."""
    texts, inverse = _distinct_texts(values)
    return np.array(texts, dtype=object)[inverse]


def first_columns(columns: dict, first: str | None = None, limit: int = HOVER_COLUMNS) -> list[str]:
    """The names of the few columns a hover or caption shows: `first` (the coloured one), then
    the others in their order."""
    names = ([first] if first in columns else []) + [c for c in columns if c != first]
    return names[:limit]


def hover_lines(columns: dict, first: str | None = None, limit: int = HOVER_COLUMNS) -> np.ndarray | None:
    """Per point (N,) text "<br>name value<br>name value ..." of a few columns, as plotly shows it
    (names and values as plain text, never markup), or None without columns."""
    names = first_columns(columns, first, limit)
    if not names:
        return None
    lines = np.full(len(columns[names[0]]), "", dtype=object)
    for name in names:
        texts, inverse = _distinct_texts(columns[name])
        safe = texts if is_number(columns[name]) else [plain_text(t) for t in texts]  # numbers hold no markup
        head = f"<br>{plain_text(name)} "
        lines = lines + np.array([head + t for t in safe], dtype=object)[inverse]
    return lines


def describe(columns: dict, i: int, first: str | None = None, limit: int = HOVER_COLUMNS) -> str:
    """One point's few columns as plain text: "shape square, scale 0.75" ("" without columns)."""
    return ", ".join(f"{name} {format_values(columns[name][i:i + 1])[0]}" for name in first_columns(columns, first, limit))


def category_labels(values, limit: int = MAX_CATEGORIES) -> tuple[np.ndarray, list[str]]:
    """A category column as (labels (N,) int64, names): the categories in sorted order, or, with
    more than `limit` of them, the limit - 1 most common (sorted) and "other (k values)" last."""
    values = np.asarray(values).astype(str)
    distinct, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    names = [v if v else MISSING for v in distinct.tolist()]
    if len(distinct) <= limit:
        return inverse.astype(np.int64), names
    kept = np.sort(np.argsort(-counts, kind="stable")[:limit - 1])
    relabel = np.full(len(distinct), limit - 1, np.int64)
    relabel[kept] = np.arange(limit - 1)
    return relabel[inverse], [names[k] for k in kept] + [f"other ({len(distinct) - len(kept):,} values)"]
