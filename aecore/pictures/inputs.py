"""A picture a visitor gives -> the input a model sees: an uploaded file (bounded in bytes and
pixels, EXIF orientation applied, transparency on white) or a drawing on the canvas, made either
MNIST-style (white ink on black, fit in a box of 20/28 of the side, centred by mass: for grey
models, whose data are digits and strokes) or fitted as a photo (centre-cropped to the model's
aspect ratio and resized: for colour models).

Float images have pixels in [0, 1]; uint8 images in [0, 255].
"""
from __future__ import annotations

import io
import math
import warnings
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .pixels import MNIST, ImageShape, numpy_of, to_uint8, unit_float

class ImageError(ValueError):
    """A picture that cannot be used; the message says what to do."""


def _open(data: bytes, max_pixels: int, label: str) -> Image.Image:
    """Decode with PIL, checking the pixel count from the header before decoding the data."""
    try:
        with warnings.catch_warnings():
            # we enforce our own, lower limit below; PIL's warning would only be noise
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            w, h = img.size
            if w * h > max_pixels:
                raise ImageError(f"the picture{label} is {w} x {h} pixels; the limit is "
                                 f"{max_pixels:,} pixels: upload a smaller picture")
            img.load()
    except ImageError:
        raise
    except Image.DecompressionBombError as err:
        raise ImageError(f"the picture{label} has too many pixels: upload a smaller picture") from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as err:
        raise ImageError(f"this file is not an image PIL can read (PNG, JPEG, ...){label}: "
                         "upload a picture file") from err
    return img


def _oriented(data: bytes, max_bytes: int, max_pixels: int, name: str | None) -> Image.Image:
    """Uploaded bytes -> a decoded PIL image, within the byte and pixel bounds (checked before
    decoding), its EXIF orientation applied. Raises ImageError."""
    label = f" ({name})" if name else ""
    if len(data) > max_bytes:
        raise ImageError(f"the file{label} is {len(data) / 2**20:.1f} MiB; the limit is "
                         f"{max_bytes / 2**20:.1f} MiB: upload a smaller picture")
    img = _open(data, max_pixels, label)
    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block should not reject a readable picture
        return img


def _deep_grey(img: Image.Image, label: str) -> np.ndarray | None:
    """Float32 (H, W) in [0, 1] of a 16/32-bit or float picture (mode I, F, I;16...), None for
    any other mode. Raises ImageError for NaN or infinite pixels."""
    if not (img.mode in ("I", "F") or img.mode.startswith("I;16")):
        return None
    a = np.asarray(img, dtype=np.float64)
    if not np.isfinite(a).all():
        raise ImageError(f"the picture{label} holds NaN or infinite pixel values: save it as a PNG or JPEG")
    top = a.max(initial=0.0)
    scale = 1.0 if top <= 1.0 else 255.0 if top <= 255.0 else 65535.0
    return np.clip(a / scale, 0.0, 1.0).astype(np.float32)


def _on_white(img: Image.Image) -> Image.Image:
    """Transparency composited on white (as a viewer shows it); RGBA or the image unchanged."""
    if "A" in img.getbands() or "transparency" in img.info:
        rgba = img.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return img


def load_picture(data: bytes, max_bytes: int = 10 * 2**20, max_pixels: int = 4096 * 4096,
                 name: str | None = None) -> np.ndarray:
    """Uploaded file bytes -> grayscale float32 (H, W) in [0, 1] as it looks (dark ink stays
    dark): EXIF orientation applied, transparency composited on white. `name` (the file name)
    only goes into error messages. Raises ImageError for non-images and too-large files."""
    img = _oriented(data, max_bytes, max_pixels, name)
    deep = _deep_grey(img, f" ({name})" if name else "")
    return deep if deep is not None else unit_float(np.asarray(_on_white(img).convert("L")))


def load_colour(data: bytes, max_bytes: int = 10 * 2**20, max_pixels: int = 4096 * 4096,
                name: str | None = None) -> Image.Image:
    """Uploaded file bytes -> an RGB PIL image as it looks, with load_picture's bounds, orientation
    and white background (a grey or 16-bit picture becomes grey RGB). Raises ImageError."""
    img = _oriented(data, max_bytes, max_pixels, name)
    deep = _deep_grey(img, f" ({name})" if name else "")
    if deep is not None:
        return Image.fromarray(to_uint8(deep)).convert("RGB")
    return _on_white(img).convert("RGB")


def load_rgba(data: bytes, max_pixels: int, name: str | None = None) -> np.ndarray:
    """Picture bytes (e.g. a drawing canvas's PNG) -> its RGBA pixels (H, W, 4) uint8, checking
    the pixel count from the header before decoding. Raises ImageError."""
    return np.asarray(_open(data, max_pixels, f" ({name})" if name else "").convert("RGBA"))


def from_canvas_rgba(rgba) -> np.ndarray:
    """A drawing canvas's RGBA (H, W, 4) uint8 -> grayscale float32 (H, W) in [0, 1] for
    mnist_style. With a transparent background the alpha channel is the ink (bright strokes on
    black, whatever the stroke colour); with an opaque one, the luminance (mnist_style's
    invert='auto' then handles dark-on-light and light-on-dark alike)."""
    a = numpy_of(rgba)
    if a.ndim != 3 or a.shape[2] != 4 or a.size == 0:
        raise ImageError(f"expected canvas pixels (H, W, 4) RGBA, got shape {a.shape}: draw on the canvas")
    a = unit_float(a)
    alpha = a[..., 3]
    if alpha.min() < 1.0:
        return alpha
    return a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114


def _fit_box(ink: np.ndarray, box: int = 20) -> np.ndarray:
    """Scale so the longer side is `box` pixels, keeping the aspect ratio (Lanczos, antialiased);
    rescaled so the brightest pixel is 1, as strokes saturate in MNIST."""
    h, w = ink.shape
    s = box / max(h, w)
    size = (max(1, round(w * s)), max(1, round(h * s)))
    out = np.asarray(Image.fromarray(ink.astype(np.float32)).resize(size, Image.Resampling.LANCZOS))
    out = np.clip(out, 0.0, 1.0)  # Lanczos rings slightly outside [0, 1]
    return out / out.max() if out.max() > 0 else out


def _centre_by_mass(patch: np.ndarray, size: tuple[int, int] = (28, 28)) -> np.ndarray:
    """Paste the patch into size (H, W) with an integer shift that puts its centre of mass
    nearest the image centre (13.5, 13.5 in 0-based pixel-centre coordinates for 28 x 28), as
    MNIST did; the shift is clamped so no ink is cut off."""
    h, w = patch.shape
    mass = patch.sum()
    cy = (patch.sum(axis=1) * np.arange(h)).sum() / mass
    cx = (patch.sum(axis=0) * np.arange(w)).sum() / mass
    top = int(np.clip(round((size[0] - 1) / 2 - cy), 0, size[0] - h))
    left = int(np.clip(round((size[1] - 1) / 2 - cx), 0, size[1] - w))
    out = np.zeros(size, np.float32)
    out[top:top + h, left:left + w] = patch
    return out


def _box(shape: ImageShape) -> int:
    """The side of the box the ink is fitted in: 20 of 28 as in MNIST, the same share of a
    grey model's shorter side (11 of 16, 6 of 8)."""
    if shape.colour:
        raise ValueError(f"an MNIST-style input is grey; this model takes {shape} images (fit a photo instead)")
    return max(1, round(min(shape.height, shape.width) * 20 / 28))


def mnist_style(gray, invert="auto", threshold: float = 0.2, shape: ImageShape = MNIST) -> np.ndarray:
    """A grayscale picture (H, W) in [0, 1] -> an MNIST-style input float32 in [0, 1] of the grey
    `shape` (28 x 28 by default): shape.display.

    As MNIST was made: white ink on black (invert='auto' inverts when the median border pixel is
    light, > 0.5; or pass True/False); the background level (median border) is subtracted and
    the ink stretched to peak at 1; cropped to the bounding box of ink > `threshold` (of the
    peak); scaled to fit 20 x 20 keeping the aspect ratio (for another side, the same share of
    it); pasted into 28 x 28 (the shape) centred by mass. Raises ImageError when there is no ink.
    """
    box = _box(shape)
    g = np.asarray(gray, dtype=np.float64)
    if g.ndim != 2 or g.size == 0:
        raise ImageError(f"expected a grayscale picture (H, W), got shape {g.shape}: draw or upload a digit")
    border = np.concatenate([g[0], g[-1], g[:, 0], g[:, -1]])
    if isinstance(invert, str) and invert == "auto":
        invert = bool(np.median(border) > 0.5)
    elif invert not in (True, False):
        raise ValueError(f"invert must be 'auto', True or False, got {invert!r}")
    ink = 1.0 - g if invert else g
    background = float(np.median(1.0 - border if invert else border))
    peak = float(ink.max())
    if peak - background < 0.1:  # nothing stands out from the background
        raise ImageError("the picture is empty: draw or upload a digit")
    ink = np.clip((ink - background) / (peak - background), 0.0, 1.0)
    rows = np.flatnonzero((ink > threshold).any(axis=1))
    cols = np.flatnonzero((ink > threshold).any(axis=0))
    ink = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    return _centre_by_mass(_fit_box(ink, box), shape.display)


def shrink(gray: np.ndarray, max_side: int) -> np.ndarray:
    """A grayscale picture (H, W) averaged over whole blocks of pixels until neither side is
    longer than max_side; smaller pictures pass unchanged. mnist_style then needs a few MB, not
    the gigabyte a 16-megapixel photo would cost in float64."""
    factor = math.ceil(max(gray.shape) / max_side)
    if factor <= 1:
        return gray
    # a side shorter than a block is averaged whole: a sliver stays a sliver, at most 1 pixel across
    fy, fx = min(factor, gray.shape[0]), min(factor, gray.shape[1])
    h, w = gray.shape[0] // fy, gray.shape[1] // fx
    return gray[: h * fy, : w * fx].reshape(h, fy, w, fx).mean(axis=(1, 3), dtype=np.float32)


MAX_SIDE = 1024  # pixels an uploaded picture keeps on its longer side before mnist_style


def picture_input(data: bytes, name: str | None = None, shape: ImageShape = MNIST) -> np.ndarray:
    """Uploaded picture bytes -> the MNIST-style input of a grey model's `shape` (28 x 28 by
    default). Raises ImageError (not an image, too large, empty) with a message for the user."""
    return mnist_style(shrink(load_picture(data, name=name), MAX_SIDE), shape=shape)


def canvas_input(rgba, shape: ImageShape = MNIST) -> np.ndarray:
    """A drawing canvas's RGBA (H, W, 4) -> the MNIST-style input of a grey model's `shape`
    (28 x 28 by default). Raises ImageError when nothing is drawn."""
    return mnist_style(from_canvas_rgba(rgba), shape=shape)


class Photo(NamedTuple):
    image: np.ndarray  # shape.display float32 in [0, 1]: the input the model sees
    note: str          # what was done to the picture, for a caption


def _centre_crop(size: tuple[int, int], shape: ImageShape) -> tuple[int, int, int, int]:
    """The largest box (left, top, right, bottom) of a picture of size (width, height) with the
    shape's aspect ratio, centred."""
    w, h = size
    cw, ch = min(w, round(h * shape.width / shape.height)), min(h, round(w * shape.height / shape.width))
    left, top = (w - cw) // 2, (h - ch) // 2
    return left, top, left + max(cw, 1), top + max(ch, 1)


def fit_photo(img: Image.Image, shape: ImageShape) -> Photo:
    """A PIL picture -> the input of `shape`: centre-cropped to the shape's aspect ratio and
    resized (Lanczos, antialiased) to its size; grey shapes take the luminance."""
    box = _centre_crop(img.size, shape)
    out = img.convert("RGB" if shape.colour else "L").resize((shape.width, shape.height), Image.Resampling.LANCZOS,
                                                             box=box, reducing_gap=3.0)
    cropped = (box[2] - box[0], box[3] - box[1])
    what = f"the {img.width} x {img.height} picture"
    if cropped != img.size:
        what += f", centre-cropped to {cropped[0]} x {cropped[1]}"
    if cropped != (shape.width, shape.height):
        what += f", resized to {shape.width} x {shape.height}"
    return Photo(unit_float(np.asarray(out)), what + f" (the model's {shape} input)")


def photo_input(data: bytes, shape: ImageShape, name: str | None = None) -> Photo:
    """Uploaded picture bytes (any size, colour or grey) -> a Photo of the model's `shape`:
    centre-cropped to its aspect ratio and resized, with a note saying so. Bounded as
    load_picture; raises ImageError (not an image, too large)."""
    return fit_photo(load_colour(data, name=name), shape)
