"""Images on the page, grey or colour, of any size: tiles upscaled by a whole factor with nearest
neighbour, so pixels stay crisp (Streamlit would smooth a resize) and an 8x8 image is as readable
as a 28x28 one (aecore.pictures.images.readable_grid). The canvas a digit is drawn on is ui.canvas."""
from __future__ import annotations

import numpy as np
import streamlit as st

from aecore.pictures.images import png_bytes, readable_grid
from aecore.pictures.pixels import image_stack


def show_digits(images, ncols: int, caption: str | None = None, width: int | None = None) -> None:
    """Tile images (N, H, W) grey or (N, H, W, 3) colour, float [0, 1] or uint8, `ncols` per
    row, about `width` pixels wide (by default each tile about 112 pixels, 4x for 28x28)."""
    st.image(png_bytes(readable_grid(images, ncols, width)), caption=caption, output_format="PNG")


def pairs(top, bottom, ncols: int) -> np.ndarray:
    """Each row of `top` images over the same row of `bottom` (e.g. images over their
    reconstructions), interleaved as one stack of the same shape to tile `ncols` per row; a
    short last row is padded with black."""
    top, bottom = image_stack(top), image_stack(bottom)
    ncols = max(1, min(ncols, len(top)))
    blank = np.zeros(((-len(top)) % ncols, *top.shape[1:]), np.float32)
    rows = [np.concatenate([a, blank]).reshape(-1, ncols, *top.shape[1:]) for a in (top, bottom)]
    return np.stack(rows, axis=1).reshape(-1, *top.shape[1:])


def show_pairs(top, bottom, ncols: int, caption: str | None = None) -> None:
    """Each row of `top` images (N, H, W[, 3]) over the same row of `bottom` (e.g. images over
    their reconstructions); float [0, 1] or uint8; a short last row is padded with black."""
    show_digits(pairs(top, bottom, ncols), ncols, caption)
