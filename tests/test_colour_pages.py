"""The pages that draw images (Overview, Generate, Denoise, Units, History) on a colour model: a
tiny 2-D mlp trained here on a small .npz of 16x16 colour blobs. Every picture they draw is in
colour and of the model's shape scaled up to a readable size; Denoise offers a photo upload, no
canvas, and says how a photo was fitted."""
from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from factories import APP, clean
from PIL import Image

import ui.display

SIDE, NAME, CKPT = 16, "blobs", "tiny-colour-2d"
COLOURS = np.array([[220, 40, 30], [30, 160, 60], [40, 70, 220], [230, 200, 40]])  # red, green, blue, yellow


def blobs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n colour images (n, SIDE, SIDE, 3) uint8: a disc of its class's colour on a light background."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIDE, 0:SIDE]
    labels = np.arange(n) % 4
    out = np.empty((n, SIDE, SIDE, 3), np.uint8)
    for i, c in enumerate(labels):
        cy, cx, r = rng.uniform(5, SIDE - 5), rng.uniform(5, SIDE - 5), rng.uniform(3, 5)
        disc = ((yy - cy) ** 2 + (xx - cx) ** 2) < r * r
        out[i] = np.where(disc[..., None], COLOURS[c], (240, 236, 228))
    return out, labels


@pytest.fixture(scope="module")
def colour_app(tmp_path_factory):
    """AECORE_DATA_DIR with blobs/blobs.npz and AECORE_CHECKPOINTS with a tiny colour 2-D model
    trained on it (with its history), for the module."""
    from aecore.config import ModelConfig, TrainConfig
    from aecore.data import load_dataset
    from aecore.train import save_result, train

    root = tmp_path_factory.mktemp("colour")
    (root / "data" / NAME).mkdir(parents=True)
    (xtr, ytr), (xte, yte) = blobs(400, 0), blobs(120, 1)
    np.savez(root / "data" / NAME / f"{NAME}.npz", x_train=xtr, y_train=ytr, x_test=xte, y_test=yte,
             classes=np.array(["red", "green", "blue", "yellow"]))
    env = {"AECORE_CHECKPOINTS": str(root / "checkpoints"), "AECORE_CACHE_DIR": str(root / "cache"),
           "AECORE_DATA_DIR": str(root / "data"), "AECORE_NO_WARMUP": "1"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        mp.delenv("AECORE_DEMO", raising=False)
        load_dataset.cache_clear()
        model = ModelConfig(kind="plain", latent_dim=2, hidden=[32], image=[3, SIDE, SIDE])
        cfg = TrainConfig(dataset=NAME, epochs=2, seed=0)
        save_result(root / "checkpoints" / CKPT, train(model, cfg), cfg, None, {"title": "Tiny colour 2-D"})
        yield root
    load_dataset.cache_clear()


@pytest.fixture
def drawn(monkeypatch):
    """Every picture ui.display hands Streamlit while a page runs (uint8 arrays)."""
    pictures = []
    real = ui.display.png_bytes
    monkeypatch.setattr(ui.display, "png_bytes", lambda p: pictures.append(np.asarray(p)) or real(p))
    return pictures


def open_colour_page(page: str):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.session_state["checkpoint"] = str(Path(os.environ["AECORE_CHECKPOINTS"]) / CKPT)
    at.run()
    return clean(at.switch_page(page).run())


def _coloured(picture: np.ndarray) -> bool:
    """True for an RGB picture with clearly coloured (not grey) pixels."""
    return picture.ndim == 3 and (np.ptp(picture.astype(np.int16), axis=2) > 60).mean() > 0.01


PAGES = ["pages/1_overview.py", "pages/3_generate.py", "pages/4_denoise.py", "pages/5_units.py"]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_picture_of_a_colour_model_is_drawn_in_colour_and_readable(colour_app, drawn, page):
    open_colour_page(page)
    assert drawn, f"{page} drew no pictures"
    assert all(p.ndim == 3 and p.shape[2] == 3 for p in drawn), [p.shape for p in drawn]
    assert any(_coloured(p) for p in drawn)  # the data's colours, not grey
    # 16x16 images shown at least 5x (80 px: 16 samples a row fill the page), most 7x (112 px)
    assert min(min(p.shape[:2]) for p in drawn) >= 5 * (SIDE + 2)


@pytest.mark.slow
def test_denoise_on_colour_offers_an_upload_and_fits_a_photo_to_the_model(colour_app, drawn):
    at = open_colour_page("pages/4_denoise.py")
    radio = at.radio(key="source_colour")
    assert radio.options == ["Test image", "Upload"]  # no canvas: one draws white on black
    captions = [c.value for c in at.caption]
    assert any("the mean of the three channels' SSIMs" in c for c in captions)
    assert any(f"input (the {SIDE}x{SIDE} colour the model sees)" == i.proto.imgs[0].caption or
               f"input (the {SIDE}x{SIDE} colour the model sees)" in captions for i in at.image)
    radio.set_value("Upload")
    clean(at.run())
    assert any("Upload a photo or picture of any size" in i.value for i in at.info)


@pytest.mark.slow
def test_history_replays_colour_reconstructions(colour_app):
    from aecore.checkpoint import load_checkpoint
    from aecore.pictures.replay import history_gif, reconstruction_tile

    path = Path(os.environ["AECORE_CHECKPOINTS"]) / CKPT
    history = load_checkpoint(path).recorded()
    assert history["reconstructions"].shape[2:] == (SIDE, SIDE, 3)
    at = open_colour_page("pages/10_history.py")
    assert len(at.get("plotly_chart")) == 1
    recon = history["reconstructions"]
    gif = Image.open(io.BytesIO(history_gif(history["maps"], None, recon, history["epochs"])))
    gif.seek(len(recon) - 1)
    shown = np.asarray(gif.convert("RGB"), np.int16)
    tile = reconstruction_tile(recon[-1])  # right of the 360-pixel map, below the title
    assert tile.shape[2] == 3
    assert np.abs(shown[30:30 + tile.shape[0], 380:380 + tile.shape[1]] - tile).mean() < 4  # a GIF's palette
