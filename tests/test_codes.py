"""codes.safetensors (aecore.checkpoint.codes): a checkpoint's stored codes are exactly what its
model gives those images, are found for those images only and for its current weights only, and
anything wrong with the file costs a recomputation, never a wrong map. The listing that the app
draws its picker from needs no torch, and a folder it cannot vouch for still fails as it loads."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from factories import tiny_config
from safetensors.numpy import save_file

from aecore.checkpoint import (CODES, WEIGHTS, CheckpointError, list_checkpoints, load_checkpoint, save_checkpoint,
                               store_codes, stored_codes, weights_digest)
from aecore.checkpoint.codes import images_digest, write_codes
from aecore.config import TrainConfig
from aecore.data import load_dataset
from aecore.latent import encode_dataset
from aecore.models import build_model

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path / "no-data"))  # only the bundled sample is here
    torch.manual_seed(0)
    model = build_model(tiny_config("plain", "mlp"))
    return save_checkpoint(tmp_path / "ck", model, TrainConfig(dataset="mnist"), {"name": "mnist"}, 1.0)


@pytest.fixture
def sample():
    return load_dataset("mnist-sample", "test").images


def test_stored_codes_are_the_models_codes_of_the_stand_in_when_its_own_data_is_missing(folder, sample):
    assert store_codes(folder) == ["mnist-sample"]  # trained on mnist, which is not here
    codes = stored_codes(folder, weights_digest(folder), sample)
    expected = encode_dataset(load_checkpoint(folder).model, sample)
    assert codes.dtype == np.float32 and np.array_equal(codes, expected)


def test_codes_are_found_for_those_images_and_those_weights_only(folder, sample):
    store_codes(folder)
    weights = weights_digest(folder)
    assert stored_codes(folder, weights, sample[:-1]) is None  # other images
    other = sample.copy()
    other[0, 0, 0] ^= 1
    assert stored_codes(folder, weights, other) is None
    old = (folder / CODES).read_bytes()
    torch.manual_seed(1)  # retrained into the same folder, the old codes copied back beside the new weights
    save_checkpoint(folder, build_model(tiny_config("plain", "mlp")), TrainConfig(), {"name": "mnist"}, 1.0)
    (folder / CODES).write_bytes(old)
    assert stored_codes(folder, weights, sample) is not None  # what the old weights made...
    assert stored_codes(folder, weights_digest(folder), sample) is None  # ...is not what the new ones make


@pytest.mark.parametrize("damage", ["truncated", "not safetensors", "nan", "wrong rows", "other format"])
def test_a_damaged_codes_file_is_ignored_with_a_warning_or_silently(folder, sample, damage, caplog):
    store_codes(folder)
    weights, file = weights_digest(folder), folder / CODES
    if damage == "truncated":
        file.write_bytes(file.read_bytes()[:200])
    elif damage == "not safetensors":
        file.write_bytes(b"\x00" * 64)
    elif damage == "nan":
        write_codes(folder, weights, {images_digest(sample): np.full((len(sample), 2), np.nan, np.float32)})
    elif damage == "wrong rows":
        write_codes(folder, weights, {images_digest(sample): np.zeros((3, 2), np.float32)})
    else:
        save_file({images_digest(sample): np.zeros((len(sample), 2), np.float32)}, str(file),
                  metadata={"format": "something-else/9", "weights": weights})
    with caplog.at_level(logging.WARNING):
        assert stored_codes(folder, weights, sample) is None
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    if damage == "other format":  # another format's file is not ours to judge: passed over silently
        assert warned == []
    else:  # a damaged file of ours is named in the log, so whoever runs the server can replace it
        assert len(warned) == 1 and str(file) in warned[0] and "computed instead" in warned[0]


def test_codes_past_the_budget_are_left_out(folder):
    assert store_codes(folder, budget=100) == [] and not (folder / CODES).exists()


def test_the_listing_checks_without_torch_and_a_mismatch_fails_when_loaded(folder, tmp_path):
    from safetensors.torch import load_file
    from safetensors.torch import save_file as save_torch
    half = tmp_path / "half"
    half.mkdir()
    for name in ("config.json", WEIGHTS):
        (half / name).write_bytes((folder / name).read_bytes())
    save_torch({k: v.half() for k, v in load_file(half / WEIGHTS).items()}, half / WEIGHTS)
    state = load_file(folder / WEIGHTS)
    state.pop(next(iter(state)))
    save_torch(state, folder / WEIGHTS)  # a tensor missing: only a load can tell
    valid, skipped = list_checkpoints(tmp_path)
    assert valid == [folder] and [s[0] for s in skipped] == [half] and "not float32" in skipped[0][1]
    with pytest.raises(CheckpointError, match="missing tensors"):
        load_checkpoint(folder)


def test_listing_and_reading_stored_codes_import_no_torch(folder):
    store_codes(folder)
    script = ("import sys; from aecore.checkpoint import list_checkpoints, stored_codes, weights_digest; "
              "from aecore.data import load_dataset; "
              f"p = list_checkpoints({str(folder.parent)!r})[0][0]; "
              "codes = stored_codes(p, weights_digest(p), load_dataset('mnist-sample', 'test').images); "
              "print(*codes.shape, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["1000", str(load_checkpoint(folder).model.latent_dim), "False"], out.stderr
