"""The contract every kind x body keeps, and the checks particular to each kind."""
from __future__ import annotations

import pytest
import torch

from aecore.checkpoint import load_checkpoint, save_checkpoint
from aecore.config import TrainConfig
from aecore.models import KINDS, build_model, penalties
from aecore.models.bodies import BODIES
from factories import tiny_config

CASES = [(k, b) for k in KINDS for b in BODIES]


def batch_for(model, images):
    """The training batch a model sees: umap kinds take [heads, tails] of graph edges."""
    sampler = model.batch_sampler(images, 32)
    return images[next(iter(sampler(torch.Generator().manual_seed(0))))]


@pytest.mark.parametrize("kind,body", CASES)
def test_shapes_and_range(kind, body, images):
    torch.manual_seed(0)
    model = build_model(tiny_config(kind, body)).eval()
    z = model.encode(images)
    out = model.decode(z)
    assert z.shape == (64, 4)
    assert out.shape == (64, 1, 28, 28)
    assert 0 <= out.min() and out.max() <= 1


@pytest.mark.parametrize("kind,body", CASES)
def test_loss_is_finite_and_falls(kind, body, images):
    torch.manual_seed(0)
    model = build_model(tiny_config(kind, body)).train()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    x = batch_for(model, images)
    first = model.loss(x)
    assert {"loss", "recon"} <= set(first)
    assert torch.allclose(first["loss"], sum(v for k, v in first.items() if k != "loss"))
    losses = []
    for _ in range(25):
        terms = model.loss(x)
        assert all(torch.isfinite(v) for v in terms.values())
        opt.zero_grad()
        terms["loss"].backward()
        opt.step()
        losses.append(terms["loss"].item())
    assert losses[-1] < 0.9 * losses[0]


@pytest.mark.parametrize("kind,body", CASES)
def test_eval_mode_is_batch_independent(kind, body, images):
    torch.manual_seed(0)
    model = build_model(tiny_config(kind, body, dropout=0.3)).eval()
    with torch.no_grad():
        together = model(images[:8])
        alone = torch.cat([model(images[i:i + 1]) for i in range(8)])
    torch.testing.assert_close(together, alone, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("kind,body", CASES)
def test_save_load_gives_identical_outputs(kind, body, images, tmp_path):
    torch.manual_seed(0)
    model = build_model(tiny_config(kind, body)).eval()
    path = save_checkpoint(tmp_path / "ck", model, TrainConfig(), {"name": "synthetic"}, 1.0)
    loaded = load_checkpoint(path)
    assert not loaded.model.training
    with torch.no_grad():
        torch.testing.assert_close(loaded.model(images), model(images), atol=0, rtol=0)
        torch.testing.assert_close(loaded.model.encode(images), model.encode(images), atol=0, rtol=0)


@pytest.mark.parametrize("field,value", [("kind", "diffusion"), ("body", "transformer"),
                                          ("recon", "l1"), ("activation", "swish")])
def test_unknown_names_list_the_valid_ones(field, value):
    with pytest.raises(ValueError, match="valid"):
        build_model(tiny_config(**{"kind": "plain", "body": "mlp", field: value}))


def test_shallow_and_deep_mlp_sizes():
    def weight_shapes(model):
        return sorted(tuple(p.shape) for p in model.parameters() if p.dim() == 2)
    shallow = build_model(tiny_config("plain", "mlp", hidden=[], latent_dim=32))
    assert weight_shapes(shallow) == [(32, 784), (784, 32)]
    deep = build_model(tiny_config("plain", "mlp", hidden=[1000, 500, 250], latent_dim=30))
    assert weight_shapes(deep) == sorted([(1000, 784), (500, 1000), (250, 500), (30, 250),
                                          (250, 30), (500, 250), (1000, 500), (784, 1000)])


@pytest.mark.parametrize("body", list(BODIES))
def test_contractive_penalty_matches_finite_differences(body, images):
    torch.manual_seed(0)
    model = build_model(tiny_config("contractive", body, contractive_weight=1.0)).double().eval()
    x = images[:3].double().requires_grad_(True)
    analytic = penalties.jacobian_sq_norms(x, model.encode(x)).mean()
    eps, total = 1e-6, 0.0
    with torch.no_grad():
        for i in range(3):
            base = x[i:i + 1].detach().flatten()
            steps = torch.eye(784, dtype=torch.float64) * eps
            plus = model.encode((base + steps).view(-1, 1, 28, 28))
            minus = model.encode((base - steps).view(-1, 1, 28, 28))
            total += ((plus - minus) / (2 * eps)).pow(2).sum().item()
    assert analytic.item() == pytest.approx(total / 3, rel=1e-4)


def test_vae_encodes_the_mean_and_samples_the_prior(images):
    torch.manual_seed(0)
    model = build_model(tiny_config("vae", "mlp")).eval()
    mu, logvar = model.gaussian(images)
    torch.testing.assert_close(model.encode(images), mu)
    assert model.has_prior and not build_model(tiny_config("plain", "mlp")).has_prior
    a, b = model.sample_prior(5, seed=1), model.sample_prior(5, seed=1)
    assert a.shape == (5, 4) and (a == b).all() and abs(model.sample_prior(4000, seed=2).std() - 1) < 0.05


def test_neighbour_term_is_zero_when_distances_keep_their_ratios(images):
    x = images[:16]
    z = x.flatten(1) * 3.0                     # every distance scaled by the same factor
    assert penalties.neighbour_distances(x, z, k=4).item() == pytest.approx(0, abs=1e-6)
    shuffled = z[torch.randperm(16, generator=torch.Generator().manual_seed(0))]
    assert penalties.neighbour_distances(x, shuffled, k=4).item() > 0.1


def test_sparse_kl_is_zero_at_target_rho():
    code = torch.full((10, 6), 0.05)
    assert penalties.sparsity(code, "kl", rho=0.05).item() == pytest.approx(0, abs=1e-6)
    assert penalties.sparsity(torch.full((10, 6), 0.5), "kl", rho=0.05).item() > 1


def test_denoising_objective_corrupts_but_encoding_does_not(images):
    model = build_model(tiny_config("denoising", "mlp", noise="masking", noise_level=0.5)).eval()
    assert not torch.equal(model.encoder_input(images), images)
    with torch.no_grad():
        torch.testing.assert_close(model(images), model.decode(model.encode(images)), atol=0, rtol=0)
        torch.testing.assert_close(model(images), model(images), atol=0, rtol=0)


def test_random_shift_moves_each_image_without_losing_ink(images):
    from aecore.train import random_shift
    shifted = random_shift(images, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == images.shape
    torch.testing.assert_close(shifted.sum(dim=(1, 2, 3)), images.sum(dim=(1, 2, 3)))
    assert not torch.equal(shifted, images)


def test_contractive_validation_loss_works_under_no_grad(images):
    model = build_model(tiny_config("contractive", "mlp")).eval()
    with torch.no_grad():
        terms = model.loss(images[:8])
    assert torch.isfinite(terms["contractive"]) and terms["contractive"] > 0
