"""A training history replayed (aecore.train.history: the aligned map of a fixed test subset and
a dozen reconstructions after each epoch it kept): as a plotly figure with an epoch slider and a play
button, animated in the browser without a round trip to the server, and as an animated GIF.

Each epoch's map is framed by its own robust extent, so a map that spreads out over training
stays readable at every epoch (the maps are already aligned: nothing spins or flips).
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw

from .images import crisp_scale, enlarge, gif_bytes, png_uri, tile
from .plots import latent_scatter
from .scatter import robust_extent, scatter_image

COLUMNS = 4  # reconstructions per row
TILE_PIXELS = 84  # about how many pixels a reconstruction has on its longer side
FRAME_MS = 400


def reconstruction_tile(images: np.ndarray, scale: int | None = None) -> np.ndarray:
    """uint8 images (k, H, W) grey or (k, H, W, 3) colour as one tile, COLUMNS per row, upscaled
    `scale` times (nearest neighbour; by default to about TILE_PIXELS a side: 3x for 28x28)."""
    grid = tile(images, COLUMNS, pad=2, pad_value=1.0)
    return enlarge(grid, scale or crisp_scale(max(images.shape[1:3]), TILE_PIXELS))


def _epoch_layout(xy: np.ndarray, recon: np.ndarray, box: tuple[float, float]) -> dict:
    """What an epoch sets in the layout: the map's axis ranges and the reconstructions, a layout
    image over `box` (the (left, right) of the right-hand column, paper coordinates); an image
    trace would stall the animation in Streamlit's plotly.js."""
    x0, x1, y0, y1 = robust_extent(xy)
    picture = {"source": png_uri(reconstruction_tile(recon)), "xref": "paper", "yref": "paper",
               "x": box[0], "y": 1, "sizex": box[1] - box[0], "sizey": 1, "xanchor": "left", "yanchor": "top",
               "sizing": "contain", "layer": "above"}
    return {"xaxis": {"range": [x0, x1]}, "yaxis": {"range": [y0, y1]}, "images": [picture]}


def _frame_traces(xy, labels, classes) -> list:
    """The map's points at one epoch, one trace per class as latent_scatter draws them: plotly
    merges a frame's traces into the figure's, so colours, names and hover texts are sent once.
    Coordinates go as plain lists: the plotly.js in Streamlit does not decode numpy's base64
    arrays inside frames."""
    xy = np.round(xy.astype(np.float64), 3)
    return [go.Scattergl(x=xy[labels == c, 0].tolist(), y=xy[labels == c, 1].tolist()) for c in range(len(classes))]


def _controls(epochs: list[int], frame_ms: int) -> dict:
    """The layout's slider (one step per recorded epoch, at the last) and play/pause buttons."""
    still = {"mode": "immediate", "frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}}
    steps = [{"method": "animate", "label": str(e), "args": [[str(e)], still]} for e in epochs]
    play = {"frame": {"duration": frame_ms, "redraw": True}, "transition": {"duration": 0}, "fromcurrent": False}
    return {
        "sliders": [{"active": len(epochs) - 1, "steps": steps, "currentvalue": {"prefix": "epoch "},
                     "x": 0.17, "len": 0.83, "y": 0, "yanchor": "top", "pad": {"t": 40}}],
        "updatemenus": [{"type": "buttons", "direction": "left", "showactive": False, "x": 0, "y": 0,
                         "xanchor": "left", "yanchor": "top", "pad": {"t": 55},
                         "buttons": [{"label": "▶ Play", "method": "animate", "args": [None, play]},
                                     {"label": "❚❚ Pause", "method": "animate", "args": [[None], still]}]}],
    }


def history_figure(maps: np.ndarray, index: np.ndarray, labels: np.ndarray, classes,
                   reconstructions: np.ndarray, epochs, axis_names=("z1", "z2"), frame_ms: int = FRAME_MS,
                   height: int = 600, label: str = "class") -> go.Figure:
    """maps (F, n, 2), the subset's test indices (n,) and labels (n,), reconstructions
    (F, k, H, W) or (F, k, H, W, 3) uint8 and the epoch of each frame (F,) (history.safetensors' `epochs`) -> the
    map (left) and the reconstructions (right) at the last epoch, with one animation frame per
    recorded epoch named by its number; `label` names the classes (the dataset's word: "digit",
    "class")."""
    epochs, split = [int(e) for e in epochs], 0.66
    fig = go.Figure(latent_scatter(maps[-1].astype(np.float32), index, labels, classes, label=label).data)
    box = (split + 0.1, 1.0)  # the reconstructions, right of the map and its legend
    fig.frames = [go.Frame(name=str(epoch), data=_frame_traces(maps[f], labels, classes), traces=list(range(len(classes))),
                           layout=_epoch_layout(maps[f], reconstructions[f], box)) for f, epoch in enumerate(epochs)]
    # fixed margins: the slider would otherwise grow them at every frame
    fig.update_layout(height=height, margin={"l": 60, "r": 10, "t": 30, "b": 130, "autoexpand": False},
                      xaxis={"domain": [0, split], "title": axis_names[0]}, yaxis={"title": axis_names[1]},
                      legend={"title": label, "x": split + 0.01, "y": 1}, **_controls(epochs, frame_ms),
                      title={"text": f"the map of the test subset, and the first {reconstructions.shape[1]} "
                                     "reconstructed", "font": {"size": 14}, "x": 0.01})
    fig.update_layout(_epoch_layout(maps[-1], reconstructions[-1], box))
    return fig


def history_frames(maps: np.ndarray, labels: np.ndarray | None, reconstructions: np.ndarray, epochs,
                   size: int = 360) -> np.ndarray:
    """One uint8 picture (F, H, W, 3) per recorded epoch: the map (size x size) left, the
    reconstructions right, "epoch e of E" above."""
    frames, epochs = [], [int(e) for e in epochs]
    for e, xy, recon in zip(epochs, maps, reconstructions):
        picture = reconstruction_tile(recon)
        board = Image.new("RGB", (size + 20 + picture.shape[1] + 10, max(size, picture.shape[0]) + 40), "white")
        board.paste(Image.fromarray(scatter_image(xy, labels, robust_extent(xy), (size, size))), (10, 30))
        board.paste(Image.fromarray(picture).convert("RGB"), (size + 20, 30))
        ImageDraw.Draw(board).text((10, 8), f"epoch {e} of {epochs[-1]}", fill=(0, 0, 0))
        frames.append(np.asarray(board))
    return np.stack(frames)


def history_gif(maps: np.ndarray, labels: np.ndarray | None, reconstructions: np.ndarray, epochs,
                frame_ms: int = FRAME_MS) -> bytes:
    """The history as an animated GIF, one frame per recorded epoch (`epochs` names them), the
    last held three times as long."""
    frames = history_frames(maps, labels, reconstructions, epochs)
    frames = np.concatenate([frames, frames[-1:], frames[-1:]])  # a pause before it loops
    return gif_bytes(frames, scale=1, duration_ms=frame_ms)
