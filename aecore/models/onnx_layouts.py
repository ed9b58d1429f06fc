"""The layouts in which an ONNX graph (or a notebook's torch module) takes or gives images, and
the image shape (aecore.pictures.pixels.ImageShape) each says.

Four layouts, each with 1 or 3 channels and sides of 8 to 128 pixels:
- (B, C, H, W), torch's;  (B, H, W, C), Keras' ("channels last");  (B, H, W), grey only;
- (B, C*H*W), flat rows, in C, H, W order (torch's flatten) or H, W, C order (a Keras reshape).
A flat layout says its shape only when it is square: n = s*s is grey, n = 3*s*s is colour (one
n cannot be both: 3 is not a square). Any other n needs the shape said elsewhere (onnx.json's
"image", or the other graph's layout). Flat colour rows say no order either: they are taken in
H, W, C order beside a channels-last graph (a Keras model's), else in C, H, W order, unless
onnx.json's "flat_order" says. Four-dimensional layouts are never ambiguous: a side is at least
8, so a 1 or a 3 can only be the channels.

A Layout converts the batch layout every model speaks, (N, C, H, W), to the graph's and back; on
numpy arrays and torch tensors alike.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from ..checkpoint import CheckpointError
from ..pictures.pixels import CHANNELS, MAX_SIDE, MIN_SIDE, ImageShape

KINDS = {"chw": "(B, C, H, W)", "hwc": "(B, H, W, C)", "hw": "(B, H, W)", "flat": "(B, C*H*W)"}
ORDERS = {"chw": "C, H, W (torch's flatten)", "hwc": "H, W, C (a channels-last reshape)"}
RULE = (f"{', '.join(KINDS.values())} with 1 or 3 channels and sides of {MIN_SIDE} to {MAX_SIDE} pixels")
FIXED_SIZES = ("export it with fixed image sizes; only the batch may be free (torch.onnx.export(..., "
               "dynamic_shapes=({0: torch.export.Dim('batch')},)), or tf2onnx with a fixed input shape)")
IMAGE_FIELD = 'add "image": [C, H, W] to onnx.json'


@dataclass(frozen=True)
class Layout:
    """How a graph lays out images of `shape`: `kind` (a key of KINDS) and, for a flat layout,
    the `order` of its values (a key of ORDERS)."""
    kind: str
    shape: ImageShape
    order: str = "chw"

    @property
    def item(self) -> tuple[int, ...]:
        """One image's shape in this layout (without the batch)."""
        c, h, w = self.shape.chw
        return {"chw": (c, h, w), "hwc": (h, w, c), "hw": (h, w), "flat": (c * h * w,)}[self.kind]

    @property
    def name(self) -> str:
        """The layout with its sizes, e.g. "(B, 32, 32, 3)"."""
        return "(B, " + ", ".join(map(str, self.item)) + ")"

    @property
    def _last(self) -> bool:  # are the channels the last axis before any flattening?
        return self.kind == "hwc" or (self.kind == "flat" and self.order == "hwc")

    def to_graph(self, batch):
        """(N, C, H, W) -> (N, *item), numpy or torch."""
        if self._last:
            batch = _permute(batch, (0, 2, 3, 1))
        return batch.reshape(len(batch), *self.item)

    def from_graph(self, out):
        """(N, ...) holding one image of this layout per row -> (N, C, H, W), numpy or torch."""
        c, h, w = self.shape.chw
        if self._last:
            return _permute(out.reshape(len(out), h, w, c), (0, 3, 1, 2))
        return out.reshape(len(out), c, h, w)

    def axes(self) -> tuple[str, ...]:
        """The letters of the axes in the order their values come, flattened (no batch)."""
        return ("H", "W", "C") if self._last else ("C", "H", "W")

    def letters(self) -> list[str] | None:
        """The letter of each axis of `item`; None for flat rows (one axis of all the values)."""
        return {"chw": ["C", "H", "W"], "hwc": ["H", "W", "C"], "hw": ["H", "W"], "flat": None}[self.kind]

    def ordered(self, other: "Layout", given: str | None) -> "Layout":
        """This layout with the order of a flat layout set: `given` (onnx.json's "flat_order"), else
        channels last when the other graph's layout is (B, H, W, C), else C, H, W."""
        if self.kind != "flat":
            return self
        return replace(self, order=given or ("hwc" if other.kind == "hwc" else "chw"))


def _permute(a, axes: tuple[int, ...]):
    return a.permute(*axes) if hasattr(a, "permute") else a.transpose(axes)


def candidates(shape: ImageShape) -> list[Layout]:
    """Every layout of images of `shape`, torch's first."""
    kinds = ["chw", "hwc", *(["hw"] if shape.channels == 1 else []), "flat"]
    return [Layout(k, shape) for k in kinds]


def _shape(c, h, w) -> ImageShape | None:
    try:
        return ImageShape(c, h, w)
    except ValueError:
        return None


def _square(n: int) -> ImageShape | None:
    """The square image of n values: s*s grey or 3*s*s colour, or None."""
    for c in CHANNELS:
        s = math.isqrt(n // c)
        if n % c == 0 and s * s * c == n:
            return _shape(c, s, s)
    return None


def text(sizes: list) -> str:
    """A graph value's shape as people write it: (B, 3, 32, 32), (B, 3, height, width)."""
    return "(" + ", ".join("B" if i == 0 and not isinstance(d, int) else str(d) for i, d in enumerate(sizes)) + ")"


def read(sizes: list, file: Path, what: str, known: ImageShape | None = None) -> Layout:
    """The layout of a graph's `what` ("input" or "output") of shape `sizes` (the batch first; a
    named or unknown size as its name or "?"). `known`: the shape said elsewhere, which a flat
    layout of as many values takes (the caller compares it with any other). CheckpointError
    naming `file` when the sizes are named, fit no layout, or are flat and say no shape."""
    rest = sizes[1:]
    if not all(isinstance(d, int) and d > 0 for d in rest):
        named = ", ".join(str(d) for d in rest if not isinstance(d, int) or d <= 0)
        raise CheckpointError(f"{file}: its {what} has shape {text(sizes)}, with sizes that are not fixed ({named}); "
                              f"{FIXED_SIZES}")
    if len(rest) == 1:
        shape = known if known is not None and known.pixels == rest[0] else _square(rest[0])
        if shape is None and known is not None:
            raise CheckpointError(f"{file}: its {what} has shape {text(sizes)}: flat rows of {rest[0]:,} values, not "
                                  f"the {known.pixels:,} of the {known} images onnx.json or the other graph says; "
                                  "export the two graphs from one autoencoder, or correct onnx.json's \"image\"")
        if shape is None:
            raise CheckpointError(f"{file}: its {what} has shape {text(sizes)}: flat rows of {rest[0]:,} values, "
                                  f"which are no square image (s x s grey or 3 x s x s colour, sides of {MIN_SIDE} to "
                                  f"{MAX_SIDE}); {IMAGE_FIELD} (e.g. \"image\": [3, 32, 24]), or export the graph "
                                  "with a (B, C, H, W) layout")
        return Layout("flat", shape)
    found = []
    if len(rest) == 2 and (shape := _shape(1, *rest)):
        found.append(Layout("hw", shape))
    if len(rest) == 3 and (shape := _shape(rest[0], rest[1], rest[2])):
        found.append(Layout("chw", shape))
    if len(rest) == 3 and (shape := _shape(rest[2], rest[0], rest[1])):
        found.append(Layout("hwc", shape))
    if len(found) != 1:  # two cannot fit: a side is at least 8, so it is never the 1 or 3 channels
        raise CheckpointError(f"{file}: its {what} has shape {text(sizes)}, which fits none of the layouts {RULE}; "
                              "export it with one of them")
    return found[0]
