"""Training, resuming and measuring on colour images of another size: the model takes the training
set's shape, a model of another shape is refused naming both, the set stays uint8 while training,
and what training records and evaluate measures is of the images' own shape."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from aecore import __main__ as cli
from aecore.checkpoint import load_checkpoint
from aecore.config import ModelConfig, TrainConfig
from aecore.data import load_dataset
from aecore.latent.codec import reconstruct_all
from aecore.measure.evaluate import evaluate
from aecore.measure.metrics import psnr
from aecore.pictures.pixels import ImageShape, as_image_batch
from aecore.train import random_shift, split_train_val, train
from aecore.train.history import check_history
from aecore.train.batches import as_floats
from colour_data import colour_npz

SHAPE = ImageShape(3, 16, 12)  # colour, not square


@pytest.fixture
def blobs(tmp_path, monkeypatch):
    """The dataset "blobs": 300 train and 60 test colour images of 16x12, in AECORE_DATA_DIR."""
    colour_npz(tmp_path / "data", train=300, test=60, height=16, width=12)
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path / "data"))
    load_dataset.cache_clear()
    yield "blobs"
    load_dataset.cache_clear()


def test_the_training_split_stays_uint8_in_the_batch_layout(blobs):
    images = load_dataset(blobs, "train").images                       # (300, 16, 12, 3) uint8
    train_x, val_x = split_train_val(images, TrainConfig(dataset=blobs, val_fraction=0.1))
    assert train_x.dtype == torch.uint8 and train_x.shape == (270, 3, 16, 12) and len(val_x) == 30
    # a batch converted as the loop does holds the same values as the pictures converted whole
    perm = torch.randperm(300, generator=torch.Generator().manual_seed(0))
    assert torch.equal(as_floats(train_x[:5]), as_image_batch(images[perm[30:35].numpy()]))


def test_shift_augmentation_moves_colour_images_of_any_shape():
    x = torch.zeros(6, 3, 16, 12)
    x[:, :, 8, 6] = torch.tensor([1.0, 0.5, 0.25])  # one coloured pixel
    moved = random_shift(x, 2, torch.Generator().manual_seed(0))
    assert moved.shape == x.shape
    for image in moved:  # still one pixel of that colour, within 2 of where it was
        where = image.sum(dim=0).nonzero()
        assert len(where) == 1 and (where[0] - torch.tensor([8, 6])).abs().max() <= 2
        assert torch.equal(image[:, where[0, 0], where[0, 1]], torch.tensor([1.0, 0.5, 0.25]))


def test_a_model_of_another_shape_is_refused_naming_both(blobs):
    with pytest.raises(ValueError, match=r"takes 28x28 grey images .*dataset blobs has 16x12 colour images"):
        train(ModelConfig(hidden=[8]), TrainConfig(dataset=blobs, epochs=1))


def test_the_command_line_refuses_an_image_flag_that_is_not_the_datasets(blobs, tmp_path, capsys):
    code = cli.main(["train", "--image", "1", "28", "28", "--dataset", blobs, "--out", str(tmp_path / "x")])
    err = capsys.readouterr().err
    assert code == 2 and "--image 1 28 28 takes 28x28 grey images" in err and "16x12 colour" in err
    assert not (tmp_path / "x").exists()  # (without --image, the slow test below trains on the set's shape)


@pytest.mark.slow
def test_a_colour_conv_vae_trains_records_and_evaluates_on_its_own_images(blobs, tmp_path, capsys):
    out = tmp_path / "colour-vae"
    code = cli.main(["train", "--kind", "vae", "--body", "conv", "--channels", "8", "16", "--hidden", "32",
                     "--latent-dim", "4", "--dataset", blobs, "--epochs", "3", "--augment-shift", "1",
                     "--evaluate", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    ckpt = load_checkpoint(out)
    assert ckpt.model.image_shape == SHAPE and ckpt.config["model"]["image"] == [3, 16, 12]  # no --image: the set's
    history = ckpt.recorded()
    assert history["reconstructions"].shape == (3, 12, 16, 12, 3) and history["reconstructions"].dtype == np.uint8
    measured = ckpt.metrics
    assert measured["measured_on"]["image"] == [3, 16, 12]
    m = measured["metrics"]
    assert m["sse_per_image"] == pytest.approx(m["mse_per_pixel"] * SHAPE.pixels, rel=1e-6)
    assert m["neg_elbo_per_pixel"] == pytest.approx(m["neg_elbo"] / SHAPE.pixels)
    test = load_dataset(blobs, "test").images
    assert m["recon_psnr"] == pytest.approx(psnr(test, reconstruct_all(ckpt.model, test)).mean(), rel=1e-6)
    assert 0 < m["bce_per_pixel"] < np.log(2)  # better than a grey guess of 0.5 everywhere
    losses = [r["val"]["loss"] for r in ckpt.config["history"]]
    assert losses[-1] < losses[0]
    # the command line's evaluate gives the numbers metrics.json holds
    capsys.readouterr()
    assert cli.main(["evaluate", str(out), "--json"]) == 0
    again = json.loads(capsys.readouterr().out)["metrics"]
    assert again["mse_per_pixel"] == pytest.approx(m["mse_per_pixel"], rel=1e-6)


def test_evaluating_a_model_on_images_of_another_shape_names_both(blobs):
    from aecore.models import build_model
    with pytest.raises(ValueError, match="takes 28x28 grey images.*dataset blobs has 16x12 colour"):
        evaluate(build_model(ModelConfig(hidden=[8])), blobs)


def test_a_history_of_colour_reconstructions_is_read_and_one_of_another_shape_refused():
    frames = {"index": np.arange(20), "epochs": np.array([1, 2]), "maps": np.zeros((2, 20, 2), np.float16),
              "reconstructions": np.zeros((2, 4, 16, 12, 3), np.uint8)}
    assert check_history(frames, 2, "h", SHAPE)["reconstructions"].shape == (2, 4, 16, 12, 3)
    grey = {**frames, "reconstructions": np.zeros((2, 4, 28, 28), np.uint8)}
    assert check_history(grey, 2, "h")["reconstructions"].shape == (2, 4, 28, 28)  # as every shipped one
    with pytest.raises(ValueError, match="do not fit"):
        check_history(grey, 2, "h", SHAPE)
