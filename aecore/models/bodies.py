"""Encoder and decoder bodies, for images of the config's shape (C, H, W) (config.image_shape).
An encoder maps images (B, C, H, W) to features (B, F); a decoder maps codes (B, d) to logits
(B, C, H, W). The bottleneck between them lives in bottlenecks.py."""
from __future__ import annotations

import torch
from torch import nn

from ..checks import lookup
from ..config import ModelConfig
from ..model_size import conv_plan, conv_sides

ACTIVATIONS = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU,
    "gelu": nn.GELU, "silu": nn.SiLU, "tanh": nn.Tanh,
}


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
    """Dense layers on the flattened C*H*W pixel values (channel-major, as (B, C, H, W) flattens)."""
    sizes = [cfg.image_shape.pixels, *cfg.hidden]
    return nn.Sequential(nn.Flatten(), *dense_stack(sizes, cfg)), sizes[-1]


def mlp_decoder(cfg: ModelConfig) -> nn.Module:
    image = cfg.image_shape
    sizes = [cfg.latent_dim, *reversed(cfg.hidden)]
    return nn.Sequential(*dense_stack(sizes, cfg), nn.Linear(sizes[-1], image.pixels),
                         nn.Unflatten(1, image.chw))


def _conv_plan(cfg: ModelConfig) -> list[tuple[int, int, int]]:
    """(in_channels, out_channels, stride) per conv (aecore.model_size.conv_plan)."""
    if not cfg.channels:
        raise ValueError("the conv body needs at least one channel count, e.g. channels=[32, 64]")
    return conv_plan(cfg.image_shape, cfg.channels)


def conv_encoder(cfg: ModelConfig) -> tuple[nn.Module, int]:
    layers: list[nn.Module] = []
    for c_in, c_out, stride in _conv_plan(cfg):
        layers += [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1), activation(cfg.activation)]
    h, w = conv_sides(cfg.image_shape, cfg.channels)[-1]
    sizes = [cfg.channels[-1] * h * w, *cfg.hidden]
    return nn.Sequential(*layers, nn.Flatten(), *dense_stack(sizes, cfg)), sizes[-1]


def _upsampling(cfg: ModelConfig, last_at_stride_one: bool = False) -> list[nn.Module]:
    """The encoder's convs mirrored, from the last channel count back to the image's. Each stride-2
    step doubles the sides back with a transposed conv whose output_padding (0 or 1 per side) lands
    on the encoder's size exactly: an odd side s became (s + 1) / 2 and comes back as s, never as
    s + 1 to be cropped or resized. last_at_stride_one: the mirror of the last conv keeps the sides
    (its input is already the size that conv saw)."""
    sides, plan, layers = conv_sides(cfg.image_shape, cfg.channels), _conv_plan(cfg), []
    for i in reversed(range(len(plan))):  # mirror: swap in/out
        c_out, c_in, stride = plan[i]
        if stride == 2 and not (last_at_stride_one and i == len(plan) - 1):
            (big_h, big_w), (small_h, small_w) = sides[i], sides[i + 1]
            pad = (big_h - (2 * small_h - 1), big_w - (2 * small_w - 1))  # (1, 1) for even sides: 14 -> 28
            layers.append(nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=pad))
        else:
            layers.append(nn.Conv2d(c_in, c_out, 3, padding=1))
        if i:
            layers.append(activation(cfg.activation))
    return layers


def conv_decoder(cfg: ModelConfig) -> nn.Module:
    """Dense layers to the encoder's last feature map, then the encoder mirrored (_upsampling)."""
    h, w = conv_sides(cfg.image_shape, cfg.channels)[-1]
    sizes = [cfg.latent_dim, *reversed(cfg.hidden), cfg.channels[-1] * h * w]
    return nn.Sequential(*dense_stack(sizes, cfg), nn.Unflatten(1, (cfg.channels[-1], h, w)), *_upsampling(cfg))


class Broadcast(nn.Module):
    """Codes (B, d) -> (B, d + 2, h, w): each code tiled over an h x w grid, with two channels of
    the grid's x and y in [-1, 1] beside it. Written with Mul, Add and Concat only (no Expand or
    Tile), so the ONNX export stays inside the operators aecore.models.onnx_ops allows."""

    def __init__(self, h: int, w: int):
        super().__init__()
        yy, xx = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w), indexing="ij")
        self.register_buffer("grid", torch.stack([xx, yy])[None], persistent=False)  # not weights: derived
        self.register_buffer("ones", torch.ones(1, 1, h, w), persistent=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        tiled = z[:, :, None, None] * self.ones
        return torch.cat([tiled, tiled[:, :1] * 0 + self.grid], dim=1)


def broadcast_decoder(cfg: ModelConfig) -> nn.Module:
    """The spatial broadcast decoder (Watters et al. 2019, arXiv:1901.07017): the code tiled over the
    map the encoder's last conv takes, with x and y channels (Broadcast), a 3x3 conv to the last
    channel count, then the mirrored convs, the first at stride 1. Where a thing is drawn becomes a
    function of coordinates a conv can read, and units tend to take x and y apart: on the colour
    sprites it took the zoo's beta-TCVAE from MIG 0.115 to 0.538 (checkpoints/recipe.json: seeds)."""
    h, w = conv_sides(cfg.image_shape, cfg.channels)[-2]
    return nn.Sequential(Broadcast(h, w), nn.Conv2d(cfg.latent_dim + 2, cfg.channels[-1], 3, padding=1),
                         activation(cfg.activation), *_upsampling(cfg, last_at_stride_one=True))


def layer_sizes(cfg: ModelConfig) -> str:
    """The widths from pixels to code and back, e.g. '784 → 512 → 256 → 2 → 256 → 512 → 784';
    conv bodies show their channels and the image, e.g. '1×28×28 → 32ch → 64ch → 2 → … → 1×28×28'."""
    image = cfg.image_shape
    if cfg.body == "mlp":
        down = [str(image.pixels), *map(str, cfg.hidden)]
    else:
        down = ["×".join(map(str, image.chw)), *(f"{c}ch" for c in cfg.channels), *map(str, cfg.hidden)]
    if cfg.body == "broadcast":
        h, w = conv_sides(image, cfg.channels)[-2]
        up = [f"{h}×{w} tiled + x, y", *(f"{c}ch" for c in reversed(cfg.channels)), down[0]]
    else:
        up = list(reversed(down))
    return " → ".join([*down, str(cfg.latent_dim), *up])


BODIES = {"mlp": (mlp_encoder, mlp_decoder), "conv": (conv_encoder, conv_decoder),
          "broadcast": (conv_encoder, broadcast_decoder)}


def build_body(cfg: ModelConfig) -> tuple[nn.Module, int, nn.Module]:
    """Returns (encoder, encoder feature size, decoder) for cfg.body."""
    make_encoder, make_decoder = lookup(BODIES, cfg.body, "body")
    encoder, features = make_encoder(cfg)
    return encoder, features, make_decoder(cfg)
