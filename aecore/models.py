"""Autoencoder = encoder body -> bottleneck -> decoder body. The kinds differ in their bottleneck
and their penalty terms; each owns its objective: `loss(x)` returns a dict of named terms.

Images x are float (B, 1, 28, 28) with pixels in [0, 1]; codes z are (B, latent_dim).
Reconstruction terms are summed over the 784 pixels and averaged over images.
"""
from __future__ import annotations

from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from . import penalties
from .config import ModelConfig
from .nets import build_body, check_name

Batches = Callable[[torch.Generator], Iterator[torch.Tensor]]


class Bottleneck(nn.Module):
    """Features (B, F) -> code (B, d), plus its named penalty terms (unweighted)."""

    def __init__(self, features: int, latent_dim: int, code_activation: str | None = None):
        super().__init__()
        self.linear = nn.Linear(features, latent_dim)
        self.code_activation = code_activation

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, dict]:
        z = self.linear(h)
        if self.code_activation == "sigmoid":
            z = torch.sigmoid(z)
        elif self.code_activation == "relu":
            z = F.relu(z)
        return z, {}


class VariationalBottleneck(nn.Module):
    """Gaussian q(z|x) = N(mu, exp(logvar)); samples by reparameterisation while training, gives
    the mean in eval mode. The KL to N(0, I) is analytic, summed over d, mean over images."""

    def __init__(self, features: int, latent_dim: int):
        super().__init__()
        self.mu = nn.Linear(features, latent_dim)
        self.logvar = nn.Linear(features, latent_dim)

    def gaussian(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.mu(h), self.logvar(h).clamp(-20, 10)

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, dict]:
        mu, logvar = self.gaussian(h)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1).mean()
        return z, {"kl": kl}


class Autoencoder(nn.Module):
    """The plain autoencoder; the other kinds override `make_bottleneck`, `encoder_input` or `penalties`."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        check_name(config.recon, RECON_LOSSES, "reconstruction loss")
        self.config = config
        self.encoder, features, self.decoder = build_body(config)
        self.bottleneck = self.make_bottleneck(features)

    def make_bottleneck(self, features: int) -> nn.Module:
        return Bottleneck(features, self.config.latent_dim)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) in [0, 1] -> (B, d); deterministic in eval mode."""
        return self.bottleneck(self.encoder(x))[0]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, d) -> (B, 1, 28, 28) in [0, 1]."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """The input the encoder sees in the objective (denoising corrupts it)."""
        return x

    def penalties(self, x_in: torch.Tensor, z: torch.Tensor, terms: dict) -> dict:
        """Weighted penalty terms from the encoder input, the code and the bottleneck's terms."""
        return terms

    def loss(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """{"loss": recon + sum of penalties, "recon": ..., <each weighted penalty>}."""
        x_in = self.encoder_input(x)  # the objective's input, also for validation; encode() never corrupts
        z, terms = self.bottleneck(self.encoder(x_in))
        recon = RECON_LOSSES[self.config.recon](self.decoder(z), x)
        named = self.penalties(x_in, z, terms)
        return {"loss": recon + sum(named.values()), "recon": recon, **named}

    def batch_sampler(self, images: torch.Tensor, batch_size: int) -> Batches:
        """Index batches over `images` for one epoch, shuffled by the given generator."""
        n = len(images)

        def epoch(generator: torch.Generator) -> Iterator[torch.Tensor]:
            yield from torch.randperm(n, generator=generator).split(batch_size)
        return epoch


def _mse(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (torch.sigmoid(logits) - x).pow(2).flatten(1).sum(1).mean()


def _bce(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1).mean()


RECON_LOSSES = {"mse": _mse, "bce": _bce}


class Denoising(Autoencoder):
    """The objective corrupts the input (train and validation alike) and compares the output with
    the clean image; encode() and forward() never add noise."""

    def __init__(self, config: ModelConfig):
        from .noise import NOISES
        check_name(config.noise, NOISES, "noise")
        super().__init__(config)

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        from .noise import corrupt
        return corrupt(x, self.config.noise, self.config.noise_level)


class Sparse(Autoencoder):
    """Penalises code activations: relu code for l1, sigmoid code for kl and log."""

    def make_bottleneck(self, features: int) -> nn.Module:
        check_name(self.config.sparsity, {"l1": 0, "kl": 0, "log": 0}, "sparsity")
        act = "relu" if self.config.sparsity == "l1" else "sigmoid"
        return Bottleneck(features, self.config.latent_dim, code_activation=act)

    def penalties(self, x_in, z, terms):
        c = self.config
        return {"sparsity": c.sparsity_weight * penalties.sparsity(z, c.sparsity, c.rho)}


class Contractive(Autoencoder):
    """Penalises the squared Frobenius norm of the encoder Jacobian dz/dx (seed 002)."""

    def encoder_input(self, x):
        return x.detach().clone().requires_grad_(True)  # the penalty needs dz/dx

    def penalties(self, x_in, z, terms):
        with torch.enable_grad():  # also under no_grad (validation): recompute z with a graph
            if z.grad_fn is None:  # z was computed under no_grad
                x_in = x_in.detach().requires_grad_(True)
                z = self.encode(x_in)
            jac = penalties.jacobian_sq_frobenius(x_in, z)
        return {"contractive": self.config.contractive_weight * jac}


class VAE(Autoencoder):
    """Variational autoencoder: encode() gives the posterior mean, sample() draws from the prior."""

    def make_bottleneck(self, features: int) -> nn.Module:
        return VariationalBottleneck(features, self.config.latent_dim)

    def gaussian(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar), each (B, d)."""
        return self.bottleneck.gaussian(self.encoder(x))

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        z = torch.randn(n, self.config.latent_dim, generator=generator)
        return self.decode(z)

    def penalties(self, x_in, z, terms):
        return {"kl": self.config.beta * terms["kl"]}


class Neighbour(Autoencoder):
    """Reconstruction plus seed 000's k-NN distance-ratio term."""

    def penalties(self, x_in, z, terms):
        c = self.config
        return {"neighbour": c.neighbour_weight * penalties.neighbour_distances(x_in, z, c.neighbour_k)}


class UMAP(Autoencoder):
    """A decodable UMAP-style map: batches are edges of the data's fuzzy k-NN graph, the first
    half of a batch their heads and the second half their tails (see batch_sampler)."""

    def penalties(self, x_in, z, terms):
        c = self.config
        if not hasattr(self, "_ab"):
            self._ab = penalties.umap_ab(c.umap_min_dist)
        half = z.shape[0] // 2
        ce = penalties.umap_cross_entropy(z[:half], z[half:2 * half], *self._ab, c.umap_negatives)
        return {"umap": c.umap_weight * ce}

    def batch_sampler(self, images: torch.Tensor, batch_size: int) -> Batches:
        """Each epoch draws len(images) edges, with probability proportional to their weight,
        in batches of `batch_size` edges: indices [heads..., tails...]."""
        c = self.config
        heads, tails, weights = penalties.umap_graph(images.numpy(), c.umap_n_neighbors, seed=0)
        heads, tails = torch.from_numpy(heads), torch.from_numpy(tails)
        weights = torch.from_numpy(weights)
        n = len(images)

        def epoch(generator: torch.Generator) -> Iterator[torch.Tensor]:
            edges = torch.multinomial(weights, n, replacement=True, generator=generator)
            for batch in edges.split(batch_size):
                yield torch.cat([heads[batch], tails[batch]])
        return epoch


KINDS = {
    "plain": Autoencoder, "denoising": Denoising, "sparse": Sparse, "contractive": Contractive,
    "vae": VAE, "neighbour": Neighbour, "umap": UMAP,
}


def build_model(config: ModelConfig) -> Autoencoder:
    """A freshly initialised model of config.kind; unknown names raise ValueError."""
    return KINDS[check_name(config.kind, KINDS, "kind")](config)
