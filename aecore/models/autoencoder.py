"""Autoencoder = encoder body -> bottleneck -> decoder body: the class every kind (kinds.py)
builds on. The kinds differ in their bottleneck and their penalty terms; each owns its
objective: `loss(x)` returns a dict of named terms.

Images x are float (B, C, H, W) with pixels in [0, 1], of the model's image_shape (the config's
"image": (1, 28, 28) for MNIST); codes z are (B, latent_dim). Reconstruction terms are summed over
the image's C*H*W pixel values and averaged over images.

Code outside this module asks a model what it is (`has_prior`, `sample_prior`,
`code_activation`, `first_layer_weights`, `no_gradients`, `describe`, `image_shape`) instead of reading its
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
from ..pictures.pixels import ImageShape
from .bodies import build_body, layer_sizes
from .bottlenecks import Bottleneck

Batches = Callable[[torch.Generator], Iterator[torch.Tensor]]


def _mse(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (torch.sigmoid(logits) - x).pow(2).flatten(1).sum(1)


def _bce(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


# per image (B,), summed over the C*H*W pixel values, from the decoder's logits
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
    def image_shape(self) -> ImageShape:
        """The shape (C, H, W) of the images it takes and gives."""
        return self.config.image_shape

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
        """The weights of the first layer that sees the pixels: (units, C*H*W) for a dense layer,
        (channels, C, k, k) for a convolution (a shallow mlp's is its code layer)."""
        first = next((m for m in self.encoder.modules() if isinstance(m, (nn.Linear, nn.Conv2d))),
                     self.bottleneck.code_layer)
        return first.weight.detach().cpu().numpy()

    def describe(self) -> dict[str, str]:
        """The model card's architecture fields: kind, body, layer sizes, code size, parameters."""
        c = self.config
        return {"kind": c.kind, "body": f"{c.body} ({c.activation}, {c.recon} loss)",
                "images": f"{c.image_shape} ({'×'.join(map(str, c.image_shape.chw))})",
                "layer sizes": layer_sizes(c), "code size": str(c.latent_dim),
                "parameters": f"{sum(p.numel() for p in self.parameters()):,}"}

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) in [0, 1] -> (B, d); deterministic in eval mode."""
        return self.bottleneck.code(self.encoder(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, d) -> (B, C, H, W) in [0, 1]."""
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
