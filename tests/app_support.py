"""Shared support for the app's AppTests: two tiny checkpoints trained on the bundled sample and
an environment that points the app at them, with full MNIST hidden so the sample is used.

Use in a test module:  from app_support import app_env, open_page  (app_env is a fixture).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from aecore.checkpoint import save_checkpoint
from aecore.config import ModelConfig, TrainConfig
from aecore.data import load_dataset
from aecore.evaluate import evaluate
from aecore.train import train

APP = Path(__file__).resolve().parent.parent / "app.py"
CKPT_2D, CKPT_16D = "tiny-ae-2d", "tiny-vae-16d"


def _train(folder: Path, name: str, model: ModelConfig, about: dict) -> None:
    cfg = TrainConfig(dataset="mnist-sample", epochs=1, max_train=800, seed=0)
    result = train(model, cfg)
    metrics = evaluate(result.model, "mnist-sample", max_test=200)
    save_checkpoint(folder / name, result.model, cfg, result.dataset, result.seconds,
                    result.history, metrics, about)


@pytest.fixture(scope="session")
def app_env(tmp_path_factory) -> Path:
    """The checkpoints folder (tiny-ae-2d: plain 2-D; tiny-vae-16d: vae 16-D, both mlp [64]),
    with AECORE_CHECKPOINTS, AECORE_CACHE_DIR and AECORE_DATA_DIR (empty: no full MNIST) set
    and the UMAP warm-up thread off, for the whole session."""
    root = tmp_path_factory.mktemp("app")
    env = {"AECORE_CHECKPOINTS": str(root / "checkpoints"), "AECORE_CACHE_DIR": str(root / "cache"),
           "AECORE_DATA_DIR": str(root / "no-data"), "AECORE_NO_WARMUP": "1"}
    (root / "no-data").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("AECORE_DEMO", raising=False)
        load_dataset.cache_clear()
        _train(root / "checkpoints", CKPT_2D,
               ModelConfig(kind="plain", latent_dim=2, hidden=[64], recon="bce"),
               {"title": "Tiny 2-D autoencoder", "purpose": "test fixture", "twin": CKPT_16D})
        _train(root / "checkpoints", CKPT_16D,
               ModelConfig(kind="vae", latent_dim=16, hidden=[64]),
               {"title": "Tiny 16-D VAE", "purpose": "test fixture", "twin": CKPT_2D})
        yield root / "checkpoints"
    load_dataset.cache_clear()


def open_page(page_path: str, checkpoint_name: str, timeout: float = 60) -> AppTest:
    """Run the app on `page_path` (e.g. "pages/2_latent_map.py") with the checkpoint folder named
    `checkpoint_name` picked in the sidebar. Needs the app_env fixture active."""
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.session_state["checkpoint"] = str(Path(os.environ["AECORE_CHECKPOINTS"]) / checkpoint_name)
    at.run()  # the entry page first: switch_page resolves pages through app.py's st.navigation
    return at.switch_page(page_path).run()
