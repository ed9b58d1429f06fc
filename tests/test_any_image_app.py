"""The app's per-checkpoint helpers with a colour checkpoint: a dataset of other images is a message
naming both shapes (which a page's guard shows), a page's default dataset is one of the model's
images, the picker says which images a model takes, and the Train page builds a model of the
picked dataset's images."""
from __future__ import annotations

import pytest
import torch

from aecore.checkpoint import save_checkpoint
from aecore.config import ModelConfig
from aecore.data import load_dataset
from aecore.models import build_model
from aecore.pictures.pixels import ImageShape
from colour_data import colour_npz


@pytest.fixture
def colour_env(tmp_path, monkeypatch):
    """AECORE_DATA_DIR with the colour set "blobs" (16x12); a colour checkpoint trained on it
    (untrained weights: only its shape matters here) in tmp_path/checkpoints."""
    colour_npz(tmp_path / "data", train=60, test=20, height=16, width=12)
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AECORE_CACHE_DIR", str(tmp_path / "cache"))
    load_dataset.cache_clear()
    torch.manual_seed(0)
    model = build_model(ModelConfig(body="conv", channels=[4, 8], hidden=[16], image=[3, 16, 12])).eval()
    path = save_checkpoint(tmp_path / "checkpoints" / "colour-ae", model, {"dataset": "blobs"},
                           {"name": "blobs"}, 1.0)
    from ui import cached
    for helper in (cached.image_shape, cached.codes, cached.trained_on):
        helper.clear()
    yield str(path)
    load_dataset.cache_clear()


def test_a_dataset_of_other_images_is_a_message_naming_both(colour_env):
    from ui import cached
    with pytest.raises(ValueError, match=r"model colour-ae takes 16x12 colour images \(3x16x12\); "
                                         r"dataset mnist-sample has 28x28 grey images"):
        cached.codes(colour_env, "mnist-sample")
    assert cached.codes(colour_env, "blobs").shape == (20, 2)  # its own images encode


def test_the_default_dataset_is_one_of_the_models_images(colour_env, monkeypatch):
    from ui import cached
    assert cached.image_shape(colour_env) == ImageShape(3, 16, 12)
    assert cached.dataset_for(colour_env) == "blobs"
    monkeypatch.setattr(cached, "trained_on", lambda path: "cifar-not-here")  # its own set is gone
    monkeypatch.setattr(cached, "available", lambda: ["mnist-sample", "blobs"])
    assert cached.dataset_for(colour_env) == "blobs"  # not the first one here, of another shape


def test_the_picker_says_which_images_a_model_takes(colour_env):
    from ui.checkpoints import _described
    assert _described("colour-ae", "local", "plain", 2, [3, 16, 12]) == "colour-ae (local) · plain · 2-D · 16x12 colour"
    assert _described("vae-2d", "zoo", "vae", 2, None) == "vae-2d (zoo) · vae · 2-D"  # MNIST's as before
    assert _described("vae-2d", "zoo", "vae", 2, [1, 28, 28]) == "vae-2d (zoo) · vae · 2-D"


def test_the_train_page_builds_a_model_of_the_picked_datasets_images(colour_env, tmp_path, monkeypatch):
    from ui import train_widgets
    monkeypatch.setenv("AECORE_TRAINED_DIR", str(tmp_path / "trained"))
    state = {"train_kind": "vae", "train_body": "conv", "train_latent_dim": 2, "train_recon": "bce",
             "train_vae_beta": 1.0, "train_vae_total_correlation": 0.0, "train_dataset": "blobs", "train_epochs": 1, "train_seed": 0,
             "train_name": "my-colour-vae", "_session_id": "s1"}
    monkeypatch.setattr("streamlit.session_state", state, raising=False)
    model, training = train_widgets._configs(state)
    assert model.image_shape == ImageShape(3, 16, 12) and training.dataset == "blobs"
    with pytest.raises(ValueError, match="this server trains mnist-sample"):  # the demo reads no other set
        train_widgets.request({**state, "train_dataset": "blobs"}, demo=True)
