"""Autoencoder = encoder body -> bottleneck -> decoder body. The kinds differ in their bottleneck
and their penalty terms; each owns its objective: `loss(x)` returns a dict of named terms.

Images x are float (B, 1, 28, 28) with pixels in [0, 1]; codes z are (B, latent_dim).
Reconstruction terms are summed over the 784 pixels and averaged over images.

Code outside this module asks a model what it is (`has_prior`, `sample_prior`,
`code_activation`, `first_layer_weights`, `no_gradients`, `describe`) instead of reading its
kind's name; an ONNX-backed model (aecore.models.onnx) answers the same questions, and raises
Unavailable, saying why, for what its graphs cannot give.
"""
from __future__ import annotations

from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..checks import lookup
from ..config import ModelConfig
from ..pictures.noise import NOISES, corrupt
from . import penalties
from .bodies import build_body, layer_sizes
from .bottlenecks import Bottleneck, VariationalBottleneck

Batches = Callable[[torch.Generator], Iterator[torch.Tensor]]


def _mse(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (torch.sigmoid(logits) - x).pow(2).flatten(1).sum(1)


def _bce(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


# per image (B,), summed over the 784 pixels, from the decoder's logits
RECON_LOSSES = {"mse": _mse, "bce": _bce}


class Unavailable(Exception):
    """What a model cannot give (an ONNX graph has no autograd, say); the message says why."""


def standard_normal_codes(n: int, d: int, seed: int) -> np.ndarray:
    """n codes (n, d) float32 from the prior N(0, I), seeded."""
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


class Autoencoder(nn.Module):
    """The plain autoencoder; the other kinds override `make_bottleneck`, `encoder_input`,
    `penalties` or `batch_sampler`."""

    has_prior = False  # True: codes have a prior of their own to sample from (sample_prior)
    no_gradients: str | None = None  # None: autograd differentiates encode(); else why it cannot

    def __init__(self, config: ModelConfig):
        super().__init__()
        lookup(RECON_LOSSES, config.recon, "reconstruction loss")
        self.config = config
        self.encoder, features, self.decoder = build_body(config)
        self.bottleneck = self.make_bottleneck(features)

    # --- what the explorer asks of any model ---
    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    @property
    def kind(self) -> str:
        """The kind's name, for people to read (captions); code asks the properties below."""
        return self.config.kind

    @property
    def code_activation(self) -> str | None:
        """"sigmoid" or "relu" for squashed (sparse) codes, None for unbounded ones."""
        return self.bottleneck.code_activation

    def sample_prior(self, n: int, seed: int) -> np.ndarray:
        """n codes (n, d) float32 from the model's prior; only for models with has_prior."""
        raise ValueError(f"a {self.kind!r} model has no prior: sample from a Gaussian fitted to its codes")

    def first_layer_weights(self) -> np.ndarray:
        """The weights of the first layer that sees the pixels: (units, 784) for a dense layer,
        (channels, 1, k, k) for a convolution (a shallow mlp's is its code layer)."""
        first = next((m for m in self.encoder.modules() if isinstance(m, (nn.Linear, nn.Conv2d))),
                     self.bottleneck.code_layer)
        return first.weight.detach().cpu().numpy()

    def describe(self) -> dict[str, str]:
        """The model card's architecture fields: kind, body, layer sizes, code size, parameters."""
        c = self.config
        return {"kind": c.kind, "body": f"{c.body} ({c.activation}, {c.recon} loss)",
                "layer sizes": layer_sizes(c), "code size": str(c.latent_dim),
                "parameters": f"{sum(p.numel() for p in self.parameters()):,}"}

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) in [0, 1] -> (B, d); deterministic in eval mode."""
        return self.bottleneck.code(self.encoder(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, d) -> (B, 1, 28, 28) in [0, 1]."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))

    # --- the objective ---
    def make_bottleneck(self, features: int) -> nn.Module:
        return Bottleneck(features, self.config.latent_dim)

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        """The input the encoder sees in the objective (denoising corrupts it)."""
        return x

    def penalties(self, x_in: torch.Tensor, z: torch.Tensor, terms: dict) -> dict:
        """Weighted penalty terms from the encoder input, the code and the bottleneck's terms."""
        return terms

    def loss(self, x: torch.Tensor, eps: torch.Tensor | None = None,
             index: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """{"loss": recon + sum of penalties, "recon": ..., <each weighted penalty>}. eps: the
        noise of a sampling bottleneck (VAE), drawn by the caller for reproducible values; index:
        the batch's rows in the training images (a warm start's per-image targets)."""
        x_in = self.encoder_input(x)  # the objective's input, also for validation; encode() never corrupts
        z, terms = self.bottleneck(self.encoder(x_in), eps)
        recon = self.reconstruction_loss(z, x)
        named = self.penalties(x_in, z, terms)
        return {"loss": recon + sum(named.values()), "recon": recon, **named}

    def reconstruction_loss(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """The mean reconstruction loss (config.recon) of decoding codes z against images x."""
        return RECON_LOSSES[self.config.recon](self.decoder(z), x).mean()

    def warm_start(self, images: torch.Tensor, batch_size: int, seed: int = 0) -> tuple[int, Batches | None, int | None]:
        """(epochs, their batches, their shift augmentation or None for the training's) that a
        kind trains before its objective proper, with loss(x, index=...) until end_warm_start();
        none for most kinds."""
        return 0, None, None

    def end_warm_start(self) -> None:
        """Back to the objective proper after the warm-start epochs."""

    def batch_sampler(self, images: torch.Tensor, batch_size: int, seed: int = 0) -> Batches:
        """Index batches over `images` for one epoch, shuffled by the given generator."""
        n = len(images)

        def epoch(generator: torch.Generator) -> Iterator[torch.Tensor]:
            yield from torch.randperm(n, generator=generator).split(batch_size)
        return epoch

    # --- a batch split between processes (aecore.train.distributed) ---
    def batch_coupling(self) -> str | None:
        """None when the loss is a mean of per-image terms, so splitting a batch between
        processes changes nothing; else what in the loss looks across the batch's images."""
        return None

    def shard(self, batch: torch.Tensor, rank: int, world: int) -> torch.Tensor:
        """Process `rank`'s share of a training batch (indices or images, first dimension) split
        `world` ways: every world-th from the rank-th on, as DistributedSampler deals a data set."""
        return batch[rank::world]


class Denoising(Autoencoder):
    """The objective corrupts the input (train and validation alike) and compares the output with
    the clean image; encode() and forward() never add noise."""

    def __init__(self, config: ModelConfig):
        lookup(NOISES, config.options.noise, "noise")
        super().__init__(config)

    def encoder_input(self, x: torch.Tensor) -> torch.Tensor:
        return corrupt(x, self.config.options.noise, self.config.options.noise_level)


class Sparse(Autoencoder):
    """Penalises code activations: relu code for l1, sigmoid code for kl and log."""

    def make_bottleneck(self, features: int) -> nn.Module:
        how = self.config.options.sparsity
        lookup(penalties.SPARSITY, how, "sparsity")
        return Bottleneck(features, self.config.latent_dim, code_activation="relu" if how == "l1" else "sigmoid")

    def penalties(self, x_in, z, terms):
        o = self.config.options
        return {"sparsity": o.sparsity_weight * penalties.sparsity(z, o.sparsity, o.rho)}

    def batch_coupling(self):
        if self.config.options.sparsity == "l1":
            return None  # a mean over images of each image's activity
        return f"the {self.config.options.sparsity} sparsity term uses each code unit's mean activation over the batch"


class Contractive(Autoencoder):
    """Penalises the squared Frobenius norm of the encoder Jacobian dz/dx (seed 002)."""

    def encoder_input(self, x):
        return x.detach().clone().requires_grad_(True)  # the penalty needs dz/dx

    def penalties(self, x_in, z, terms):
        with torch.enable_grad():  # also under no_grad (validation): recompute z with a graph
            if z.grad_fn is None:  # z was computed under no_grad
                x_in = x_in.detach().requires_grad_(True)
                z = self.encode(x_in)
            jac = penalties.jacobian_sq_norms(x_in, z, create_graph=True).mean()
        return {"contractive": self.config.options.contractive_weight * jac}


class VAE(Autoencoder):
    """Variational autoencoder: encode() gives the posterior mean; codes have the prior N(0, I)."""

    has_prior = True

    def make_bottleneck(self, features: int) -> nn.Module:
        return VariationalBottleneck(features, self.config.latent_dim)

    def gaussian(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(mu, logvar), each (B, d)."""
        return self.bottleneck.gaussian(self.encoder(x))

    def sample_prior(self, n: int, seed: int) -> np.ndarray:
        return standard_normal_codes(n, self.latent_dim, seed)

    def neg_elbo(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """Per image (B,), in nats: the negative ELBO with a Bernoulli decoder at z = mu + sigma * eps
        (eps (B, d)): BCE summed over the pixels plus KL(q(z|x) || N(0, I)), the objective at beta = 1."""
        mu, logvar = self.gaussian(x)
        z = mu + eps * torch.exp(0.5 * logvar)
        return _bce(self.decoder(z), x) + penalties.gaussian_kl(mu, logvar)

    def penalties(self, x_in, z, terms):
        return {"kl": self.config.options.beta * terms["kl"]}


class Neighbour(Autoencoder):
    """Reconstruction plus seed 000's k-NN distance-ratio term."""

    def penalties(self, x_in, z, terms):
        o = self.config.options
        return {"neighbour": o.neighbour_weight * penalties.neighbour_distances(x_in, z, o.neighbour_k)}

    def batch_coupling(self):
        return "the neighbour term finds each image's nearest neighbours within the batch"


class UMAP(Autoencoder):
    """A decodable UMAP-style map: batches are edges of the data's fuzzy k-NN graph, the first
    half of a batch their heads and the second half their tails (see batch_sampler). With
    umap_warm_epochs, training starts by pulling each training image's code to where umap-learn's
    own map of the training images puts it (and decoding it), then goes on with the UMAP loss."""

    _anchor: torch.Tensor | None = None  # (N, 2) umap-learn's map of the training images, while warm-starting

    def penalties(self, x_in, z, terms):
        o = self.config.options
        if not hasattr(self, "_ab"):
            self._ab = penalties.umap_ab(o.umap_min_dist)
        half = z.shape[0] // 2
        ce = penalties.umap_cross_entropy(z[:half], z[half:2 * half], *self._ab, o.umap_negatives)
        return {"umap": o.umap_weight * ce}

    def loss(self, x, eps=None, index=None):
        if self._anchor is None or index is None:
            return super().loss(x, eps)
        z, _ = self.bottleneck(self.encoder(x))
        recon = self.reconstruction_loss(z, x)
        anchor = self.config.options.umap_anchor_weight * (z - self._anchor[index].to(z.device)).pow(2).sum(dim=1).mean()
        return {"loss": recon + anchor, "recon": recon, "anchor": anchor}

    def _graph(self, images: torch.Tensor, seed: int):
        """The exact k-NN graph of `images` and its fuzzy simplicial set, computed once per set of
        images (the training and the validation images)."""
        graphs = self.__dict__.setdefault("_graphs", {})
        if id(images) not in graphs:
            n = self.config.options.umap_n_neighbors
            knn = penalties.umap_knn(images.numpy(), n)
            graphs[id(images)] = (images, knn, penalties.umap_graph(images.numpy(), n, seed, knn))
        return graphs[id(images)][1:]

    def warm_start(self, images, batch_size, seed=0):
        o = self.config.options
        if not o.umap_warm_epochs:
            return 0, None, None
        knn, _ = self._graph(images, seed)
        target = penalties.umap_embedding(images.numpy(), o.umap_n_neighbors, o.umap_min_dist, seed, knn)
        self._anchor = torch.from_numpy(target)
        return o.umap_warm_epochs, Autoencoder.batch_sampler(self, images, batch_size), o.umap_warm_shift

    def end_warm_start(self) -> None:
        self._anchor = None
        if self.config.options.umap_freeze_map:  # from now on only the decoder learns: the map stays
            for part in (self.encoder, self.bottleneck):
                part.requires_grad_(False)

    def batch_coupling(self):
        return "a batch is graph edges, and the UMAP term draws its negative samples from the batch"

    def shard(self, batch, rank, world):
        """Heads and tails are split alike, so each process keeps whole edges: [heads, tails]."""
        half = len(batch) // 2
        return torch.cat([batch[:half][rank::world], batch[half:2 * half][rank::world]])

    def batch_sampler(self, images: torch.Tensor, batch_size: int, seed: int = 0) -> Batches:
        """Each epoch draws umap_edges_per_image * len(images) edges, with probability
        proportional to their weight, in batches of `batch_size` edges: indices [heads..., tails...].
        The graph is seeded."""
        _, (heads, tails, weights) = self._graph(images, seed)
        heads, tails = torch.from_numpy(heads), torch.from_numpy(tails)
        weights = torch.from_numpy(weights)
        n = int(len(images) * self.config.options.umap_edges_per_image)

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
    return lookup(KINDS, config.kind, "kind")(config)
