"""Every kind on every body keeps its contract for images of any shape: colour or grey, small or
large, square or not; the 28x28 grey models are the ones they always were."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from aecore.checkpoint import load_checkpoint, model_config, save_checkpoint
from aecore.checkpoint.weights import expected_tensors
from aecore.config import MAX_PARAMETERS, ModelConfig
from aecore.model_size import conv_sides, parameter_count
from aecore.models import KINDS, build_model
from aecore.models.bodies import BODIES, layer_sizes
from aecore.pictures.pixels import MNIST, ImageShape
from factories import tiny_config

ZOO = Path(__file__).resolve().parent.parent / "checkpoints"
SHAPES = [(1, 28, 28), (3, 32, 32), (1, 8, 8), (3, 64, 48)]
FAST = (3, 17, 12)  # colour, odd, not square: the fast tier's shape; SHAPES run in the slow tier
CONTRACT_SHAPES = [FAST, *(pytest.param(s, marks=pytest.mark.slow) for s in SHAPES)]


def structured(shape: tuple, n: int = 16, seed: int = 0) -> torch.Tensor:
    """(n, C, H, W) in [0, 1]: a soft blob of a random colour at a random place, so neighbours
    and reconstructions have something to find."""
    c, h, w = shape
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.zeros((n, c, h, w), np.float32)
    for i in range(n):
        cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(2, max(3, min(h, w) / 3))
        blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * r * r))
        out[i] = blob[None] * rng.uniform(0.3, 1.0, (c, 1, 1))
    return torch.from_numpy(out)


def shaped(kind: str, body: str, shape: tuple, **over) -> ModelConfig:
    return tiny_config(kind, body, image=list(shape), **over)


@pytest.mark.parametrize("shape", CONTRACT_SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("body", list(BODIES))
@pytest.mark.parametrize("kind", [pytest.param(k, marks=pytest.mark.slow) if k == "umap" else k for k in KINDS])  # umap: numba compiles
def test_every_kind_and_body_takes_and_gives_images_of_its_shape(kind, body, shape):
    torch.manual_seed(0)
    model = build_model(shaped(kind, body, shape))
    assert model.image_shape == ImageShape(*shape)
    images = structured(shape)
    with torch.no_grad():
        out = model.eval()(images)
    assert out.shape == images.shape and 0 <= out.min() and out.max() <= 1
    model.train()
    x = images[next(iter(model.batch_sampler(images, 8)(torch.Generator().manual_seed(0))))]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    terms = model.loss(x)
    assert all(torch.isfinite(v) for v in terms.values())
    opt.zero_grad()
    terms["loss"].backward()
    before = [p.detach().clone() for p in model.parameters()]
    opt.step()
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters()))


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (1, 8, 8), (3, 64, 48), (3, 27, 17), (1, 9, 128),
                                   (3, 128, 128), (1, 13, 100)], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("body", ["conv", "broadcast"])
def test_the_conv_bodies_come_back_to_exactly_the_input_size(shape, body):
    """Odd sides are not cropped or resized: each transposed conv lands on the encoder's size."""
    cfg = shaped("plain", body, shape, channels=[4, 8, 8, 8])
    model = build_model(cfg)
    assert model(torch.rand(2, *shape)).shape == (2, *shape)
    assert parameter_count(cfg) == sum(p.numel() for p in model.parameters())
    sides = conv_sides(cfg.image_shape, cfg.channels)
    assert all(min(s) >= 7 or s == sides[0] or min(sides[0]) < 14 for s in sides)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("body", list(BODIES))
def test_the_count_from_the_config_is_the_models(body, shape):
    for kind in ("plain", "vae"):
        cfg = shaped(kind, body, shape, hidden=[16, 8])
        assert parameter_count(cfg) == sum(p.numel() for p in build_model(cfg).parameters())


def test_the_parameter_budget_holds_for_large_images():
    with pytest.raises(ValueError, match=r"parameters .* for 128x128 colour images; the limit is 25,000,000"):
        ModelConfig(body="mlp", hidden=[512, 256], image=[3, 128, 128])
    small = ModelConfig(body="conv", channels=[32, 64, 64], hidden=[256], image=[3, 128, 128])
    assert parameter_count(small) <= MAX_PARAMETERS


@pytest.mark.parametrize("image, words", [([2, 28, 28], "1 \\(grey\\) or 3"), ([1, 4, 28], "sides of 8 to 128"),
                                          ([1, 28], "\\[channels, height, width\\]"), ("28x28", "\\[channels")])
def test_a_config_with_an_image_the_explorer_cannot_take_says_so(image, words):
    with pytest.raises(ValueError, match=words):
        ModelConfig.from_dict({"kind": "plain", "image": image})


def test_the_image_is_stored_in_config_json_and_read_back(tmp_path):
    torch.manual_seed(0)
    model = build_model(shaped("vae", "conv", (3, 32, 32))).eval()
    path = save_checkpoint(tmp_path / "colour", model, {"dataset": "colours"}, {"name": "colours"}, 1.0)
    stored = json.loads((path / "config.json").read_text())["model"]
    assert stored["image"] == [3, 32, 32]
    loaded = load_checkpoint(path)
    assert loaded.model.image_shape == ImageShape(3, 32, 32)
    x = structured((3, 32, 32), 4)
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(x), model(x), atol=0, rtol=0)
    assert layer_sizes(model.config).startswith("3×32×32 → 4ch → 8ch")


def test_the_broadcast_body_tiles_the_code_beside_two_coordinate_channels():
    """The spatial broadcast decoder's first map is the code at every place, plus x and y from -1
    to 1 across it: what lets a unit say where a thing is drawn."""
    cfg = shaped("vae", "broadcast", (3, 64, 48), channels=[4, 8, 8], hidden=[16], latent_dim=2)
    model = build_model(cfg).eval()
    assert layer_sizes(cfg) == "3×64×48 → 4ch → 8ch → 8ch → 16 → 2 → 16×12 tiled + x, y → 8ch → 8ch → 4ch → 3×64×48"
    z = torch.tensor([[0.5, -2.0]])
    grid = model.decoder[0](z)
    assert grid.shape == (1, 4, 16, 12)
    assert torch.equal(grid[0, 0], torch.full((16, 12), 0.5)) and torch.equal(grid[0, 1], torch.full((16, 12), -2.0))
    torch.testing.assert_close(grid[0, 2, 0], torch.linspace(-1, 1, 12))   # x along a row
    torch.testing.assert_close(grid[0, 3, :, 0], torch.linspace(-1, 1, 16))  # y down a column
    assert not any("grid" in name or "ones" in name for name in model.state_dict())  # derived, not weights


@pytest.mark.parametrize("name", sorted(p.name for p in ZOO.iterdir() if (p / "config.json").is_file()))
def test_shipped_checkpoints_are_models_of_the_structure_they_were_saved_with(name):
    """A config.json without "image" is MNIST's (every grey entry predates image shapes), one with
    it (the colour entries) is of those images; either builds exactly the tensors its weights hold."""
    from safetensors import safe_open
    config = json.loads((ZOO / name / "config.json").read_text())
    cfg = model_config(config)
    if "image" in config["model"]:
        assert config["dataset"]["image"] == config["model"]["image"] == cfg.image_shape.to_list() != MNIST.to_list()
    else:
        assert cfg.image_shape == MNIST
    with safe_open(str(ZOO / name / "model.safetensors"), framework="numpy") as f:
        saved = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    assert expected_tensors(cfg) == saved
