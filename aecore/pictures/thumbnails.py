"""Thumbnails on a map: a few images drawn on top of the map's points, one per patch of it, so
that what each region holds can be seen at a glance. They are plotly layout images of layer
"above", which lie over the WebGL points (Chromium checked: tests/ui/test_interactions.py)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .images import crisp_scale, enlarge, png_uri
from .pixels import to_uint8
from .plots import PALETTE, _rgb, padded_extent

THUMB_SIZE = 0.8  # a thumbnail's width, in cells of thumbnail_points' grid
THUMB_PIXELS = 56  # about how many pixels a thumbnail's picture has on its longer side


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


def _framed(image: np.ndarray, frame=(0, 0, 0), border: int = 2) -> np.ndarray:
    """One image (H, W) grey or (H, W, 3) colour -> the uint8 RGB thumbnail picture: grey is dark
    ink on white, as the app shows images everywhere else, colour is the picture itself; scaled
    up crisply to about THUMB_PIXELS (2x for 28x28), inside a `border`-pixel frame of colour
    `frame`."""
    a = to_uint8(image)
    big = enlarge(a, crisp_scale(max(a.shape[:2]), THUMB_PIXELS))
    rgb = np.pad(big, ((border, border), (border, border), (0, 0))) if big.ndim == 3 else \
        np.repeat(np.pad(255 - big, border)[..., None], 3, axis=2)
    rgb[:border], rgb[-border:], rgb[:, :border], rgb[:, -border:] = frame, frame, frame, frame
    return rgb


def add_thumbnails(fig: go.Figure, xy: np.ndarray, images: np.ndarray, labels=None, grid: int = 8) -> np.ndarray:
    """Draw the images of thumbnail_points(xy, grid) on top of the map: images (N, H, W) grey or
    (N, H, W, 3) colour of the map's points xy (N, 2), each THUMB_SIZE of a grid cell wide and
    centred on its point (no two overlap; a picture that is not square keeps its proportions
    inside that box), framed in its label's colour when labels (N,) are given. Layout images of
    layer "above" lie over the WebGL points. Returns the indices drawn."""
    xy = np.asarray(xy, np.float64)
    picked = thumbnail_points(xy, grid, THUMB_SIZE)
    x0, x1, y0, y1 = padded_extent(xy, pad=0.0)
    size = (THUMB_SIZE * (x1 - x0) / grid, THUMB_SIZE * (y1 - y0) / grid)
    sizing = "stretch" if images.shape[1] == images.shape[2] else "contain"
    added = []
    for i in picked:
        frame = _rgb(PALETTE[labels[i] % 10]) if labels is not None else (60, 60, 60)
        added.append(dict(source=png_uri(_framed(images[i], frame)), x=float(xy[i, 0]), y=float(xy[i, 1]),
                          xref="x", yref="y", sizex=float(size[0]), sizey=float(size[1]),
                          xanchor="center", yanchor="middle", sizing=sizing, layer="above"))
    # in one assignment: plotly's add_layout_image validates every image already there again (64
    # thumbnails one by one took 0.2 s, most of the map's thumbnail time)
    fig.update_layout(images=[*fig.layout.images, *added])
    return picked
