"""Digits on the page: tiles upscaled by a whole factor with nearest-neighbour, so pixels stay
crisp (Streamlit would smooth a resize). The canvas a digit is drawn on is ui.canvas."""
from __future__ import annotations

import numpy as np
import streamlit as st

from aecore.pictures.images import tile
from aecore.pictures.pixels import SIDE, image_stack, to_uint8


def show_digits(images, ncols: int, caption: str | None = None, width: int | None = None) -> None:
    """Tile images (N, 28, 28), float [0, 1] or uint8, `ncols` per row."""
    grid = to_uint8(tile(images, ncols))
    target = width or min(4 * grid.shape[1], 1400)
    scale = max(1, round(target / grid.shape[1]))
    big = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    st.image(big, caption=caption, output_format="PNG")


def show_pairs(top, bottom, ncols: int, caption: str | None = None) -> None:
    """Each row of `top` images (N, 28, 28) over the same row of `bottom` (e.g. digits over
    their reconstructions); float [0, 1] or uint8; a short last row is padded with black."""
    top, bottom = image_stack(top), image_stack(bottom)
    ncols = max(1, min(ncols, len(top)))
    blank = np.zeros(((-len(top)) % ncols, SIDE, SIDE), np.float32)
    rows = [np.concatenate([a, blank]).reshape(-1, ncols, SIDE, SIDE) for a in (top, bottom)]
    show_digits(np.stack(rows, axis=1).reshape(-1, SIDE, SIDE), ncols, caption)

