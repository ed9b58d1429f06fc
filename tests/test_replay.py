"""The pictures of a training history: dots land where their codes say in their class's colour,
and the GIF has a frame per epoch with the map beside the reconstructions."""
from __future__ import annotations

import io

import numpy as np
from PIL import Image

from aecore.pictures.plots import PALETTE, _rgb
from aecore.pictures.replay import history_figure, history_gif
from aecore.pictures.scatter import robust_extent, scatter_image


def test_a_dot_lands_where_its_code_is_in_its_class_colour():
    xy, labels = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]), np.array([3, 7, 1])
    picture = scatter_image(xy, labels, (0.0, 1.0, 0.0, 1.0), size=(101, 201), radius=2)
    assert picture.shape == (101, 201, 3) and picture.dtype == np.uint8
    assert tuple(picture[100, 0]) == _rgb(PALETTE[3])    # (0, 0): bottom left, y grows upwards
    assert tuple(picture[0, 200]) == _rgb(PALETTE[7])    # (1, 1): top right
    assert tuple(picture[50, 100]) == (255, 255, 255)   # nothing in the middle; (5, 5) fell off
    grey = scatter_image(xy[:1], None, (-1.0, 1.0, -1.0, 1.0), size=(21, 21))
    assert tuple(grey[10, 10]) == (120, 120, 120)


def test_a_far_out_code_does_not_shrink_the_frame_to_a_dot():
    xy = np.random.default_rng(0).normal(size=(1000, 2))
    xy[0] = (1000.0, -1000.0)
    x0, x1, y0, y1 = robust_extent(xy)
    assert x1 - x0 < 10 and y1 - y0 < 10


def history(epochs=3, n=200, seed=0):
    rng = np.random.default_rng(seed)
    maps = (rng.normal(size=(epochs, n, 2)) * np.arange(1, epochs + 1)[:, None, None]).astype(np.float16)
    recon = rng.integers(0, 256, (epochs, 12, 28, 28)).astype(np.uint8)
    return maps, rng.integers(0, 10, n), recon


def test_the_gif_has_a_frame_per_epoch_with_the_map_and_the_reconstructions():
    maps, labels, recon = history()
    gif = Image.open(io.BytesIO(history_gif(maps, labels, recon, np.arange(1, len(maps) + 1))))
    assert gif.n_frames >= 3  # the last is held longer; identical frames may merge
    frames = []
    for i in range(3):
        gif.seek(i)
        frames.append(np.asarray(gif.convert("RGB")))
    assert frames[0].shape[1] > 2 * frames[0].shape[0] * 0.8  # map and reconstructions side by side
    assert not np.array_equal(frames[0], frames[1])


def test_the_replay_figure_starts_at_the_last_epoch_and_has_one_frame_per_epoch():
    maps, labels, recon = history(epochs=4)
    fig = history_figure(maps, np.arange(200), labels, [str(c) for c in range(10)], recon, [1, 2, 3, 4])
    assert [f.name for f in fig.frames] == ["1", "2", "3", "4"]
    assert fig.layout.sliders[0].active == 3
    shown = np.concatenate([np.asarray(t.x) for t in fig.data])
    last = np.concatenate([np.asarray(t.x) for t in fig.frames[-1].data])
    assert np.allclose(np.sort(shown), np.sort(last), atol=1e-3)
    assert all(len(f.data) == 10 and f.layout.images for f in fig.frames)  # every class; the reconstructions
