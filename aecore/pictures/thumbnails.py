"""Thumbnails on a map: a few images drawn on top of the map's points, one per patch of it, so
that what each region holds can be seen at a glance. They are plotly layout images of layer
"above", which lie over the WebGL points (Chromium checked: tests/ui/test_interactions.py)."""
from __future__ import annotations

import base64
import io

import numpy as np
import plotly.graph_objects as go
from PIL import Image

from .pixels import to_uint8
from .plots import PALETTE, _rgb, padded_extent

THUMB_SIZE = 0.8  # a thumbnail's width, in cells of thumbnail_points' grid


def thumbnail_points(xy: np.ndarray, grid: int = 8, size: float = 0.8) -> np.ndarray:
    """Indices of at most grid * grid points (n, 2) spread over the whole map, for thumbnails
    that do not hide each other: the map's box cut into a grid x grid of cells, in each cell that
    holds points the one nearest the cell's centre (its thumbnail shows what that patch of the
    map holds), and of those only the ones whose thumbnail, `size` of a cell wide and drawn at
    the point, overlaps none nearer its own cell's centre. Ordered by cell, from the top left."""
    xy = np.asarray(xy, np.float64)
    if not len(xy):
        return np.zeros(0, np.int64)
    x0, x1, y0, y1 = padded_extent(xy, pad=0.0)
    cell = np.array([(x1 - x0) / grid, (y1 - y0) / grid])
    ij = np.minimum(((xy - [x0, y0]) / cell).astype(np.int64), grid - 1)  # (n, 2): column, row
    gap = np.linalg.norm((xy - (ij + 0.5) * cell - [x0, y0]) / cell, axis=1)
    cell_id = (grid - 1 - ij[:, 1]) * grid + ij[:, 0]
    order = np.lexsort((gap, cell_id))  # by cell, nearest its centre first
    best = order[np.r_[True, cell_id[order][1:] != cell_id[order][:-1]]]
    kept: list[int] = []
    for i in best[np.argsort(gap[best], kind="stable")]:  # the best placed claim their room first
        if all((np.abs(xy[i] - xy[j]) >= size * cell).any() for j in kept):
            kept.append(int(i))
    return np.array(sorted(kept, key=lambda i: cell_id[i]), np.int64)


def _framed_uri(image: np.ndarray, frame=(0, 0, 0), scale: int = 2, border: int = 2) -> str:
    """A (28, 28) image as a PNG data URI scaled `scale` times: dark ink on white, as the app
    shows images everywhere else, inside a `border`-pixel frame of colour `frame`."""
    grey = 255 - np.kron(to_uint8(image), np.ones((scale, scale), np.uint8))
    rgb = np.repeat(np.pad(grey, border)[..., None], 3, axis=2)
    rgb[:border], rgb[-border:], rgb[:, :border], rgb[:, -border:] = frame, frame, frame, frame
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def add_thumbnails(fig: go.Figure, xy: np.ndarray, images: np.ndarray, labels=None, grid: int = 8) -> np.ndarray:
    """Draw the images of thumbnail_points(xy, grid) on top of the map: images (N, 28, 28) of
    the map's points xy (N, 2), each THUMB_SIZE of a grid cell wide and centred on its point (no
    two overlap), framed in its label's colour when labels (N,) are given. Layout images of layer
    "above" lie over the WebGL points. Returns the indices drawn."""
    xy = np.asarray(xy, np.float64)
    picked = thumbnail_points(xy, grid, THUMB_SIZE)
    x0, x1, y0, y1 = padded_extent(xy, pad=0.0)
    size = (THUMB_SIZE * (x1 - x0) / grid, THUMB_SIZE * (y1 - y0) / grid)
    for i in picked:
        frame = _rgb(PALETTE[labels[i] % 10]) if labels is not None else (60, 60, 60)
        fig.add_layout_image(source=_framed_uri(images[i], frame), x=float(xy[i, 0]), y=float(xy[i, 1]),
                             xref="x", yref="y", sizex=float(size[0]), sizey=float(size[1]),
                             xanchor="center", yanchor="middle", sizing="stretch", layer="above")
    return picked
