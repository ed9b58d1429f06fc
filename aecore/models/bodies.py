"""Encoder and decoder bodies. An encoder maps images (B, 1, 28, 28) to features (B, F); a decoder
maps codes (B, d) to logits (B, 1, 28, 28). The bottleneck between them lives in bottlenecks.py."""
from __future__ import annotations

from torch import nn

from ..checks import lookup
from ..config import ModelConfig

ACTIVATIONS = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU,
    "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh,
}
PIXELS = 28 * 28


def activation(name: str) -> nn.Module:
    return lookup(ACTIVATIONS, name, "activation")()


def dense_stack(sizes: list[int], cfg: ModelConfig) -> list[nn.Module]:
    """Linear -> activation -> dropout for each consecutive pair in `sizes`."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), activation(cfg.activation)]
        if cfg.dropout > 0:
            layers.append(nn.Dropout(cfg.dropout))
    return layers


def mlp_encoder(cfg: ModelConfig) -> tuple[nn.Module, int]:
    sizes = [PIXELS, *cfg.hidden]
    return nn.Sequential(nn.Flatten(), *dense_stack(sizes, cfg)), sizes[-1]


def mlp_decoder(cfg: ModelConfig) -> nn.Module:
    sizes = [cfg.latent_dim, *reversed(cfg.hidden)]
    return nn.Sequential(*dense_stack(sizes, cfg), nn.Linear(sizes[-1], PIXELS),
                         nn.Unflatten(1, (1, 28, 28)))


def _conv_plan(cfg: ModelConfig) -> list[tuple[int, int, int]]:
    """(in_channels, out_channels, stride) per conv; the first two halve the size: 28 -> 14 -> 7."""
    if not cfg.channels:
        raise ValueError("the conv body needs at least one channel count, e.g. channels=[32, 64]")
    chans = [1, *cfg.channels]
    return [(c_in, c_out, 2 if i < 2 else 1) for i, (c_in, c_out) in enumerate(zip(chans[:-1], chans[1:]))]


def _conv_side(cfg: ModelConfig) -> int:
    return 28 // 2 ** min(len(cfg.channels), 2)


def conv_encoder(cfg: ModelConfig) -> tuple[nn.Module, int]:
    layers: list[nn.Module] = []
    for c_in, c_out, stride in _conv_plan(cfg):
        layers += [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), activation(cfg.activation)]
    flat = cfg.channels[-1] * _conv_side(cfg) ** 2
    sizes = [flat, *cfg.hidden]
    return nn.Sequential(*layers, nn.Flatten(), *dense_stack(sizes, cfg)), sizes[-1]


def conv_decoder(cfg: ModelConfig) -> nn.Module:
    side = _conv_side(cfg)
    sizes = [cfg.latent_dim, *reversed(cfg.hidden), cfg.channels[-1] * side ** 2]
    layers = [*dense_stack(sizes, cfg), nn.Unflatten(1, (cfg.channels[-1], side, side))]
    plan = list(reversed(_conv_plan(cfg)))
    for i, (c_out, c_in, stride) in enumerate(plan):  # mirror: swap in/out
        last = i == len(plan) - 1
        if stride == 2:
            layers.append(nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1))
        else:
            layers.append(nn.Conv2d(c_in, c_out, 3, padding=1))
        if not last:
            layers.append(activation(cfg.activation))
    return nn.Sequential(*layers)


def layer_sizes(cfg: ModelConfig) -> str:
    """The widths from pixels to code and back, e.g. '784 → 512 → 256 → 2 → 256 → 512 → 784';
    conv bodies show their channels, e.g. '1×28×28 → 32ch → 64ch → 2 → … → 1×28×28'."""
    if cfg.body == "conv":
        down = ["1×28×28", *(f"{c}ch" for c in cfg.channels), *map(str, cfg.hidden)]
    else:
        down = ["784", *map(str, cfg.hidden)]
    return " → ".join([*down, str(cfg.latent_dim), *reversed(down)])


BODIES = {"mlp": (mlp_encoder, mlp_decoder), "conv": (conv_encoder, conv_decoder)}


def build_body(cfg: ModelConfig) -> tuple[nn.Module, int, nn.Module]:
    """Returns (encoder, encoder feature size, decoder) for cfg.body."""
    make_encoder, make_decoder = lookup(BODIES, cfg.body, "body")
    encoder, features = make_encoder(cfg)
    return encoder, features, make_decoder(cfg)
