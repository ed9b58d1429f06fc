"""The seven kinds of autoencoder, each an Autoencoder (autoencoder.py) with its own bottleneck,
penalty terms, batches or warm start, and `build_model`, which makes one from its config."""
from __future__ import annotations

from typing import Iterator

import numpy as np
import torch
from torch import nn

from ..checks import lookup
from ..config import ModelConfig
from ..pictures.noise import NOISES, corrupt
from . import penalties
from .autoencoder import RECON_LOSSES, Autoencoder, Batches, standard_normal_codes
from .bottlenecks import Bottleneck, VariationalBottleneck


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
        return RECON_LOSSES["bce"](self.decoder(z), x) + penalties.gaussian_kl(mu, logvar)

    def penalties(self, x_in, z, terms):
        o = self.config.options
        named = {"kl": o.beta * terms["kl"]}
        if o.total_correlation:  # beta-TCVAE (Chen et al. 2018): the KL's total-correlation part weighed more
            named["tc"] = o.total_correlation * penalties.total_correlation(z, *terms["posterior"])
        return named


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

    _anchor: torch.Tensor | None = None  # (N, d) umap-learn's d-D map of the training images, while warm-starting

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
        target = penalties.umap_embedding(images.numpy(), o.umap_n_neighbors, o.umap_min_dist, seed, knn,
                                          self.config.latent_dim)
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
