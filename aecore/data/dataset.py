"""One split of a dataset (a Dataset): its images in the display layout, labels, class names, the
per-image columns its metadata files add, and the notes the sidebar shows about how it was read.

Images are uint8 (N, H, W) grey or (N, H, W, 3) colour, 0 = black; labels int64 (N,). Columns are
numbers (int64 or float64, NaN where a row gave none) or categories (numpy str arrays, "" where a
row gave none), each of length N. Every array is read-only: caches hand the same ones to all.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..checks import lookup
from ..pictures.pixels import ImageShape
from .idx import DataError

# The most bytes the images (and labels) of one set may take, read from any source: 100,000 colour
# 64x64 images are 1.23 GB as uint8; a file claiming more is refused before anything is allocated.
MAX_DATASET_BYTES = 3 * 2**29  # 1.5 GiB

@dataclass(frozen=True, eq=False)  # eq=False: compare by identity, arrays have no usable ==
class Dataset:
    """One split. images: uint8 (N, H, W) or (N, H, W, 3); labels: int64 (N,); all read-only."""
    name: str
    split: str
    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    source: str  # the folder (IDX, image folder), file (mnist-sample, .npz) it was read from
    item: str = "image"    # what one image shows ("digit"); plural: item + "s"
    label: str = "class"   # what a label is called ("digit", "class")
    columns: dict[str, np.ndarray] = field(default_factory=dict)  # per-image metadata, each (N,)
    notes: tuple[str, ...] = ()  # short sentences on how the set was read, for the sidebar

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def shape(self) -> ImageShape:
        """The shape of one image: channels (1 grey, 3 colour), height, width."""
        return ImageShape.of(self.images)

    def column_kind(self, name: str) -> str:
        """"number" (a continuous colour scale) or "category" (a legend) for column `name`."""
        return kind_of(lookup(self.columns, name, "column"))


def kind_of(values: np.ndarray) -> str:
    return "number" if values.dtype.kind in "iuf" else "category"


def shape_of(images: np.ndarray, where: str) -> ImageShape:
    """The ImageShape of a display-layout stack, or DataError naming `where` and what is taken."""
    try:
        return ImageShape.of(images)
    except ValueError as err:
        raise DataError(f"{where}: {err}") from None


def check_same_shape(train: ImageShape, test: ImageShape, where: str) -> None:
    """DataError when the two splits of one set hold images of different shapes."""
    if train != test:
        raise DataError(f"{where}: the train images are {train} ({train.channels}x{train.height}x{train.width}) "
                        f"but the test images are {test} ({test.channels}x{test.height}x{test.width}); both "
                        "splits of one set must have one image shape.")


def frozen(columns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    for values in columns.values():
        values.setflags(write=False)
    return columns


def concat_columns(parts: list[dict[str, np.ndarray]], sizes: list[int]) -> dict[str, np.ndarray]:
    """The columns of splits put end to end. A column one split lacks is blank there (NaN or "");
    a column that is numbers in one split and categories in another becomes categories."""
    names = list(dict.fromkeys(n for part in parts for n in part))
    out = {}
    for name in names:
        present = [part[name] for part in parts if name in part]
        as_numbers = all(kind_of(v) == "number" for v in present)
        pieces = []
        for part, n in zip(parts, sizes):
            v = part.get(name)
            if v is None:
                v = np.full(n, np.nan) if as_numbers else np.full(n, "", dtype=str)
            pieces.append(v if as_numbers else v.astype(str))
        out[name] = np.concatenate(pieces)
    return frozen(out)


def merged_notes(parts: list[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(note for notes in parts for note in notes))
