"""Bottlenecks: encoder features (B, F) -> code (B, d). Each returns (z, named penalty terms) from
`forward`, the objective's view, and the deterministic code from `code`, the explorer's view."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from . import penalties

CODE_ACTIVATIONS = {"sigmoid": torch.sigmoid, "relu": F.relu}


class Bottleneck(nn.Module):
    """A linear code layer, optionally squashed (sigmoid or relu, for sparse codes)."""

    def __init__(self, features: int, latent_dim: int, code_activation: str | None = None):
        super().__init__()
        self.linear = nn.Linear(features, latent_dim)
        self.code_activation = code_activation

    def code(self, h: torch.Tensor) -> torch.Tensor:
        z = self.linear(h)
        return CODE_ACTIVATIONS[self.code_activation](z) if self.code_activation else z

    def forward(self, h: torch.Tensor, eps: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
        return self.code(h), {}

    @property
    def code_layer(self) -> nn.Linear:
        """The layer that writes the code (for a shallow mlp, the one that sees the pixels)."""
        return self.linear


class VariationalBottleneck(nn.Module):
    """Gaussian q(z|x) = N(mu, exp(logvar)). The objective samples z by reparameterisation while
    training, or whenever it is given the noise `eps` (B, d); `code` is the mean. The KL term to
    N(0, I) is analytic, summed over d, mean over images."""

    code_activation = None

    def __init__(self, features: int, latent_dim: int):
        super().__init__()
        self.mu = nn.Linear(features, latent_dim)
        self.logvar = nn.Linear(features, latent_dim)

    def gaussian(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mu(h), self.logvar(h).clamp(-20, 10)

    def code(self, h: torch.Tensor) -> torch.Tensor:
        return self.mu(h)

    def forward(self, h: torch.Tensor, eps: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
        mu, logvar = self.gaussian(h)
        if eps is None and self.training:
            eps = torch.randn_like(mu)
        z = mu if eps is None else mu + eps * torch.exp(0.5 * logvar)
        return z, {"kl": penalties.gaussian_kl(mu, logvar).mean(), "posterior": (mu, logvar)}

    @property
    def code_layer(self) -> nn.Linear:
        return self.mu
