"""An image folder read as arrays: listed (folder.py), decoded (decode.py), and kept decoded on
disk, so that the second start of the app reads two .npy files instead of 20,000 PNGs.

The decoded arrays live in <cache folder>/.image-folders/<folder>/<key>/, where the key is the
sha256 of every picture's path, label, size and modification time (and dataset.json's shape): a
picture added, removed or rewritten is decoded anew. They are read back with
np.load(allow_pickle=False) (the images by buffers.read_uint8_npy: uint8 only, no pickle) and
checked against the listing; a cache that cannot be written or
read is only slower, never an error.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..pictures.pixels import ImageShape
from .buffers import empty_images, read_uint8_npy
from .decode import Reader, check_budget, choose_shape, read_settings
from .folder import Listing, list_folder
from .idx import DataError

VERSION = 1  # of what the cache holds: bump when decoding changes its pixels
SPLITS = ("train", "test")
CACHE = ".image-folders"  # hidden: the cache folder is also a data folder, and this is no dataset


@dataclass(frozen=True)
class PictureSet:
    """Both splits of an image folder: its listing; the decoded pictures of train then test in one
    uint8 array (each split, and both, are views of it); per split the labels and which of the
    listing's files it holds (unreadable ones are left out)."""
    listing: Listing
    images: np.ndarray            # (n_train + n_test, H, W) or (..., 3)
    labels: dict[str, np.ndarray]
    kept: dict[str, np.ndarray]   # bool over listing.files[split]
    notes: tuple[str, ...]

    @property
    def n_train(self) -> int:
        return len(self.labels["train"])

    def split(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(images view, labels) of "train" or "test"."""
        part = self.images[:self.n_train] if split == "train" else self.images[self.n_train:]
        return part, self.labels[split]


def read_picture_set(root: Path, cache_root: Path) -> PictureSet:
    """The decoded image folder `root`, from the cache in `cache_root` when it holds this version
    of its pictures, else decoded now (and cached)."""
    listing = list_folder(root)
    given = read_settings(root)
    key = _key(listing, given)
    where = cache_root / CACHE / hashlib.sha256(os.path.realpath(root).encode()).hexdigest()[:16]
    found = _read_cache(where / key, listing)
    if found is not None:
        return found
    decoded = _decode(listing, given)
    _write_cache(where, key, decoded)
    return decoded


def _decode(listing: Listing, given: ImageShape | None) -> PictureSet:
    reader = Reader(listing.root, given)
    paths = {s: [(_shown(listing, s, f), listing.split_dirs[s] / f) for f in listing.files[s]] for s in SPLITS}
    probes = reader.probe_all({name: path for s in SPLITS for name, path in paths[s]})
    shape = choose_shape(probes, given, listing.root)
    check_budget(probes, shape, listing.root)
    every = paths["train"] + paths["test"]
    images, kept_all = reader.decode(every, probes, shape, "RGB" if shape.colour else "L")
    kept = {"train": kept_all[:len(paths["train"])], "test": kept_all[len(paths["train"]):]}
    for split in SPLITS:
        if not kept[split].any():
            raise DataError(f"{listing.root}: its {split} split has no readable picture; give every split "
                            f"pictures ({reader.notes(shape)[-1] if reader.unreadable else 'none found'}).")
    if shape.colour and given is None and _grey(images):  # RGB files of grey pictures
        grey = empty_images(images.shape[:3])
        grey[...] = images[..., 0]
        images = grey
    labels = {s: listing.labels[s][kept[s]] for s in SPLITS}
    return PictureSet(listing, images, labels, kept, (*listing.notes, *reader.notes(shape)))


def _shown(listing: Listing, split: str, path: str) -> str:
    """A picture's path as the notes show it: under the dataset's folder."""
    return path if listing.flat else f"{split}/{path}"


def _grey(stack: np.ndarray, step: int = 4096) -> bool:
    """Whether every pixel of an RGB stack has three equal channels (checked in slices)."""
    return all(np.array_equal(part[..., 0], part[..., 1]) and np.array_equal(part[..., 1], part[..., 2])
               for part in (stack[i:i + step] for i in range(0, len(stack), step)))


def _key(listing: Listing, given: ImageShape | None) -> str:
    """The sha256 of every picture's path, label, size and modification time (20,000 stats: a
    tenth of a second; paths are joined as text, pathlib would take longer than the stats)."""
    h = hashlib.sha256(f"{VERSION}|{os.path.realpath(listing.root)}|{given}|{listing.classes}".encode())
    for split in SPLITS:
        base = os.path.join(listing.split_dirs[split], "")
        for path, label in zip(listing.files[split], listing.labels[split].tolist()):
            try:
                st = os.stat(base + path)
                h.update(f"{split}/{path}:{label}:{st.st_size}:{st.st_mtime_ns}\n".encode())
            except OSError:
                h.update(f"{split}/{path}:gone\n".encode())
    return h.hexdigest()[:32]


def _read_cache(folder: Path, listing: Listing) -> PictureSet | None:
    """The cached arrays when they are there and fit the listing, else None."""
    try:
        info = json.loads((folder / "info.json").read_text())
        if info.get("version") != VERSION or tuple(info["classes"]) != listing.classes:
            return None
        images = read_uint8_npy(folder / "images.npy")  # np.load's checks, into a buffer of our own
        kept = {s: np.load(folder / f"{s}-kept.npy", allow_pickle=False) for s in SPLITS}
        ImageShape.of(images)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if images.dtype != np.uint8 or any(k.dtype != bool or len(k) != len(listing.files[s]) for s, k in kept.items()):
        return None
    labels = {s: listing.labels[s][kept[s]] for s in SPLITS}
    if len(images) != sum(len(v) for v in labels.values()):
        return None
    return PictureSet(listing, images, labels, kept, tuple(str(n) for n in info.get("notes", [])))


def _write_cache(where: Path, key: str, decoded: PictureSet) -> None:
    """Write the arrays into where/key (whole: written beside it, then renamed), and remove the
    older versions of this folder's cache. An OSError only means no cache."""
    tmp = None
    try:
        where.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".writing-", dir=where))
        np.save(tmp / "images.npy", decoded.images, allow_pickle=False)
        for s in SPLITS:
            np.save(tmp / f"{s}-kept.npy", decoded.kept[s], allow_pickle=False)
        (tmp / "info.json").write_text(json.dumps({"version": VERSION, "classes": list(decoded.listing.classes),
                                                   "notes": list(decoded.notes)}))
        os.replace(tmp, where / key)
    except OSError:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    for old in where.iterdir():
        if old.name != key and not old.name.startswith(".writing-"):  # another process may be writing that
            shutil.rmtree(old, ignore_errors=True)
