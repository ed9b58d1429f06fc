"""Shared fixtures: small synthetic data and tiny configs, so tests never need the network."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from aecore.config import ModelConfig


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
    base = dict(kind=kind, body=body, latent_dim=4, hidden=[32], channels=[4, 8],
                neighbour_k=4, umap_n_neighbors=5)
    base.update(over)
    return ModelConfig(**base)


@pytest.fixture
def images() -> torch.Tensor:
    return synthetic_digits()


def pytest_addoption(parser):
    parser.getgroup("ui", "real-browser screenshot tests").addoption(
        "--update-snapshots", action="store_true", default=False,
        help="write the screenshots of tests/ui as the new baselines in tests/ui/snapshots/")
