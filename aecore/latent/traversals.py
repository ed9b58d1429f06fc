"""Latent traversals: what each code unit encodes, shown as one row per unit of the images decoded
as that unit sweeps from low to high while the others stay at a starting code (Higgins et al.
2017, beta-VAE, figure 1), units ordered by how much they matter.

How much a unit matters: for a model that gives its posterior N(mu, exp(logvar)) per image (a
VAE: `model.gaussian`), the unit's KL to the prior N(0, 1) averaged over the images, in nats (a
unit the encoder ignores has mu = 0 and logvar = 0 everywhere: KL 0); for any other model (an
ONNX graph too) the variance of the unit's codes over the images. Units under KL_INACTIVE nats,
or with a variance under VARIANCE_INACTIVE of the largest unit's, carry nothing: "inactive".

Where a unit sweeps: from -3 to +3 standard deviations around its centre, the prior N(0, 1)'s for
a model with a prior, else the mean and standard deviation of the unit's codes; a squashed code
(sigmoid, relu) is kept within what its activation can give.

Codes are float32 (N, d); images come back in the display layout of the model's shape, float32 in
[0, 1]: a grid is (units, steps, H, W) grey or (units, steps, H, W, 3) colour.
"""
from __future__ import annotations

import io
import math
from typing import NamedTuple

import numpy as np
from PIL import Image

from ..pictures.images import crisp_scale, enlarge, gif_bytes, tile
from ..pictures.pixels import to_uint8

KL_INACTIVE = 0.01          # nats: a VAE unit with less KL (mean over images) carries nothing
VARIANCE_INACTIVE = 1e-3    # a unit whose code variance is under this fraction of the largest unit's
STEPS, EXTENT = 9, 3.0      # default columns, and the sweep's half-width in standard deviations
CARD_IMAGES = 2000          # test images whose codes order and spread the card's and the report's rows
CODE_RANGES = {"sigmoid": (0.0, 1.0), "relu": (0.0, None), None: (None, None)}


class UnitOrder(NamedTuple):
    units: np.ndarray      # (d,) unit indices, the one that matters most first
    amount: np.ndarray     # (d,) per unit (index order): KL in nats, or code variance
    measure: str           # "KL" or "variance"
    active: np.ndarray     # (d,) bool per unit (index order)

    @property
    def active_units(self) -> list[int]:
        return [int(u) for u in self.units if self.active[u]]

    @property
    def inactive_units(self) -> list[int]:
        return [int(u) for u in self.units if not self.active[u]]

    def caption(self, unit: int) -> str:
        """'unit 3 · KL 2.41 nats' or 'unit 3 · variance 0.52'."""
        value = self.amount[unit]
        return f"unit {unit} · KL {value:.2f} nats" if self.measure == "KL" else f"unit {unit} · variance {value:.3g}"


def unit_kl(mu, logvar) -> np.ndarray:
    """KL(N(mu, exp(logvar)) || N(0, 1)) of each unit, in nats, averaged over the images: (N, d) -> (d,)."""
    mu, logvar = np.asarray(mu, np.float64), np.asarray(logvar, np.float64)
    return (0.5 * (mu ** 2 + np.exp(logvar) - 1.0 - logvar)).mean(axis=0)


def order_units(amount, measure: str) -> UnitOrder:
    """Units sorted by `amount` (KL in nats or code variance), largest first (ties: lower index
    first), and which are active (see the module's thresholds)."""
    amount = np.asarray(amount, np.float64)
    if measure == "KL":
        active = amount >= KL_INACTIVE
    elif measure == "variance":
        active = amount > VARIANCE_INACTIVE * amount.max(initial=0.0)
    else:
        raise ValueError(f"unknown measure {measure!r}: units are ordered by 'KL' or 'variance'")
    return UnitOrder(np.argsort(-amount, kind="stable"), amount, measure, active)


def posterior(model, images, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray] | None:
    """(mu, logvar), each (N, d), of a model that gives its Gaussian posterior (`model.gaussian`,
    a VAE), in eval mode without gradients; None for any other model."""
    gaussian = getattr(model, "gaussian", None)
    if not callable(gaussian):
        return None
    import torch

    from ..pictures.pixels import as_image_batch
    from .codec import check_images, eval_mode, model_device
    shape, device, mus, logvars = check_images(model, images), model_device(model), [], []
    with eval_mode(model), torch.no_grad():
        for start in range(0, len(images), batch_size):
            mu, logvar = gaussian(as_image_batch(images[start:start + batch_size], shape).to(device))
            mus.append(mu.float().cpu().numpy())
            logvars.append(logvar.float().cpu().numpy())
    return np.concatenate(mus), np.concatenate(logvars)


def unit_order(model, codes, images=None) -> UnitOrder:
    """How much each unit matters: by KL when the model gives its posterior and `images` (those
    the codes are of) are given, else by the variance of `codes` (N, d)."""
    found = posterior(model, images) if images is not None and len(images) else None
    if found is not None:
        return order_units(unit_kl(*found), "KL")
    return order_units(np.asarray(codes, np.float64).var(axis=0), "variance")


def sweep(model, codes, steps: int = STEPS, extent: float = EXTENT) -> np.ndarray:
    """The values each unit takes (d, steps): `steps` evenly spaced from -extent to +extent
    standard deviations around the unit's centre (the prior N(0, 1) for a model with a prior,
    else the codes' mean and standard deviation), clipped to the code activation's range."""
    if steps < 2 or extent <= 0:
        raise ValueError(f"a traversal needs at least 2 steps and a positive range; got {steps} steps, ±{extent}")
    codes = np.asarray(codes, np.float64)
    d = codes.shape[1]
    centre, sd = (np.zeros(d), np.ones(d)) if model.has_prior else (codes.mean(axis=0), codes.std(axis=0))
    values = centre[:, None] + sd[:, None] * np.linspace(-extent, extent, steps)[None, :]
    low, high = CODE_RANGES.get(model.code_activation, (None, None))
    return np.clip(values, low, high).astype(np.float32)


def traversal_codes(start, units, values) -> np.ndarray:
    """Codes (len(units), steps, d): row r is `start` (d,) with unit units[r] set to each of its
    `values` (d, steps) in turn."""
    start = np.asarray(start, np.float32)
    out = np.repeat(np.repeat(start[None, None], len(units), axis=0), values.shape[1], axis=1)
    for r, u in enumerate(units):
        out[r, :, u] = values[u]
    return out


def traversal(model, start, units, values) -> np.ndarray:
    """The grid of images (len(units), steps, *image) decoded from traversal_codes, in the
    display layout of the model's shape (codec.decode_all)."""
    from .codec import decode_all
    codes = traversal_codes(start, list(units), values)
    rows, steps = codes.shape[:2]
    images = decode_all(model, codes.reshape(rows * steps, -1))
    return images.reshape(rows, steps, *images.shape[1:])


def card_grid(model, codes, images, start: int = 0, steps: int = 7) -> tuple[np.ndarray, UnitOrder]:
    """The model card's and the report's traversals: a row per active unit (the first unit when
    none is), most important first, `steps` columns over -3..+3 sd, starting from the code of
    picture `start` of `images` (those `codes` (N, d) are of): a real picture's code, since a
    VAE's mean code decodes to a faint average that no factor moves visibly.
    -> (grid (rows, steps, *image), the order)."""
    order = unit_order(model, codes, images)
    rows = order.active_units or [int(order.units[0])]
    return traversal(model, np.asarray(codes)[start], rows, sweep(model, codes, steps)), order


def grid_picture(grid, scale: int | None = None) -> np.ndarray:
    """The grid (rows, steps, *image) as one uint8 picture, a row per unit, white lines between
    tiles, scaled up crisply (default: tiles about 112 pixels, 4x for 28x28)."""
    grid = np.asarray(grid)
    rows, steps = grid.shape[:2]
    picture = to_uint8(tile(grid.reshape(rows * steps, *grid.shape[2:]), steps))
    return enlarge(picture, scale or crisp_scale(max(grid.shape[2:4])))


def grid_png(grid, scale: int | None = None) -> bytes:
    """The grid as a PNG file (grid_picture)."""
    buf = io.BytesIO()
    Image.fromarray(grid_picture(grid, scale)).save(buf, format="PNG")
    return buf.getvalue()


def grid_gif(grid, scale: int | None = None, duration_ms: int = 200) -> bytes:
    """An animated GIF with one frame per column: frame j shows every unit's image at step j
    (all units move together), the units in the grid's order, row by row in a near-square block
    (ceil(sqrt(units)) across)."""
    grid = np.asarray(grid)
    across = math.ceil(math.sqrt(grid.shape[0]))
    frames = np.stack([tile(grid[:, j], across) for j in range(grid.shape[1])])
    return gif_bytes(frames, scale=scale or crisp_scale(max(grid.shape[2:4])), duration_ms=duration_ms)
