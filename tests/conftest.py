"""Shared fixtures: synthetic images, and for the AppTests two tiny checkpoints trained on the
bundled sample with an environment that points the app at them (full MNIST hidden)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from factories import APP, CKPT_2D, CKPT_16D, synthetic_digits, train_tiny


def pytest_addoption(parser):
    parser.getgroup("ui", "real-browser screenshot tests").addoption(
        "--update-snapshots", action="store_true", default=False,
        help="write the screenshots of tests/ui as the new baselines in tests/ui/snapshots/")
    parser.getgroup("fuzz", "the fuzz suite (tests/test_fuzz.py)").addoption(
        "--fuzz-long", action="store_true", default=False,
        help=f"run each fuzz property on {FUZZ_LONG_CASES:,} cases instead of {FUZZ_CI_CASES} (with random seeds)")


FUZZ_CI_CASES, FUZZ_LONG_CASES = 60, 1000  # per property: CI's part stays well under 60 s


def pytest_configure(config):
    from hypothesis import HealthCheck, settings
    slow_ok = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
    # CI: the same cases every run, so a red run is the code's doing; long: new random cases
    settings.register_profile("fuzz-ci", max_examples=FUZZ_CI_CASES, deadline=None, derandomize=True,
                              database=None, suppress_health_check=slow_ok)
    settings.register_profile("fuzz-long", max_examples=FUZZ_LONG_CASES, deadline=None, database=None,
                              suppress_health_check=slow_ok, print_blob=True)
    settings.load_profile("fuzz-long" if config.getoption("--fuzz-long") else "fuzz-ci")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    import sys
    if "fuzzing" in sys.modules and (cases := sys.modules["fuzzing"].CASES):
        failed = len(terminalreporter.stats.get("failed", []))
        terminalreporter.write_line(f"fuzz: {sum(cases.values()):,} cases over {len(cases)} properties "
                                    f"({min(cases.values()):,} to {max(cases.values()):,} each); "
                                    f"{failed} failed test(s)")


@pytest.fixture
def images() -> torch.Tensor:
    return synthetic_digits()


@pytest.fixture(scope="session")
def app_env(tmp_path_factory) -> Path:
    """The checkpoints folder (tiny-ae-2d: plain 2-D; tiny-vae-16d: vae 16-D, both mlp [64]),
    with AECORE_CHECKPOINTS, AECORE_CACHE_DIR and AECORE_DATA_DIR (empty: no full MNIST) set
    and the UMAP warm-up thread off, for the whole session."""
    from aecore.config import ModelConfig
    from aecore.data import load_dataset

    root = tmp_path_factory.mktemp("app")
    env = {"AECORE_CHECKPOINTS": str(root / "checkpoints"), "AECORE_CACHE_DIR": str(root / "cache"),
           "AECORE_DATA_DIR": str(root / "no-data"), "AECORE_NO_WARMUP": "1"}
    (root / "no-data").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("AECORE_DEMO", raising=False)
        load_dataset.cache_clear()
        train_tiny(root / "checkpoints", CKPT_2D, ModelConfig(kind="plain", latent_dim=2, hidden=[64], recon="bce"),
                   {"title": "Tiny 2-D autoencoder", "purpose": "test fixture", "twin": CKPT_16D})
        train_tiny(root / "checkpoints", CKPT_16D, ModelConfig(kind="vae", latent_dim=16, hidden=[64]),
                   {"title": "Tiny 16-D VAE", "purpose": "test fixture", "twin": CKPT_2D})
        yield root / "checkpoints"
    load_dataset.cache_clear()


@pytest.fixture
def open_page(app_env):
    """open_page("pages/2_latent_map.py", checkpoint_name) -> an AppTest of the app on that page
    with the checkpoint folder named `checkpoint_name` picked in the sidebar."""
    from streamlit.testing.v1 import AppTest

    def run(page_path: str, checkpoint_name: str, timeout: float = 60) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=timeout)
        at.session_state["checkpoint"] = str(Path(os.environ["AECORE_CHECKPOINTS"]) / checkpoint_name)
        at.run()  # the entry page first: switch_page resolves pages through app.py's st.navigation
        return at.switch_page(page_path).run()
    return run


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An empty data folder as $AECORE_DATA_DIR (and a cache folder of its own), no dataset cached
    before or after: a test puts its own sets in it."""
    from aecore.data import load_dataset
    root = tmp_path / "data"
    root.mkdir()
    monkeypatch.setenv("AECORE_DATA_DIR", str(root))
    monkeypatch.setenv("AECORE_CACHE_DIR", str(tmp_path / "cache"))
    load_dataset.cache_clear()
    yield root
    load_dataset.cache_clear()


@pytest.fixture
def no_data_dir(monkeypatch, tmp_path):
    """No real data folders leak in: no AECORE_DATA_DIR, an empty cache of its own, no dataset
    cached before or after."""
    from aecore.data import load_dataset
    monkeypatch.delenv("AECORE_DATA_DIR", raising=False)
    monkeypatch.setenv("AECORE_CACHE_DIR", str(tmp_path / "cache"))
    load_dataset.cache_clear()
    yield
    load_dataset.cache_clear()
