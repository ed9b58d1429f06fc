"""Pictures in and out: tiling, PNG/GIF encoding, and turning an uploaded or drawn picture into
an MNIST-style input (white digit on black, fit in 20 x 20, centred by mass in 28 x 28).

Float images have pixels in [0, 1]; uint8 images in [0, 255].
"""
from __future__ import annotations

import io
import math
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .pixels import numpy_of, to_uint8, unit_float


class ImageError(ValueError):
    """A picture that cannot be used; the message says what to do."""


def tile(images, ncols: int, pad: int = 1, pad_value: float = 1.0) -> np.ndarray:
    """Tile images (N, h, w) (or (N, 1, h, w)), float [0, 1] or uint8, into one 2-D grid image,
    row by row, with `pad` pixels of `pad_value` (in [0, 1] units) between and around tiles.
    Cells after the last image are filled with pad_value; ncols is clamped to N.
    Returns uint8 for uint8 input, float32 otherwise."""
    a = numpy_of(images)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3 or len(a) == 0:
        raise ValueError(f"tile needs a non-empty stack of images (N, h, w), got shape {a.shape}")
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


def gif_bytes(frames, scale: int = 4, duration_ms: int = 100, loop: int = 0) -> bytes:
    """Animated GIF of frames (T, h, w) in [0, 1] (or uint8), or colour frames (T, h, w, 3),
    each upscaled `scale` times with nearest-neighbour (crisp pixels), shown `duration_ms` each,
    looping forever (loop=0)."""
    a = numpy_of(frames)
    if a.ndim == 4 and a.shape[1] == 1:
        a = a[:, 0]
    if not (a.ndim == 3 or (a.ndim == 4 and a.shape[3] == 3)) or len(a) == 0:
        raise ValueError(f"gif_bytes needs frames (T, h, w) or (T, h, w, 3), got shape {a.shape}")
    size = (a.shape[2] * scale, a.shape[1] * scale)
    imgs = [Image.fromarray(to_uint8(f)).resize(size, Image.Resampling.NEAREST) for f in a]
    buf = io.BytesIO()
    imgs[0].save(buf, format="GIF", save_all=True, append_images=imgs[1:],
                 duration=duration_ms, loop=loop)
    return buf.getvalue()


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


def load_picture(data: bytes, max_bytes: int = 10 * 2**20, max_pixels: int = 4096 * 4096,
                 name: str | None = None) -> np.ndarray:
    """Uploaded file bytes -> grayscale float32 (H, W) in [0, 1] as it looks (dark ink stays
    dark): EXIF orientation applied, transparency composited on white. `name` (the file name)
    only goes into error messages. Raises ImageError for non-images and too-large files."""
    label = f" ({name})" if name else ""
    if len(data) > max_bytes:
        raise ImageError(f"the file{label} is {len(data) / 2**20:.1f} MiB; the limit is "
                         f"{max_bytes / 2**20:.1f} MiB: upload a smaller picture")
    img = _open(data, max_pixels, label)
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # a broken EXIF block should not reject a readable picture
        pass
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):  # 16/32-bit or float pixels
        a = np.asarray(img, dtype=np.float64)
        if not np.isfinite(a).all():
            raise ImageError(f"the picture{label} holds NaN or infinite pixel values: save it as a PNG or JPEG")
        top = a.max(initial=0.0)
        scale = 1.0 if top <= 1.0 else 255.0 if top <= 255.0 else 65535.0
        return np.clip(a / scale, 0.0, 1.0).astype(np.float32)
    if "A" in img.getbands() or "transparency" in img.info:
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return unit_float(np.asarray(img.convert("L")))


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


def _centre_by_mass(patch: np.ndarray, size: int = 28) -> np.ndarray:
    """Paste the patch into size x size with an integer shift that puts its centre of mass
    nearest the image centre (13.5, 13.5 in 0-based pixel-centre coordinates), as MNIST did;
    the shift is clamped so no ink is cut off."""
    h, w = patch.shape
    mass = patch.sum()
    cy = (patch.sum(axis=1) * np.arange(h)).sum() / mass
    cx = (patch.sum(axis=0) * np.arange(w)).sum() / mass
    centre = (size - 1) / 2
    top = int(np.clip(round(centre - cy), 0, size - h))
    left = int(np.clip(round(centre - cx), 0, size - w))
    out = np.zeros((size, size), np.float32)
    out[top:top + h, left:left + w] = patch
    return out


def mnist_style(gray, invert="auto", threshold: float = 0.2) -> np.ndarray:
    """A grayscale picture (H, W) in [0, 1] -> an MNIST-style input (28, 28) float32 in [0, 1].

    As MNIST was made: white ink on black (invert='auto' inverts when the median border pixel is
    light, > 0.5; or pass True/False); the background level (median border) is subtracted and
    the ink stretched to peak at 1; cropped to the bounding box of ink > `threshold` (of the
    peak); scaled to fit 20 x 20 keeping the aspect ratio; pasted into 28 x 28 centred by mass.
    Raises ImageError when there is no ink.
    """
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
    return _centre_by_mass(_fit_box(ink))


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


def picture_input(data: bytes, name: str | None = None) -> np.ndarray:
    """Uploaded picture bytes -> the MNIST-style (28, 28) input the model sees.
    Raises ImageError (not an image, too large, empty) with a message for the user."""
    return mnist_style(shrink(load_picture(data, name=name), MAX_SIDE))


def canvas_input(rgba) -> np.ndarray:
    """A drawing canvas's RGBA (H, W, 4) -> the MNIST-style (28, 28) input the model sees.
    Raises ImageError when nothing is drawn."""
    return mnist_style(from_canvas_rgba(rgba))
