"""Files as an attacker would make them: mutated configs, safetensors files, zips, pictures and IDX
files each end in their module's own error (CheckpointError, ImageError, DataError) or in a
valid result the app can use, within a time bound per case. `pytest --fuzz-long` runs the same
properties over many more cases (tests/conftest.py sets the hypothesis profiles)."""
from __future__ import annotations

import gzip
import io
import json
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from fuzzing import (MEMBER_NAMES, METHODS, counted, damaged, idx_seed, json_values, mutated_json, picture_seeds,
                     within, zip_hot_spots, zip_of)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from aecore.checkpoint import (CONFIG, HISTORY, METRICS, WEIGHTS, Checkpoint, CheckpointError, load_checkpoint,
                               save_checkpoint, unpack_upload)
from aecore.config import MAX_PARAMETERS, ModelConfig, TrainConfig
from aecore.model_size import parameter_count
from aecore.data import DataError, read_idx
from aecore.measure.card import measured_on, metric_rows, model_card
from aecore.models import build_model
from aecore.pictures.images import ImageError, canvas_input, picture_input
from aecore.pictures.plots import loss_curves

BOUND_S = 20  # per case: far above any case's cost (milliseconds), there to catch hangs
SEED_DIR = Path(tempfile.mkdtemp(prefix="aecore-fuzz-"))  # removed by the `seed` fixture
EPOCHS = 3  # config.json's history; history.safetensors keeps 2 of them


def _seed_checkpoint() -> dict[str, bytes]:
    torch.manual_seed(0)
    model = build_model(ModelConfig(kind="vae", latent_dim=2, hidden=[8]))
    history = [{"epoch": e, "train": {"loss": 9.0 - e, "kl": 1.0}, "val": {"loss": 9.5 - e}, "seconds": 0.1}
               for e in range(1, EPOCHS + 1)]
    recorded = {"index": np.arange(5, dtype=np.int64), "epochs": np.array([1, EPOCHS], np.int64),  # 2 kept frames
                "maps": np.zeros((2, 5, 2), np.float16), "reconstructions": np.zeros((2, 3, 28, 28), np.uint8)}
    metrics = {"measured_on": {"dataset": "mnist", "split": "test", "size": 10}, "metrics": {"knn5": 0.5}}
    about = {"title": "seed", "twin": "other", "anchors": {"knn5": {"value": 0.7, "source": "a paper"}}}
    path = save_checkpoint(SEED_DIR / "ck", model, TrainConfig(), {"name": "mnist"}, 1.0, history, metrics,
                           about, recorded)
    return {name: (path / name).read_bytes() for name in (CONFIG, WEIGHTS, METRICS, HISTORY)}


SEED = _seed_checkpoint()
SEED_CONFIG = json.loads(SEED[CONFIG])
HEADER_END = 8 + struct.unpack("<Q", SEED[WEIGHTS][:8])[0]
SEED_ZIP = zip_of([(f"ck/{name}", data, METHODS[1]) for name, data in SEED.items()])
PICTURES = picture_seeds()
IDX = {"images": idx_seed((3, 5, 4)), "labels": idx_seed((7,))}


@pytest.fixture(scope="module", autouse=True)
def seed():
    yield
    shutil.rmtree(SEED_DIR, ignore_errors=True)


def ends_well(call, error):
    """call()'s result, or None when it raised `error`; anything else fails the case."""
    with within(BOUND_S):
        try:
            return call()
        except error:
            return None


def usable(ckpt: Checkpoint) -> None:
    """What the pages do with a loaded checkpoint must work."""
    with torch.no_grad():
        out = ckpt.model.decode(ckpt.model.encode(torch.rand(3, 1, 28, 28)))
    assert out.shape == (3, 1, 28, 28) and torch.isfinite(out).all()
    model_card(ckpt), metric_rows(ckpt), measured_on(ckpt)
    assert ckpt.dataset is None or isinstance(ckpt.dataset, str)
    if ckpt.config.get("history"):
        loss_curves(ckpt.config["history"])
    recorded = ends_well(ckpt.recorded, CheckpointError)
    assert recorded is None or set(recorded) == {"index", "epochs", "maps", "reconstructions"}


def load_files(files: dict[str, bytes]) -> None:
    """Write a checkpoint folder of `files`, load it: a CheckpointError or a usable checkpoint."""
    with tempfile.TemporaryDirectory(dir=SEED_DIR) as tmp:
        for name, data in files.items():
            (Path(tmp) / name).write_bytes(data)
        ckpt = ends_well(lambda: load_checkpoint(tmp), CheckpointError)
        if ckpt is not None:
            usable(ckpt)


def load_upload(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory(dir=SEED_DIR) as tmp:
        path = ends_well(lambda: unpack_upload(files, Path(tmp) / "up"), CheckpointError)
        if path is not None:
            load_files({p.name: p.read_bytes() for p in path.iterdir()})


@given(config=mutated_json(SEED_CONFIG))
@counted
def test_a_mutated_config_json_loads_or_says_why(config):
    load_files({**SEED, CONFIG: json.dumps(config).encode()})


@given(data=damaged(SEED[CONFIG]))
@counted
def test_a_damaged_config_json_loads_or_says_why(data):
    load_files({**SEED, CONFIG: data})


@given(model=mutated_json(SEED_CONFIG["model"]), flat=st.booleans(), training=mutated_json(SEED_CONFIG["training"]))
@counted
def test_any_config_is_a_valid_one_or_a_value_error(model, flat, training):
    def build():
        cfg = ModelConfig.from_flat(model, strict=False) if flat else ModelConfig.from_dict(model)
        assert parameter_count(cfg) <= MAX_PARAMETERS and ModelConfig.from_dict(cfg.to_dict()) == cfg
    ends_well(build, ValueError)
    ends_well(lambda: TrainConfig.from_dict(training), ValueError)


@given(data=damaged(SEED[WEIGHTS], hot=(0, 8, HEADER_END // 2, HEADER_END)))
@counted
def test_damaged_weights_load_or_say_why(data):
    load_files({**SEED, WEIGHTS: data})


@given(header=mutated_json(json.loads(SEED[WEIGHTS][8:HEADER_END])))
@counted
def test_weights_whose_header_lies_load_or_say_why(header):
    text = json.dumps(header).encode()
    load_files({**SEED, WEIGHTS: struct.pack("<Q", len(text)) + text + SEED[WEIGHTS][HEADER_END:]})


@given(history=damaged(SEED[HISTORY], hot=(0, 8, 64)), metrics=mutated_json(json.loads(SEED[METRICS])))
@counted
def test_a_damaged_history_or_metrics_file_loads_or_says_why(history, metrics):
    load_files({**SEED, HISTORY: history, METRICS: json.dumps(metrics).encode()})


@given(data=damaged(SEED_ZIP, hot=zip_hot_spots(SEED_ZIP)))
@counted
def test_a_damaged_zip_upload_loads_or_says_why(data):
    load_upload({"mine.zip": data})


member = st.tuples(st.sampled_from(MEMBER_NAMES) | st.text(max_size=20),
                   st.sampled_from(list(SEED.values())) | st.binary(max_size=64), st.sampled_from(METHODS))


@given(members=st.lists(member, max_size=6))
@counted
def test_a_zip_of_any_members_loads_or_says_why(members):
    load_upload({"mine.zip": zip_of(members)})


@given(files=st.dictionaries(st.sampled_from(MEMBER_NAMES) | st.text(max_size=12),
                             st.sampled_from(list(SEED.values())) | st.binary(max_size=64), max_size=5))
@counted
def test_uploaded_files_of_any_names_load_or_say_why(files):
    load_upload(files)


def check_picture(data: bytes) -> None:
    x = ends_well(lambda: picture_input(data, name="upload.png"), ImageError)
    assert x is None or (x.shape == (28, 28) and x.dtype == np.float32 and np.isfinite(x).all()
                         and x.min() >= 0 and x.max() <= 1)


@given(data=st.sampled_from(sorted(PICTURES)).flatmap(lambda k: damaged(PICTURES[k], hot=(0, 16, 32, 64))))
@counted
def test_a_damaged_picture_is_an_input_or_an_image_error(data):
    check_picture(data)


PIXEL_KINDS = {"F": (np.float32, "TIFF"), "I;16": (np.uint16, "PNG"), "L": (np.uint8, "PNG"),
               "RGBA": (np.uint8, "PNG"), "RGB": (np.uint8, "JPEG")}


@st.composite
def pictures_of_any_pixels(draw) -> bytes:
    """A picture file of any pixel values its format holds (NaN and infinity for float TIFFs)."""
    mode = draw(st.sampled_from(sorted(PIXEL_KINDS)))
    dtype, fmt = PIXEL_KINDS[mode]
    shape = (draw(st.integers(1, 40)), draw(st.integers(1, 40))) + ((len(mode),) if mode in ("RGB", "RGBA") else ())
    special = st.sampled_from([float("nan"), float("inf"), -float("inf"), 3e38, -1.0, 0.0, 1.0, 255.0])
    floats = special | st.floats(width=32)
    values = draw(hnp.arrays(dtype, shape, elements=floats if dtype == np.float32 else None,
                             fill=floats if dtype == np.float32 else None))
    buf = io.BytesIO()
    Image.fromarray(values, mode if mode != "I;16" else None).save(buf, format=fmt)
    return buf.getvalue()


@given(data=pictures_of_any_pixels())
@counted
def test_a_picture_of_any_pixels_is_an_input_or_an_image_error(data):
    check_picture(data)


@given(shape=st.tuples(st.integers(0, 40), st.integers(0, 40), st.sampled_from([1, 3, 4, 5])),
       fill=st.integers(0, 255), ink=st.integers(0, 255), alpha=st.integers(0, 255))
@counted
def test_any_canvas_is_an_input_or_an_image_error(shape, fill, ink, alpha):
    rgba = np.full(shape, fill, np.uint8)
    if shape[2] == 4 and shape[0] > 4 and shape[1] > 4:
        rgba[2:-2, shape[1] // 2] = (ink, ink, ink, alpha)
    x = ends_well(lambda: canvas_input(rgba), ImageError)
    assert x is None or (x.shape == (28, 28) and np.isfinite(x).all() and 0 <= x.min() and x.max() <= 1)


@given(name=st.sampled_from(sorted(IDX)), gz=st.booleans(), data=st.data())
@counted
def test_a_damaged_idx_file_is_an_array_or_a_data_error(name, gz, data):
    seed = gzip.compress(IDX[name], mtime=0) if gz else IDX[name]
    raw = data.draw(damaged(seed, hot=(0, 4, 10, 16)))
    with tempfile.TemporaryDirectory(dir=SEED_DIR) as tmp:
        (Path(tmp) / name).write_bytes(raw)
        array = ends_well(lambda: read_idx(Path(tmp) / name), DataError)
    assert array is None or (array.dtype == np.uint8 and array.ndim >= 1)


@given(value=json_values)
@counted
def test_any_json_as_a_whole_config_loads_or_says_why(value):
    load_files({**SEED, CONFIG: json.dumps(value).encode()})
