"""codes.safetensors: the codes a checkpoint's model gives the test images of the dataset it was
trained on (and of that dataset's stand-in), stored beside its weights, so the app draws a
checkpoint's first map without importing torch or loading the model.

It is a cache, never the only copy of anything: one float32 tensor (N, d) per image set, named by
the sha256 of those images (images_digest), so the codes of any dataset holding exactly these
images are found, whatever it is called; its metadata names the weights that made them. Codes
made by other weights (a retraining into the same folder), a file that cannot be read, or one that
does not hold codes of these images are ignored, and whoever needs the codes computes them. Only
stored_codes and write_codes run in the app's first view; neither imports torch."""
from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from .layout import CODES, MAX_UPLOAD_BYTES

FORMAT = "aecore-codes/1"
MAX_BYTES = 4 * MAX_UPLOAD_BYTES  # 64 MB: the most stored_codes reads
BUDGET = 2**20  # what store_codes writes at most per checkpoint (the zoo's 14 stay within its 40 MB)
log = logging.getLogger(__name__)


def images_digest(images: np.ndarray) -> str:
    """sha256 hex of an image array's dtype, shape and bytes: what names "these images"."""
    images = np.ascontiguousarray(images)
    h = hashlib.sha256(f"{images.dtype.str}{images.shape}".encode())
    h.update(images.data)
    return h.hexdigest()


def stored_codes(path: str | Path, weights: str, images: np.ndarray) -> np.ndarray | None:
    """The codes (N, d) float32 stored in checkpoint folder `path` for exactly these images by
    the weights of digest `weights` (aecore.checkpoint.weights_digest), or None."""
    file = Path(path) / CODES
    try:
        if not file.is_file() or file.stat().st_size > MAX_BYTES:
            return None
        with safe_open(str(file), framework="numpy") as f:
            meta = f.metadata() or {}
            key = images_digest(images)
            if meta.get("format") != FORMAT or meta.get("weights") != weights or key not in f.keys():
                return None
            codes = f.get_tensor(key)
    except (OSError, SafetensorError, ValueError) as e:
        log.warning("%s: unreadable, the codes are computed instead (%s)", file, e)
        return None
    if codes.dtype != np.float32 or codes.ndim != 2 or len(codes) != len(images) or not np.isfinite(codes).all():
        log.warning("%s: codes of shape %s, %s for %d images; computed instead", file, codes.shape, codes.dtype,
                    len(images))
        return None
    codes.setflags(write=False)
    return codes


def write_codes(path: str | Path, weights: str, codes: dict[str, np.ndarray]) -> Path:
    """Write {images digest: codes (N, d) float32} made by the weights of digest `weights` as
    `path`/codes.safetensors, atomically (a reader sees the old file or the whole new one)."""
    file = Path(path) / CODES
    tensors = {key: np.ascontiguousarray(value, dtype=np.float32) for key, value in codes.items()}
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=".tmp-", suffix=".safetensors")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata={"format": FORMAT, "weights": weights})
        os.replace(tmp, file)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return file


def store_codes(path: str | Path, budget: int = BUDGET) -> list[str]:
    """Encode the test split of the dataset the checkpoint at `path` was trained on, and of its
    stand-in (mnist-sample for mnist), with the model as load_checkpoint gives it (float32, CPU:
    as the app encodes), and write them to `path`/codes.safetensors. A split whose files are not
    here, or whose codes would take the file over `budget` bytes (10,000 codes of 30-D or more),
    is left out. Returns the datasets stored (none: no file is written)."""
    from ..data import DataError, available_datasets, datasets, load_dataset
    from ..latent.codec import encode_dataset
    from . import load_checkpoint, weights_digest

    ckpt = load_checkpoint(path)
    spec, here = datasets().get(ckpt.dataset or ""), available_datasets()
    names = [n for n in (ckpt.dataset, spec.stand_in if spec else None) if n and here.get(n)]
    codes, stored, size = {}, [], 0
    for name in names:
        try:
            images = load_dataset(name, "test").images
        except DataError as e:
            log.warning("no codes of %s stored in %s: %s", name, path, e)
            continue
        if size + len(images) * ckpt.model.latent_dim * 4 > budget:
            continue
        key = images_digest(images)
        codes[key] = encode_dataset(ckpt.model, images)
        stored.append(name)
        size += codes[key].nbytes
    if codes:
        write_codes(path, weights_digest(path), codes)
    return stored
