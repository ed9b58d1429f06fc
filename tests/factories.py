"""Small synthetic data and tiny configs, so tests never need the network or real data."""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import numpy as np
import torch

from aecore.config import ModelConfig
from aecore.data import write_idx
from aecore.data.registry import IDX_FILES

APP = Path(__file__).resolve().parent.parent / "app.py"
CKPT_2D, CKPT_16D = "tiny-ae-2d", "tiny-vae-16d"  # the checkpoints of the app_env fixture (conftest)


def idx_arrays(folder: Path, n_train: int = 12, n_test: int = 7, gz: bool = True, seed: int = 0) -> dict:
    """The four MNIST-format files of a small image set in `folder` (made), gzipped or not: random
    28x28 images, labels 0, 1, ..., 9, 0, ... ; {split: (images, labels)} as written."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        for name, array in zip(IDX_FILES[split], (images, labels)):
            write_idx(folder / (name if gz else name[:-3]), array)
        arrays[split] = (images, labels)
    return arrays


def idx_set(folder: Path, train: int, test: int, seed: int = 0) -> Path:
    """idx_arrays' files, and the folder they are in."""
    idx_arrays(folder, train, test, seed=seed)
    return folder


def synthetic_digits(n: int = 64, seed: int = 0) -> torch.Tensor:
    """(n, 1, 28, 28) images in [0, 1]: a bright bar at a random position and angle, so there is
    structure for an autoencoder to learn within a few steps."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    out = np.zeros((n, 28, 28), np.float32)
    for i in range(n):
        cy, cx, angle = rng.uniform(8, 20), rng.uniform(8, 20), rng.uniform(0, np.pi)
        dist = np.abs((xx - cx) * np.sin(angle) - (yy - cy) * np.cos(angle))
        along = np.abs((xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle))
        out[i] = np.clip(1.5 - dist, 0, 1) * (along < 8)
    return torch.from_numpy(out[:, None])


def tiny_config(kind: str, body: str, **over) -> ModelConfig:
    """A model small enough to train in a few steps; `over` may name any kind's settings (those
    of other kinds are dropped, as format-1 configs store them)."""
    base = dict(kind=kind, body=body, latent_dim=4, hidden=[32], channels=[4, 8],
                neighbour_k=4, umap_n_neighbors=5)
    base.update(over)
    return ModelConfig.from_flat(base, strict=False)


def train_tiny(folder: Path, name: str, model, about: dict, epochs: int = 1, evaluate: bool = True) -> Path:
    """Train `model` (a ModelConfig) for an epoch on 800 sample digits, save it as folder/name."""
    from aecore.config import TrainConfig
    from aecore.measure.evaluate import evaluate as measure
    from aecore.train import save_result, train

    cfg = TrainConfig(dataset="mnist-sample", epochs=epochs, max_train=800, seed=0)
    result = train(model, cfg)
    metrics = measure(result.model, "mnist-sample", max_test=200) if evaluate else None
    return save_result(folder / name, result, cfg, metrics, about)


@contextlib.contextmanager
def shared_checkpoints(app_env: Path, folder: Path):
    """`folder` holding copies of the shared tiny 2-D and 16-D checkpoints, as AECORE_CHECKPOINTS
    while the block runs (add more to it inside the block)."""
    import pytest
    for name in (CKPT_2D, CKPT_16D):
        shutil.copytree(app_env / name, folder / name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AECORE_CHECKPOINTS", str(folder))
        yield folder


def clean(at):
    """The AppTest `at`, after asserting its page raised nothing and showed no error."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at
