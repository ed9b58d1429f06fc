"""Pictures out: tiling a stack of images into one picture, scaling small images up crisply, PNG
data URIs and animated GIFs. Grey and colour alike: images come in the display layout, (N, H, W)
grey or (N, H, W, 3) colour, float in [0, 1] or uint8 in [0, 255] (pixels.py), of any size.

Turning a visitor's picture into a model's input is aecore.pictures.inputs (its names are also
importable from here, where the pages have always found them).
"""
from __future__ import annotations

import base64
import io
import math

import numpy as np
from PIL import Image

from .inputs import (ImageError, canvas_input, from_canvas_rgba, load_picture, load_rgba,  # noqa: F401
                     mnist_style, photo_input, picture_input, shrink)
from .pixels import _as_display, numpy_of, to_uint8

READABLE = 112  # pixels a tile's longer side is drawn at where there is room: 4x for MNIST's 28
PAGE_WIDTH = 1460  # the widest picture Streamlit shows unshrunk (its MAXIMUM_CONTENT_WIDTH)


def crisp_scale(side: int, goal: int = READABLE) -> int:
    """The whole factor that brings an image's longer `side` nearest `goal` pixels, never below 1
    (a large image is not shrunk): 4 for 28 -> 112, 14 for 8, 1 for 128."""
    return max(1, round(goal / max(1, int(side))))


def enlarge(image, scale: int) -> np.ndarray:
    """An image (H, W) or (H, W, C) scaled up `scale` times with nearest neighbour: each pixel
    becomes a scale x scale block, so pixels stay crisp (a browser or PIL would smooth them)."""
    a = numpy_of(image)
    return a if scale == 1 else np.repeat(np.repeat(a, scale, axis=0), scale, axis=1)


def _stack(images) -> np.ndarray:
    """A stack in the display layout, dtype kept: one image (H, W), a grey stack (N, H, W) or
    (N, 1, H, W), a colour stack (N, H, W, 3) or (N, 3, H, W). (A lone colour image (H, W, 3)
    would read as three grey images: pass image[None].)"""
    a = numpy_of(images)
    if a.ndim == 2:
        a = a[None]
    if a.ndim == 3:
        return a
    if a.ndim == 4 and len(a):
        return _as_display(a, None)
    raise ValueError(f"expected a stack of images (N, H, W) or (N, H, W, 3), got shape {a.shape}")


def tile(images, ncols: int, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """Tile images (N, h, w) grey or (N, h, w, 3) colour, float [0, 1] or uint8, into one picture
    (rows, cols) or (rows, cols, 3), row by row, with `pad` pixels of `pad_value` (in [0, 1]
    units; white by default) between and around tiles. Cells after the last image are filled
    with pad_value; ncols is clamped to N. Returns uint8 for uint8 input, float32 otherwise."""
    a = _stack(images)
    if len(a) == 0:
        raise ValueError(f"tile needs a non-empty stack of images (N, h, w), got shape {a.shape}")
    n, h, w = a.shape[:3]
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    is_uint8 = a.dtype == np.uint8
    fill = round(pad_value * 255) if is_uint8 else pad_value
    out = np.full((nrows * (h + pad) + pad, ncols * (w + pad) + pad, *a.shape[3:]), fill,
                  dtype=np.uint8 if is_uint8 else np.float32)
    for i, img in enumerate(a):
        r, c = divmod(i, ncols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + h, x:x + w] = img
    return out


def readable_grid(images, ncols: int, width: int | None = None, max_width: int = 1400) -> np.ndarray:
    """The uint8 picture the pages show for a stack of images: tile(images, ncols) scaled up by a
    whole factor (nearest neighbour) so that the whole is about `width` pixels wide, or, without
    a width, so that each tile's longer side is about READABLE pixels (4x for 28x28, 14x for 8x8,
    1x for 128x128) as long as the whole stays within max_width. A whole factor that would
    make it wider than PAGE_WIDTH is taken one lower (Streamlit would shrink it, blurring the
    pixels); a grid of large images wider than PAGE_WIDTH at 1x is shrunk to fit (fit_width)."""
    grid = to_uint8(tile(images, ncols))
    side, across = max(_stack(images).shape[1:3]), grid.shape[1]
    target = width or min(crisp_scale(side) * across, max_width)
    scale = max(1, round(target / across))
    if scale * across > max(PAGE_WIDTH, width or 0):  # rounded up past the page: one step less, still crisp
        scale = max(1, scale - 1)
    return fit_width(enlarge(grid, scale), max(PAGE_WIDTH, width or 0))


def png_bytes(picture) -> bytes:
    """A picture (H, W) grey, (H, W, 3) RGB or (H, W, 4) RGBA, uint8 or float in [0, 1], as PNG
    bytes, compressed at zlib level 1: a 1300 x 1300 colour manifold takes 0.2 s instead of the
    1.4 s of Pillow's default level 6, for a file about a fifth larger (lossless either way)."""
    buf = io.BytesIO()
    Image.fromarray(to_uint8(picture)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def png_uri(picture) -> str:
    """png_bytes as a data URI (for a plotly layout image)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(picture)).decode()


def fit_width(picture: np.ndarray, max_width: int) -> np.ndarray:
    """A uint8 picture no wider than max_width: a wider one is shrunk, keeping its proportions,
    by averaging the pixels each new one covers (a picture of 15 x 15 images of 128 x 128 is
    1,936 pixels wide; Streamlit would shrink it to PAGE_WIDTH anyway, and re-encode it slowly)."""
    if picture.shape[1] <= max_width:
        return picture
    size = (max_width, max(1, round(picture.shape[0] * max_width / picture.shape[1])))
    return np.asarray(Image.fromarray(picture).resize(size, Image.Resampling.BOX))


def _adaptive(frame: Image.Image) -> Image.Image:
    """An RGB frame -> a palette frame of its own 256 colours (fast octree, no dithering): a GIF
    holds 256 colours a frame, so a picture of few colours (a sprite) keeps them exactly and a
    smooth decoded one stays within about 4 of 255 per value on average. Measured on 24 smooth
    64x64 frames: octree 8 ms and 3.8 off, median cut (Pillow's default) 283 ms and 3.6 off, one
    palette shared by all frames twice as far off. Said here so that a change of Pillow's
    default cannot turn colour GIFs into web colours."""
    return frame.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)


def gif_bytes(frames, scale: int | None = None, duration_ms: int = 100, loop: int = 0) -> bytes:
    """Animated GIF of frames (T, h, w) grey or (T, h, w, 3) colour, in [0, 1] or uint8, each
    upscaled `scale` times with nearest neighbour (crisp pixels; default crisp_scale, 4 for
    28x28), shown `duration_ms` each, looping forever (loop=0). Each colour frame has its own
    adaptive palette (a GIF holds 256 colours a frame)."""
    a = numpy_of(frames)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if not (a.ndim == 3 or (a.ndim == 4 and a.shape[3] == 3)) or len(a) == 0:
        raise ValueError(f"gif_bytes needs frames (T, h, w) or (T, h, w, 3), got shape {a.shape}")
    scale = scale or crisp_scale(max(a.shape[1:3]))
    size = (a.shape[2] * scale, a.shape[1] * scale)
    imgs = [Image.fromarray(to_uint8(f)) for f in a]
    if a.ndim == 4:  # before scaling up: the same colours, scale^2 times fewer pixels to sort
        imgs = [_adaptive(im) for im in imgs]
    imgs = [im.resize(size, Image.Resampling.NEAREST) for im in imgs]
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:],
                 duration=duration_ms, loop=loop)
    return buf.getvalue()
