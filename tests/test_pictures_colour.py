"""Pictures of any shape: grey 28x28 is drawn pixel for pixel as before colour came (the zoo's
screenshot baselines rest on it), colour is drawn in colour, and small images are scaled up
crisply to a readable size while large ones are not."""
from __future__ import annotations

import base64
import io

import grey_before_colour as before
import numpy as np
import plotly.graph_objects as go
import pytest
from PIL import Image

from aecore.pictures import images, plots, replay, thumbnails
from ui.display import pairs


def _digits(n=12, seed=0, shape=(28, 28)):
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape)).astype(np.float32)


def _png(uri: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


# --- grey 28x28: as before, pixel for pixel -------------------------------------------------

@pytest.mark.parametrize("n, ncols, width", [(12, 12, None), (16, 16, None), (1, 1, 150), (1, 1, 200),
                                              (225, 15, 900), (24, 24, None), (9, 9, 540), (10, 10, 870)])
def test_grey_28_grids_are_those_drawn_before(n, ncols, width):
    for digits in (_digits(n), (_digits(n) * 255).astype(np.uint8)):
        assert np.array_equal(images.readable_grid(digits, ncols, width), before.show_digits(digits, ncols, width))


def test_grey_28_pairs_thumbnails_backdrop_and_replay_tiles_are_those_drawn_before():
    top, bottom = _digits(12), _digits(12, seed=1)
    for ncols in (12, 5):
        assert np.array_equal(images.readable_grid(pairs(top, bottom, ncols), ncols),
                              before.show_pairs(top, bottom, ncols))
    frame = (31, 119, 180)
    # the PNGs are compressed faster now, so compare what they hold, pixel for pixel
    assert np.array_equal(_png(images.png_uri(thumbnails._framed(top[3], frame))),
                          _png(before.thumbnail_uri(top[3], frame)))
    fig = go.Figure()
    plots.add_backdrop(fig, _digits(225), (0.0, 1.0, 0.0, 1.0))
    assert np.array_equal(_png(fig.layout.images[0].source), _png(before.backdrop_uri(_digits(225))))
    recon = (_digits(12) * 255).astype(np.uint8)
    assert np.array_equal(replay.reconstruction_tile(recon), before.reconstruction_tile(recon))
    frames = _digits(8)
    assert images.gif_bytes(frames, duration_ms=120) == before.gif_bytes(frames, duration_ms=120)


# --- colour ---------------------------------------------------------------------------------

def _sprites(n=6, side=16, seed=0) -> np.ndarray:
    """n colour images (n, side, side, 3) uint8, each one flat colour with a square of another."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, side, side, 3), np.uint8)
    for i in range(n):
        out[i] = rng.integers(0, 256, 3)
        out[i, side // 4: side // 2, side // 4: side // 2] = rng.integers(0, 256, 3)
    return out


def test_colour_tiles_keep_their_colours_and_the_white_gaps():
    sprites = _sprites(5)
    grid = images.tile(sprites, ncols=3)
    assert grid.shape == (2 * 17 + 1, 3 * 17 + 1, 3) and grid.dtype == np.uint8
    assert np.array_equal(grid[1:17, 18:34], sprites[1])
    assert (grid[0] == 255).all() and (grid[18:, 35:] == 255).all()  # gaps and the empty sixth cell
    as_batch = np.moveaxis(sprites, -1, 1)  # (N, 3, H, W), as a model gives them
    assert np.array_equal(images.tile(as_batch, ncols=3), grid)
    floats = images.tile(sprites / 255.0, ncols=3)
    assert floats.dtype == np.float32 and np.allclose(floats * 255, grid)


@pytest.mark.parametrize("side, scale", [(8, 14), (16, 7), (28, 4), (32, 4), (64, 2), (128, 1)])
def test_small_images_are_scaled_up_crisply_and_large_ones_are_not(side, scale):
    sprites = _sprites(4, side)
    big = images.readable_grid(sprites, ncols=4)
    assert big.shape == ((side + 2) * scale, (4 * (side + 1) + 1) * scale, 3)
    assert min(big.shape[0] // scale - 2, side) * scale >= 84  # every tile at least 84 pixels a side
    # nearest neighbour: each source pixel is a block of one colour
    block = big[scale: scale + scale, scale: scale + scale]
    assert (block == sprites[0, 0, 0]).all()
    small = images.readable_grid(_digits(1, shape=(8, 8)), 1, width=150)
    assert small.shape[0] >= 8 * 14  # a lone 8x8 image on a 150-pixel spot is not an 8-pixel blob


def test_a_grid_wider_than_the_page_is_shrunk_to_it_keeping_its_proportions():
    big = images.readable_grid(_sprites(225, 128), ncols=15, width=900)  # 15 x 129 + 1 = 1936 pixels wide
    assert big.shape == (images.PAGE_WIDTH, images.PAGE_WIDTH, 3)
    assert images.readable_grid(_sprites(4, 128), ncols=4).shape[1] == 4 * 129 + 1  # fits: not scaled at all
    fig = go.Figure()
    plots.add_backdrop(fig, _sprites(256, 128), (0.0, 1.0, 0.0, 1.0))
    assert _png(fig.layout.images[0].source).shape == (plots.BACKDROP_PIXELS, plots.BACKDROP_PIXELS, 3)


def test_colour_pairs_interleave_rows_of_images_and_their_reconstructions():
    top, bottom = _sprites(5, 16), _sprites(5, 16, seed=1)
    stack = pairs(top, bottom, 3)
    assert stack.shape == (12, 16, 16, 3)
    assert np.allclose(stack[3], bottom[0] / 255) and np.allclose(stack[6], top[3] / 255)
    assert (stack[8] == 0).all()  # the short last row is padded with black


def test_colour_thumbnails_are_the_pictures_themselves_in_a_frame():
    sprites = _sprites(3, 64)
    picture = thumbnails._framed(sprites[0], (255, 0, 0))
    assert picture.shape == (68, 68, 3)
    assert np.array_equal(picture[2:-2, 2:-2], sprites[0]) and (picture[0] == (255, 0, 0)).all()
    assert thumbnails._framed(_sprites(1, 8)[0]).shape == (8 * 7 + 4,) * 2 + (3,)  # 8x8 scaled up 7x
    fig = go.Figure()
    xy = np.random.default_rng(0).normal(size=(3, 2))
    drawn = thumbnails.add_thumbnails(fig, xy, sprites, np.array([0, 1, 2]), grid=2)
    assert len(drawn) and np.array_equal(_png(fig.layout.images[0].source)[2:-2, 2:-2], sprites[drawn[0]])


def test_a_colour_backdrop_is_the_decoded_pictures_and_small_ones_are_scaled_up():
    decoded = _sprites(16, 16)
    fig = go.Figure()
    plots.add_backdrop(fig, decoded / 255.0, (0.0, 1.0, 0.0, 1.0))
    picture = _png(fig.layout.images[0].source)
    assert picture.shape == (4 * 16 * 2, 4 * 16 * 2, 3)  # 16 pixels scaled up 2x; no alpha: the picture
    assert np.array_equal(picture[::2, ::2][:16, 16:32], decoded[1])


def test_a_colour_gif_keeps_its_colours():
    sprites = _sprites(8, 16)  # 16 colours in all: a GIF palette holds them exactly
    gif = Image.open(io.BytesIO(images.gif_bytes(sprites, duration_ms=50)))
    assert gif.n_frames == 8 and gif.size == (16 * 7, 16 * 7)
    for i in range(8):
        gif.seek(i)
        assert np.array_equal(np.asarray(gif.convert("RGB"))[::7, ::7], sprites[i])
    smooth = (np.random.default_rng(0).random((6, 32, 32, 3)) * 255).astype(np.uint8)  # too many colours
    gif = Image.open(io.BytesIO(images.gif_bytes(smooth, scale=1)))
    errors = []
    for i in range(6):
        gif.seek(i)
        errors.append(np.abs(np.asarray(gif.convert("RGB"), np.int16) - smooth[i]).mean())
    assert max(errors) < 12  # near in colour (10 of 255 for noise, the worst case); grey would be ~50 off


def test_colour_reconstructions_are_replayed_in_colour():
    recon = np.stack([_sprites(12, 32, seed=s) for s in range(3)])  # (F, k, 32, 32, 3)
    picture = replay.reconstruction_tile(recon[0])
    assert picture.shape == ((3 * 34 + 2) * 3, (4 * 34 + 2) * 3, 3)  # 32 pixels shown 3x: 96
    maps = np.random.default_rng(0).normal(size=(3, 50, 2)).astype(np.float16)
    frames = replay.history_frames(maps, np.arange(50) % 10, recon, [1, 2, 3])
    assert frames.shape[0] == 3 and frames.shape[-1] == 3
    tile_part = frames[0, 30:30 + picture.shape[0], 380:380 + picture.shape[1]]
    assert np.array_equal(tile_part, picture)
    fig = replay.history_figure(maps, np.arange(50), np.arange(50) % 10, [str(c) for c in range(10)], recon, [1, 2, 3])
    assert _png(fig.layout.images[0].source).shape == picture.shape


def test_a_grid_is_never_scaled_past_the_page_where_streamlit_would_blur_it():
    filters = _sprites(64, 32)  # 16 a row: 529 pixels; 3x would be 1,587, past Streamlit's 1,460
    grid = images.readable_grid(filters, ncols=16)
    assert grid.shape[1] == 2 * 529 and (grid[2:4, 2:4] == filters[0, 0, 0]).all()  # 2x, crisp
