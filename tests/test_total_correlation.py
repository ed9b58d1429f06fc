"""beta-TCVAE: a VAE whose config weighs the total correlation of its code (Chen et al. 2018)."""
from __future__ import annotations

import torch

from aecore.config import ModelConfig
from aecore.models import build_model, penalties

VAE = {"kind": "vae", "body": "conv", "latent_dim": 4, "hidden": [16], "channels": [4, 8], "image": [3, 16, 16]}


def _codes(copy: bool, n: int = 512, logvar: float = -2.0):
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(n, 4, generator=g)
    if copy:
        mu[:, 1] = mu[:, 0]  # unit 1 says what unit 0 says: the units are not independent
    lv = torch.full_like(mu, logvar)
    return mu + torch.randn(mu.shape, generator=g) * (0.5 * lv).exp(), mu, lv


def test_total_correlation_is_larger_when_one_unit_copies_another():
    independent, copied = penalties.total_correlation(*_codes(False)), penalties.total_correlation(*_codes(True))
    assert copied > independent + 0.2


def test_a_vae_without_the_setting_has_the_objective_it_always_had():
    config = ModelConfig.from_dict(VAE)  # old configs: no "total_correlation" in the "vae" section
    assert config.options.total_correlation == 0.0
    model = build_model(config)
    x, eps = torch.rand(8, 3, 16, 16), torch.randn(8, 4)
    assert set(model.loss(x, eps=eps)) == {"loss", "recon", "kl"}


def test_tcvae_adds_the_weighted_total_correlation_to_the_objective():
    plain = build_model(ModelConfig.from_dict(VAE))
    tc = build_model(ModelConfig.from_dict({**VAE, "vae": {"beta": 1.0, "total_correlation": 5.0}}))
    tc.load_state_dict(plain.state_dict())
    x, eps = torch.rand(64, 3, 16, 16), torch.randn(64, 4)
    a, b = plain.loss(x, eps=eps), tc.loss(x, eps=eps)
    assert torch.allclose(a["kl"], b["kl"]) and torch.allclose(a["recon"], b["recon"])
    mu, logvar = tc.gaussian(x)
    expected = 5.0 * penalties.total_correlation(mu + eps * (0.5 * logvar).exp(), mu, logvar)
    assert torch.allclose(b["tc"], expected, atol=1e-5)
    assert torch.allclose(b["loss"], a["loss"] + b["tc"], atol=1e-4)
    assert ModelConfig.from_dict(tc.config.to_dict()) == tc.config  # stored and read back with its weight
