"""Reading an image folder's pictures (folder.py lists them) into one uint8 stack per split.

Two passes: the first reads each picture's header only (its size and mode), so that the set's
shape is chosen and every limit checked before any pixel is decoded; the second decodes each
picture into its row of a stack allocated once. The shape is the one in an optional dataset.json
{"image": [C, H, W]}, else the most common size among the pictures; pictures of another size are
resized (Lanczos) and counted. The set is colour when any picture is (grey pictures become RGB),
else grey. A picture that cannot be read is listed in the notes and left out, not fatal.

Bounds: only the PNG, JPEG, BMP, GIF and WebP readers of Pillow are used (a file named .png that
is another format is not read by another plugin), each picture at most MAX_PICTURE_BYTES and
MAX_PICTURE_PIXELS (checked from its header, before Pillow's own decompression-bomb guard), all
of them at most MAX_SOURCE_BYTES decoded at their own size, and the stack at most
MAX_DATASET_BYTES.
"""
from __future__ import annotations

import json
import os
import stat
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..pictures.pixels import ImageShape
from .buffers import empty_images
from .classes import _inside
from .dataset import MAX_DATASET_BYTES
from .folder import count, shown
from .idx import DataError

FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")
MAX_PICTURE_BYTES = 64 * 2**20     # one file
MAX_PICTURE_PIXELS = 4096 * 4096   # one picture as stored, before resizing
MAX_SOURCE_BYTES = 2**32           # all pictures decoded at their own size (time, not memory: one at a time)
GREY_MODES = {"1", "L", "LA", "La", "I", "I;16", "I;16L", "I;16B", "I;16N", "F"}
SETTINGS = "dataset.json"
SETTINGS_BYTES = 4096


class _Unreadable(Exception):
    """One picture cannot be read; the message is the short reason the notes give."""


def probe(path: Path) -> tuple[int, int, bool]:
    """(height, width, stored in colour) of a picture from its header; _Unreadable otherwise."""
    try:
        st = os.stat(path)
        size = st.st_size
        if not stat.S_ISREG(st.st_mode):
            raise _Unreadable("not a regular file")
        if size > MAX_PICTURE_BYTES:
            raise _Unreadable(f"{size:,} bytes, more than {MAX_PICTURE_BYTES:,}")
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=FORMATS) as im:
                width, height = im.size
                mode = im.mode
    except Exception as err:  # noqa: BLE001 -- Pillow's plugins raise many kinds on corrupt files
        raise _Unreadable(_reason(err)) from None
    if width * height > MAX_PICTURE_PIXELS:
        raise _Unreadable(f"{width}x{height} pixels, more than {MAX_PICTURE_PIXELS:,}")
    return height, width, mode not in GREY_MODES


def _reason(err: Exception) -> str:
    """Why a picture cannot be read, in a few words and without its path."""
    if isinstance(err, _Unreadable):
        return str(err)
    if isinstance(err, UnidentifiedImageError):
        return "not a PNG, JPEG, BMP, GIF or WebP picture"
    if isinstance(err, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return f"more than {MAX_PICTURE_PIXELS:,} pixels: a decompression bomb, says Pillow"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror  # without the path str(err) would give
    text = str(err).splitlines()[0] if str(err) else type(err).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def read_settings(root: Path) -> ImageShape | None:
    """The image shape an optional dataset.json gives ({"image": [C, H, W]}), or None."""
    path = root / SETTINGS
    if not os.path.lexists(path):
        return None
    inside, real = _inside(root, path)
    if not inside or not real.is_file():
        raise DataError(f"{path}: not a file inside its dataset folder; write dataset.json itself there.")
    with open(real, "rb") as f:
        raw = f.read(SETTINGS_BYTES + 1)
    try:
        if len(raw) > SETTINGS_BYTES:
            raise ValueError(f"more than {SETTINGS_BYTES:,} bytes")
        settings = json.loads(raw.decode("utf-8"))
        if not isinstance(settings, dict) or set(settings) != {"image"}:
            raise ValueError('expected {"image": [channels, height, width]}, such as {"image": [3, 32, 32]}')
        return ImageShape.from_list(settings["image"], '"image"')
    except (ValueError, UnicodeDecodeError) as err:
        raise DataError(f"{path}: {err}") from None


def choose_shape(probes: dict[str, tuple[int, int, bool]], given: ImageShape | None, root: Path) -> ImageShape:
    """`given`, else the most common size of the pictures (the first in path order of equal
    counts), colour when any picture is stored in colour. DataError when that size is not taken."""
    if given is not None:
        return given
    (height, width), _ = Counter((h, w) for h, w, _ in probes.values()).most_common(1)[0]
    colour = any(c for _, _, c in probes.values())
    try:
        return ImageShape(3 if colour else 1, height, width)
    except ValueError as err:
        raise DataError(f"{root}: most pictures are {height}x{width}; {err}: or write {SETTINGS} "
                        f'{{"image": [{3 if colour else 1}, 64, 64]}} into the folder to resize them to 64x64.') from None


def check_budget(probes: dict[str, tuple[int, int, bool]], shape: ImageShape, root: Path) -> None:
    """DataError before decoding when the pictures would decode to too much."""
    source = sum(h * w * (3 if c else 1) for h, w, c in probes.values())
    if source > MAX_SOURCE_BYTES:
        raise DataError(f"{root}: its pictures decode to {source:,} bytes at their own sizes, more than the "
                        f"{MAX_SOURCE_BYTES:,} read here; resize them first (to {shape.height}x{shape.width}, say).")
    stack = len(probes) * shape.pixels
    if stack > MAX_DATASET_BYTES:
        raise DataError(f"{root}: {len(probes):,} pictures of {shape} take {stack:,} bytes, more than the "
                        f"{MAX_DATASET_BYTES:,} bytes a dataset may hold here; use fewer or smaller pictures.")


def decode_into(out: np.ndarray, row: int, path: Path, shape: ImageShape, mode: str) -> bool:
    """Decode the picture at `path` as `mode` ("L" or "RGB"), resized to `shape`, into out[row].
    True when it was resized; _Unreadable when it cannot be decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=FORMATS) as im:
                if (im.width * im.height) > MAX_PICTURE_PIXELS:  # the file may have changed since its probe
                    raise _Unreadable(f"{im.width}x{im.height} pixels, more than {MAX_PICTURE_PIXELS:,}")
                picture = im.convert(mode)
        resized = picture.size != (shape.width, shape.height)
        if resized:
            picture = picture.resize((shape.width, shape.height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        out[row] = np.asarray(picture)
        return resized
    except Exception as err:  # noqa: BLE001 -- a truncated or corrupt picture: listed, not fatal
        raise _Unreadable(_reason(err)) from None


class Reader:
    """Decodes the pictures of one set: probes them all, then fills one stack per split."""

    def __init__(self, root: Path, given: ImageShape | None):
        self.root, self.given = root, given
        self.unreadable: list[str] = []
        self.resized = 0

    def probe_all(self, paths: dict[str, Path]) -> dict[str, tuple[int, int, bool]]:
        """{shown path: (height, width, colour)} of the readable ones; the rest are noted."""
        probes = {}
        for name, path in paths.items():
            try:
                probes[name] = probe(path)
            except _Unreadable as err:
                self.unreadable.append(f"{name} ({err})")
        if not probes:
            raise DataError(f"{self.root}: none of its {len(paths):,} pictures can be read: "
                            f"{shown(self.unreadable, 3)}.")
        return probes

    def decode(self, paths: list[tuple[str, Path]], probes: dict, shape: ImageShape,
               mode: str) -> tuple[np.ndarray, np.ndarray]:
        """(stack (n, H, W) or (n, H, W, 3) uint8 of the pictures decoded, which of `paths` they
        are); those whose probe failed (not in `probes`) are not tried again."""
        n = sum(name in probes for name, _ in paths)
        out = empty_images((n, shape.height, shape.width, 3) if mode == "RGB" else (n, shape.height, shape.width))
        kept = np.zeros(len(paths), bool)
        row = 0
        for i, (name, path) in enumerate(paths):
            if name not in probes:
                continue
            try:
                self.resized += decode_into(out, row, path, shape, mode)
            except _Unreadable as err:
                self.unreadable.append(f"{name} ({err})")
                continue
            kept[i], row = True, row + 1
        return out[:row], kept  # a view: the rows of pictures that failed only now are a small waste

    def notes(self, shape: ImageShape) -> list[str]:
        notes = []
        if self.resized:
            notes.append(f"{count(self.resized, 'picture')} resized to {shape.height}x{shape.width}")
        if self.unreadable:
            notes.append(f"{count(len(self.unreadable), 'unreadable file')} skipped: {shown(self.unreadable, 3)}")
        return notes
