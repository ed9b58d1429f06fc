"""The colour sprites set: dSprites-style pictures generated here, reproducibly from a seed, so a
fresh machine has a colour dataset with known generative factors without a download.

Each 64x64 RGB picture shows one shape on black, drawn at 4x and averaged down (anti-aliased).
Its factors, sampled independently and uniformly, are the metadata columns:

  shape     category  square | ellipse | heart | triangle (also the label, the class)
  colour    category  red | yellow | green | cyan | blue | magenta
  scale     number    0.5 .. 1: the square root of the shape's area over that of an 18x18 square
                      (every shape at scale s covers (18 s)^2 pixels, so size says nothing of shape)
  rotation  number    -30 .. 30 degrees, counter-clockwise (under a quarter turn: every shape's
                      angle can be told from its picture, the square's too)
  x, y      number    16 .. 47 pixels: the shape's centroid, column and row (pixel i's centre is i),
                      so the centre of mass of the drawn pixels is (x, y)

Unlike dSprites (Matthey et al. 2017: white shapes, a full turn of rotation, positions over the
whole frame, a grid of values) the factors are continuous, in colour and kept inside the frame.
The same seed and counts give the same bytes (numpy's PCG64 and PIL's rasteriser, no threads).
"""
from __future__ import annotations

import csv
import io
import math
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npy

SIDE = 64                 # pixels per side of a picture
SUPERSAMPLE = 8           # drawn at 512x512, averaged down in 8x8 blocks
BASE = 18.0               # pixels: a shape of scale 1 covers BASE**2 pixels
SCALES = (0.5, 1.0)
ROTATIONS = (-30.0, 30.0)  # degrees
POSITIONS = (16.0, 47.0)   # pixels: the largest shape (a triangle of scale 1) stays inside the frame
REACH, WINDOW = 16, 33     # pixels: every shape lies within 16 of its centroid (the triangle: 15.8)
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (230, 40, 40), "yellow": (230, 210, 30), "green": (40, 200, 60),
    "cyan": (40, 200, 220), "blue": (50, 90, 240), "magenta": (220, 50, 210),
}
FACTORS = ("shape", "colour", "scale", "rotation", "x", "y")
TRAIN, TEST = 30_000, 10_000  # the default counts: 10,000 test images, as every zoo entry is measured on


def _unit_area(points: np.ndarray) -> np.ndarray:
    """The polygon moved to its centroid and scaled to area 1 (shoelace formulas)."""
    x, y = points[:, 0], points[:, 1]
    cross = x * np.roll(y, -1) - np.roll(x, -1) * y
    area = cross.sum() / 2
    cx = ((x + np.roll(x, -1)) * cross).sum() / (6 * area)
    cy = ((y + np.roll(y, -1)) * cross).sum() / (6 * area)
    return (points - [cx, cy]) / math.sqrt(abs(area))


def _outlines() -> dict[str, np.ndarray]:
    """Each shape as a polygon of area 1 around its centroid, (x, y) with y down, upright."""
    t = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    heart = np.stack([16 * np.sin(t) ** 3,
                      -(13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t))], 1)
    corners = np.array([-np.pi / 2, np.pi / 6, 5 * np.pi / 6])  # a point up
    return {"square": _unit_area(np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], float)),
            "ellipse": _unit_area(np.stack([np.cos(t), 0.5 * np.sin(t)], 1)),
            "heart": _unit_area(heart),
            "triangle": _unit_area(np.stack([np.cos(corners), np.sin(corners)], 1))}


OUTLINES = _outlines()
SHAPES = tuple(OUTLINES)
PERIMETERS = {name: float(np.hypot(*(p - np.roll(p, -1, 0)).T).sum()) for name, p in OUTLINES.items()}


@dataclass(frozen=True)
class Factors:
    """One row per picture: shape and colour as indices into SHAPES and COLOURS, the rest numbers."""
    shape: np.ndarray      # int64 (N,)
    colour: np.ndarray     # int64 (N,)
    scale: np.ndarray      # float64 (N,)
    rotation: np.ndarray   # float64 (N,), degrees
    x: np.ndarray          # float64 (N,), pixels
    y: np.ndarray          # float64 (N,), pixels

    def __len__(self) -> int:
        return len(self.shape)

    def columns(self) -> dict[str, np.ndarray]:
        """The metadata columns: categories as names, numbers rounded as the CSV stores them."""
        return {"shape": np.array(SHAPES)[self.shape], "colour": np.array(list(COLOURS))[self.colour],
                "scale": self.scale.round(4), "rotation": self.rotation.round(2),
                "x": self.x.round(3), "y": self.y.round(3)}


def sample_factors(n: int, rng: np.random.Generator) -> Factors:
    """n independent draws, each factor uniform over its range (rounded as stored, so the pictures
    are drawn from exactly the numbers their metadata gives)."""
    return Factors(shape=rng.integers(0, len(SHAPES), n), colour=rng.integers(0, len(COLOURS), n),
                   scale=rng.uniform(*SCALES, n).round(4), rotation=rng.uniform(*ROTATIONS, n).round(2),
                   x=rng.uniform(*POSITIONS, n).round(3), y=rng.uniform(*POSITIONS, n).round(3))


def coverage(shape: str, scale: float, rotation: float, x: float, y: float) -> np.ndarray:
    """float32 (64, 64) in [0, 1]: the fraction of each pixel the shape covers."""
    from PIL import Image, ImageDraw  # here: the registry imports this module for SHAPES alone
    turn = math.radians(rotation)
    c, s = math.cos(turn), math.sin(turn)
    side = BASE * scale
    # PIL fills the pixels its outline touches too, about a quarter of a fine pixel outside the true
    # edge: shrinking by that keeps the drawn area (18 s)^2 to within 1%
    side *= math.sqrt(1 - PERIMETERS[shape] * 0.25 / (SUPERSAMPLE * side))
    # counter-clockwise on screen, where y points down; pixel i's centre is i, its area [i-.5, i+.5)
    rotated = OUTLINES[shape] @ np.array([[c, -s], [s, c]]) * side
    # drawn in a WINDOW-pixel square around the centroid (a fifth of the frame's fine pixels)
    left, top = (min(max(math.floor(v) - REACH, 0), SIDE - WINDOW) for v in (x, y))
    points = (rotated + [x + 0.5 - left, y + 0.5 - top]) * SUPERSAMPLE
    canvas = Image.new("L", (WINDOW * SUPERSAMPLE,) * 2, 0)
    ImageDraw.Draw(canvas).polygon([tuple(p) for p in points.tolist()], fill=255)
    fine = np.asarray(canvas, np.float32).reshape(WINDOW, SUPERSAMPLE, WINDOW, SUPERSAMPLE)
    out = np.zeros((SIDE, SIDE), np.float32)
    out[top:top + WINDOW, left:left + WINDOW] = fine.mean(axis=(1, 3)) / 255.0
    return out


def render(factors: Factors) -> np.ndarray:
    """uint8 (N, 64, 64, 3): each picture's coverage times its colour."""
    palette = np.array(list(COLOURS.values()), np.float32)
    out = np.empty((len(factors), SIDE, SIDE, 3), np.uint8)
    for i in range(len(factors)):
        cover = coverage(SHAPES[factors.shape[i]], factors.scale[i], factors.rotation[i], factors.x[i], factors.y[i])
        np.rint(cover[..., None] * palette[factors.colour[i]], out=out[i], casting="unsafe")
    return out


def _write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez's layout (uncompressed members "<key>.npy") with fixed zip dates, so the same
    arrays give the same bytes; written under a temporary name, then renamed into place."""
    part = path.with_name(f".{path.name}.part")
    with zipfile.ZipFile(part, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        for key, array in arrays.items():
            with z.open(zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0)), "w", force_zip64=True) as f:
                npy.write_array(f, np.ascontiguousarray(array), allow_pickle=False)
    part.replace(path)


def _write_csv(path: Path, factors: Factors) -> None:
    columns = factors.columns()
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["index", *FACTORS])
    for i, row in enumerate(zip(*(columns[name].tolist() for name in FACTORS))):
        writer.writerow([i, *row])
    path.write_text(text.getvalue())


@dataclass(frozen=True)
class Made:
    """What generate() wrote: its folder, counts, bytes and seconds."""
    folder: Path
    train: int
    test: int
    bytes: int
    seconds: float

    def summary(self) -> str:
        return (f"{self.train + self.test:,} sprites (train {self.train:,}, test {self.test:,}; 64x64 colour; "
                f"factors {', '.join(FACTORS)}) in {self.folder}: {self.bytes / 2**20:,.0f} MB, "
                f"made in {self.seconds:.1f} s")


def generate(folder: str | Path, train: int = TRAIN, test: int = TEST, seed: int = 0) -> Made:
    """Write sprites.npz (x_train, y_train, x_test, y_test, classes; labels = shape) and
    metadata-train.csv / metadata-test.csv (one row per picture, in order) into `folder`.
    The training pictures come first from the seed's stream, then the test pictures."""
    if min(train, test) < 1:
        raise ValueError(f"sprites: train and test counts must be at least 1 (got {train}, {test})")
    start = time.perf_counter()
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(seed))
    splits = {"train": sample_factors(train, rng), "test": sample_factors(test, rng)}
    arrays = {}
    for split, factors in splits.items():
        arrays[f"x_{split}"], arrays[f"y_{split}"] = render(factors), factors.shape.astype(np.uint8)
        _write_csv(folder / f"metadata-{split}.csv", factors)
    _write_npz(folder / "sprites.npz", {**arrays, "classes": np.array(SHAPES)})
    size = sum((folder / f).stat().st_size for f in ("sprites.npz", "metadata-train.csv", "metadata-test.csv"))
    return Made(folder, train, test, size, time.perf_counter() - start)


def cli_generate(dest: str | Path | None = None, train: int | None = None, test: int | None = None,
                 seed: int = 0) -> int:
    """`python -m aecore download sprites [--to DIR]`: 0 when written, 1 when the folder could not be."""
    from .registry import cache_root
    train, test = TRAIN if train is None else train, TEST if test is None else test
    folder = Path(dest) if dest is not None else cache_root() / "sprites"
    print(f"generating {train + test:,} sprites from seed {seed} into {folder} ...", flush=True)
    try:
        made = generate(folder, train, test, seed)
    except (OSError, ValueError) as err:
        print(f"error: cannot write the sprites into {folder} ({err}): pass --to another folder or set "
              "AECORE_CACHE_DIR to a writable one", file=sys.stderr)
        return 1
    print(f"Colour sprites: {made.summary()}.")
    return 0
