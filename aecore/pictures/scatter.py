"""A scatter plot drawn straight into pixels with PIL, for pictures that are files rather than
charts (the frames of an animated GIF): dots coloured by class on white, in a given box."""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from .plots import PALETTE, _rgb, padded_extent  # the app's map colours and box

WHITE, GREY = (255, 255, 255), (120, 120, 120)


def robust_extent(xy: np.ndarray, pad: float = 0.05, tail: float = 0.005) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) around points (n, 2), leaving out the outer `tail` of each axis,
    so a few far-out codes do not shrink the rest to a dot; padded by `pad` of the span."""
    return padded_extent(np.quantile(np.asarray(xy, np.float64), [tail, 1 - tail], axis=0), pad)


def scatter_image(xy: np.ndarray, labels: np.ndarray | None, extent: tuple[float, float, float, float],
                  size: tuple[int, int] = (360, 360), radius: float = 2.0) -> np.ndarray:
    """Points xy (n, 2) as dots of `radius` pixels on a white (height, width) = `size` picture
    spanning `extent` (xmin, xmax, ymin, ymax; y grows upwards), coloured by label (PALETTE, as
    the app's maps) or grey. Points outside fall off the edge. Returns uint8 (height, width, 3)."""
    height, width = size
    x0, x1, y0, y1 = extent
    xy = np.asarray(xy, np.float64)
    cols = (xy[:, 0] - x0) / max(x1 - x0, 1e-12) * (width - 1)
    rows = (y1 - xy[:, 1]) / max(y1 - y0, 1e-12) * (height - 1)
    picture = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(picture)
    colours = [_rgb(c) for c in PALETTE]
    for i, (c, r) in enumerate(zip(cols, rows)):  # in index order, so no class always lies on top
        colour = colours[int(labels[i]) % len(colours)] if labels is not None else GREY
        draw.ellipse((c - radius, r - radius, c + radius, r + radius), fill=colour)
    return np.asarray(picture)
