"""What a model config adds up to, counted from the config alone (nothing is built): the conv
bodies' plan of convolutions and the sides of their feature maps, and the number of weights,
which ModelConfig checks against MAX_PARAMETERS before anything is built."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .pictures.pixels import ImageShape

if TYPE_CHECKING:
    from .config import ModelConfig

CODE_LAYERS = {"vae": 2}  # linear layers that write the code: the VAE's mean and log-variance; others 1


def conv_plan(image: ImageShape, channels: list[int]) -> list[tuple[int, int, int]]:
    """(in_channels, out_channels, stride) per conv of the conv body for `image`: a conv halves
    the sides (stride 2) while the smaller side it sees is at least 14, so a map stays 7 pixels
    or more a side (28 -> 14 -> 7 as MNIST's always was; 64 -> 32 -> 16 -> 8); the others keep it."""
    chans, side, plan = [image.channels, *channels], min(image.height, image.width), []
    for c_in, c_out in zip(chans[:-1], chans[1:]):
        stride = 2 if side >= 14 else 1
        plan.append((c_in, c_out, stride))
        side = -(-side // stride)
    return plan


def conv_sides(image: ImageShape, channels: list[int]) -> list[tuple[int, int]]:
    """(height, width) of the input and of each conv's output in the conv body's encoder: a 3x3
    conv with padding 1 and stride 2 gives ceil(side / 2); the decoder retraces them back up."""
    sides = [(image.height, image.width)]
    for _, _, stride in conv_plan(image, channels):
        h, w = sides[-1]
        sides.append((-(-h // stride), -(-w // stride)))
    return sides


def parameter_count(config: ModelConfig) -> int:
    """The weights and biases of the model `config` describes, counted from the config alone
    (nothing is built): the layers of aecore.models.bodies and the bottleneck's code layer(s).
    Equals sum(p.numel() for p in build_model(config).parameters()); x 4 bytes in float32."""
    def dense(widths: list[int]) -> int:
        return sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
    d, hidden, image = config.latent_dim, list(config.hidden), config.image_shape
    if config.body in ("conv", "broadcast"):
        pairs = [(a, b) for a, b, _ in conv_plan(image, config.channels)]
        h, w = conv_sides(image, config.channels)[-1]
        flat = config.channels[-1] * h * w
        convs = sum(9 * a * b + b for a, b in pairs) + sum(9 * a * b + a for a, b in pairs)  # + mirrored
        if config.body == "conv":  # dense layers up to the last map
            to_maps = dense([d, *hidden[::-1], flat])
        else:  # a 3x3 conv of the tiled code and two coordinate channels
            to_maps = 9 * (d + 2) * config.channels[-1] + config.channels[-1]
        body, features = convs + dense([flat, *hidden]) + to_maps, flat
    else:
        pixels = image.pixels
        body, features = dense([pixels, *hidden]) + dense([d, *hidden[::-1], pixels]), pixels
    features = hidden[-1] if hidden else features
    return body + CODE_LAYERS.get(config.kind, 1) * (features * d + d)
