"""The grey pictures as they were drawn before pictures took colour and any size (commit 010455d),
copied here unchanged so tests can check that 28x28 grey output stays pixel for pixel the same
(the zoo pages' screenshot baselines depend on it). Only the array-making parts: what Streamlit,
plotly or a GIF then receives."""
from __future__ import annotations

import base64
import io
import math

import numpy as np
from PIL import Image

from aecore.pictures.pixels import SIDE, image_stack, numpy_of, to_uint8


def tile(images, ncols: int, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    a = numpy_of(images)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim == 2:
        a = a[None]
    n, h, w = a.shape
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    is_uint8 = a.dtype == np.uint8
    fill = round(pad_value * 255) if is_uint8 else pad_value
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad), fill,
                  dtype=np.uint8 if is_uint8 else np.float32)
    for i, img in enumerate(a):
        r, c = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + h, x:x + w] = img
    return out


def show_digits(images, ncols: int, width: int | None = None) -> np.ndarray:
    """What ui.display.show_digits handed st.image."""
    grid = to_uint8(tile(images, ncols))
    target = width or min(4 * grid.shape[1], 1400)
    scale = max(1, round(target / grid.shape[1]))
    return np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)


def show_pairs(top, bottom, ncols: int) -> np.ndarray:
    top, bottom = image_stack(top), image_stack(bottom)
    ncols = max(1, min(ncols, len(top)))
    blank = np.zeros(((-len(top)) % ncols, SIDE, SIDE), np.float32)
    rows = [np.concatenate([a, blank]).reshape(-1, ncols, SIDE, SIDE) for a in (top, bottom)]
    return show_digits(np.stack(rows, axis=1).reshape(-1, SIDE, SIDE), ncols)


def thumbnail_uri(image: np.ndarray, frame=(0, 0, 0), scale: int = 2, border: int = 2) -> str:
    grey = 255 - np.kron(to_uint8(image), np.ones((scale, scale), np.uint8))
    rgb = np.repeat(np.pad(grey, border)[..., None], 3, axis=2)
    rgb[:border], rgb[-border:], rgb[:, :border], rgb[:, -border:] = frame, frame, frame, frame
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def backdrop_uri(decoded: np.ndarray, color=(40, 40, 40)) -> str:
    n = int(round(np.sqrt(len(decoded))))
    alpha = to_uint8(tile(decoded, n, pad=0))
    rgba = np.zeros((*alpha.shape, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = color, alpha
    buf = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def reconstruction_tile(images: np.ndarray, scale: int = 3) -> np.ndarray:
    grid = tile(images, 4, pad=2, pad_value=1.0)
    return np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)


def gif_bytes(frames, scale: int = 4, duration_ms: int = 100, loop: int = 0) -> bytes:
    a = numpy_of(frames)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    size = (a.shape[2] * scale, a.shape[1] * scale)
    imgs = [Image.fromarray(to_uint8(f)).resize(size, Image.Resampling.NEAREST) for f in a]
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:], duration=duration_ms, loop=loop)
    return buf.getvalue()
