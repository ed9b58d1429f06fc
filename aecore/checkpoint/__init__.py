"""Checkpoints are folders (layout.py): config.json + model.safetensors (+ metrics.json,
history.safetensors, codes.safetensors: codes.py). Loading builds the model from the config and
loads the weights strictly; listing, configs, metrics and stored codes need no torch.
Never pickle, never torch.load. Uploads are unpacked into such a folder by upload.py.

A folder may instead hold an autoencoder trained elsewhere as two ONNX graphs, encoder.onnx +
decoder.onnx (+ onnx.json, + metrics.json): aecore.models.onnx loads those."""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from safetensors import SafetensorError, safe_open
from safetensors.numpy import load as load_numpy_bytes
from safetensors.numpy import save_file as save_numpy

from .. import __version__
from ..config import ModelConfig, TrainConfig
from .layout import (CODES, CONFIG, DECODER, ENCODER, FORMAT, FORMATS, HISTORY, MAX_JSON_BYTES, MAX_UPLOAD_BYTES,  # noqa: F401
                     METRICS, ONNX_DATA, ONNX_JSON, UPLOAD_LIMITS, WEIGHTS, CheckpointError)  # the package's interface
from .codes import store_codes, stored_codes  # noqa: F401 -- the package's interface
from .records import check_metrics, check_sections
from .upload import unpack_upload  # noqa: F401 -- the package's interface

if TYPE_CHECKING:
    from ..models import Autoencoder

_digests: dict[tuple, str] = {}


@dataclass
class Checkpoint:
    path: Path
    model: Autoencoder           # in eval mode; shared, never mutate it
    config: dict                 # the whole config.json
    metrics: dict | None         # metrics.json, if present

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def dataset(self) -> str | None:
        """The name of the dataset the model was trained on (its config's "training" or "dataset"
        section), or None when the config does not say."""
        return config_dataset(self.config)

    def recorded(self) -> dict[str, np.ndarray] | None:
        """The training history's arrays (history.safetensors), checked, or None without one."""
        file = self.path / HISTORY
        if not file.is_file():
            return None
        from ..train.history import check_history
        try:
            tensors = load_numpy_bytes(_bounded_bytes(file, MAX_UPLOAD_BYTES))
            tensors = check_history(tensors, len(self.config.get("history") or []), str(file),
                                    getattr(self.model, "image_shape", None))
        except CheckpointError:
            raise
        except (SafetensorError, ValueError, OverflowError) as e:
            raise CheckpointError(f"{e}" if str(file) in str(e) else f"{file}: not a training history ({e})") from None
        return tensors


def save_checkpoint(path: str | Path, model: Autoencoder, training: TrainConfig | dict,
                    dataset: dict, train_seconds: float, history: list | None = None,
                    metrics: dict | None = None, about: dict | None = None,
                    recorded: dict | None = None, trained_with: dict | None = None) -> Path:
    """Write the folder atomically: into a temporary sibling, then renamed over `path`. A crash or
    Ctrl-C before the rename leaves any older checkpoint at `path` as it was. `about` holds what the
    app shows on the model card: {"title", "purpose", "twin": name of its baseline checkpoint,
    "anchors"}; `recorded` the arrays of the training history (aecore.train.history);
    `trained_with` how it was trained ({"device", "world_size", ...}, aecore.train.distributed).
    Weights are saved from CPU tensors, so a checkpoint loads on any device."""
    from safetensors.torch import save_file
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config = {
        "format": FORMAT, "aecore_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": model.config.to_dict(),
        "training": training.to_dict() if isinstance(training, TrainConfig) else dict(training),
        "dataset": dataset, "train_seconds": round(train_seconds, 1),
        **({"trained_with": trained_with} if trained_with else {}),
        "history": history or [],
        "about": about or {},
    }
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        (tmp / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
        state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
        save_file(state, tmp / WEIGHTS, metadata={"format": FORMAT})
        if metrics is not None:
            (tmp / METRICS).write_text(json.dumps(metrics, indent=2) + "\n")
        if recorded is not None:
            save_numpy({k: np.ascontiguousarray(v) for k, v in recorded.items()}, tmp / HISTORY)
        _replace_dir(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def write_metrics(path: str | Path, metrics: dict) -> None:
    """Atomically (re)write metrics.json of an existing checkpoint."""
    target = Path(path) / METRICS
    tmp = target.with_name(f".{METRICS}.tmp")
    tmp.write_text(json.dumps(metrics, indent=2) + "\n")
    tmp.replace(target)


def _replace_dir(new: Path, path: Path) -> None:
    old = path.with_name(f".{path.name}.old-{time.time_ns()}")
    try:  # both renames inside: an interrupt just after the first still puts the old one back
        if path.exists():
            path.rename(old)
        new.rename(path)
    except BaseException:
        if old.exists() and not path.exists():
            old.rename(path)
        raise
    shutil.rmtree(old, ignore_errors=True)


def read_config(path: str | Path) -> dict:
    """Parse and check config.json of a checkpoint folder (no weights loaded)."""
    file = Path(path) / CONFIG
    if not Path(path).is_dir():
        raise CheckpointError(f"{path}: not a checkpoint folder (expected a folder holding {CONFIG} and {WEIGHTS})")
    if not file.is_file():
        raise CheckpointError(f"{file}: missing; a checkpoint folder holds {CONFIG} and {WEIGHTS} "
                              f"(or, for a model trained elsewhere, {ENCODER} and {DECODER})")
    config = read_json(file)
    if not isinstance(config, dict) or "model" not in config:
        raise CheckpointError(f"{file}: not an aecore checkpoint config (no \"model\" section); "
                              "save checkpoints with aecore (python -m aecore train)")
    model_config(config, file)
    try:
        check_sections(config)
    except ValueError as e:
        raise CheckpointError(f"{file}: {e}") from None
    return config


def _bounded_bytes(file: Path, limit: int) -> bytes:
    if (size := file.stat().st_size) > limit:
        raise CheckpointError(f"{file}: {size:,} bytes, more than the {limit:,} this file may hold")
    return file.read_bytes()


def read_json(file: Path):
    """A JSON file of a checkpoint folder (config.json, metrics.json, onnx.json): at most
    MAX_JSON_BYTES, parsed, or CheckpointError naming the file."""
    try:
        return json.loads(_bounded_bytes(file, MAX_JSON_BYTES))
    except (ValueError, RecursionError) as e:  # bad syntax or encoding, a 5,000-digit number, deep nesting
        raise CheckpointError(f"{file}: not valid JSON ({str(e)[:120]})") from None


def model_config(config: dict, where: Path | str = CONFIG) -> ModelConfig:
    """The ModelConfig that config.json describes, in any format listed in FORMATS."""
    fmt = config.get("format", FORMATS[0])
    if fmt not in FORMATS:
        raise CheckpointError(f"{where}: format {repr(fmt)[:60]} is not one this aecore reads ({', '.join(FORMATS)}); "
                              "upgrade aecore, or re-save the checkpoint with this one")
    try:
        if fmt == FORMATS[0]:
            return ModelConfig.from_flat(config["model"], strict=False)
        return ModelConfig.from_dict(config["model"])
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{where}: {e}") from None


def config_dataset(config: dict) -> str | None:
    """The dataset a checkpoint's config says it was trained on (its "training" or "dataset"
    section), or None when it does not say."""
    return (config.get("training") or {}).get("dataset") or (config.get("dataset") or {}).get("name")


def is_onnx_folder(path: str | Path) -> bool:
    """A folder of ONNX graphs (encoder.onnx or decoder.onnx, and no config.json)."""
    path = Path(path)
    return not (path / CONFIG).exists() and ((path / ENCODER).is_file() or (path / DECODER).is_file())


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Build the model from config.json, load model.safetensors strictly, switch to eval(). An
    ONNX model folder is loaded by aecore.models.onnx (only then is onnxruntime imported)."""
    path = Path(path)
    if is_onnx_folder(path):
        from ..models.onnx import load_onnx
        model, config = load_onnx(path)
        return Checkpoint(path, model, config, read_metrics(path))
    from ..models import build_model
    from .weights import check_outputs, read_weights
    config = read_config(path)
    cfg = model_config(config, path / CONFIG)
    weights = _weights_file(path)
    try:
        state = read_weights(weights, cfg)  # checked against the config before the model is built
        model = build_model(cfg)
        model.load_state_dict(state, strict=True)
        model.eval()
        check_outputs(model)
    except ValueError as e:
        raise CheckpointError(f"{weights}: {e}") from None
    return Checkpoint(path, model, config, read_metrics(path))


def _weights_file(path: Path) -> Path:
    if not (weights := path / WEIGHTS).is_file():
        raise CheckpointError(f"{weights}: missing; a checkpoint folder holds {CONFIG} and {WEIGHTS}")
    return weights


def read_metrics(path: str | Path) -> dict | None:
    """metrics.json of a checkpoint folder, checked, or None without one."""
    path = Path(path)
    if not (path / METRICS).is_file():
        return None
    metrics = read_json(path / METRICS)
    try:
        check_metrics(metrics)
    except ValueError as e:
        raise CheckpointError(f"{path / METRICS}: {e}") from None
    return metrics


def check_folder(path: str | Path) -> None:
    """CheckpointError unless the folder passes what can be checked without torch: config.json
    describes a model, metrics.json (if any) is well formed, and model.safetensors is a
    safetensors file of float32 tensors. Whether those tensors fit the config, and are finite, is
    checked when the checkpoint is loaded (load_checkpoint). An ONNX model folder is loaded whole
    (by onnxruntime: no torch either)."""
    path = Path(path)
    if is_onnx_folder(path):
        load_checkpoint(path)
        return
    read_config(path)  # which checks the model section too
    read_metrics(path)
    weights = _weights_file(path)
    try:
        with safe_open(weights, framework="numpy") as f:
            dtypes = {k: f.get_slice(k).get_dtype() for k in f.keys()}
    except (SafetensorError, OSError, OverflowError, ValueError) as e:
        raise CheckpointError(f"{weights}: not a safetensors file ({str(e)[:120]})") from None
    if other := [f"{k} is {d}" for k, d in dtypes.items() if d != "F32"]:
        raise CheckpointError(f"{weights}: weights not float32: {'; '.join(other[:3])}")


def list_checkpoints(folder: str | Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(checkpoint folders, [(skipped folder, reason)]), sorted by name: those that pass
    check_folder, which needs no torch, so the app lists its checkpoints before torch has loaded."""
    valid, skipped = [], []
    folder = Path(folder)
    if not folder.is_dir():
        return valid, skipped
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            check_folder(sub)
            valid.append(sub)
        except CheckpointError as e:
            skipped.append((sub, str(e)))
    return valid, skipped


def weights_digest(path: str | Path) -> str:
    """sha256 hex of a checkpoint folder's weights (or of one file): what identifies "these
    weights" for every cache, in memory and on disk, whatever the folder is called. An ONNX model
    folder's are its graphs, their weight files and onnx.json (which changes what they compute),
    each hashed with its name. Memoised by (path, mtime, size) of each file: a stat per file."""
    path = Path(path)
    onnx = path.is_dir() and is_onnx_folder(path)
    files = [path / WEIGHTS] if path.is_dir() else [path]
    if onnx:
        files = [path / n for n in (ENCODER, DECODER, ONNX_JSON, *ONNX_DATA) if (path / n).is_file()]
    memo = tuple((str(f.resolve()), s.st_mtime_ns, s.st_size) for f, s in ((f, f.stat()) for f in files))
    if memo not in _digests:
        h = hashlib.sha256()
        for file in files:
            if onnx:
                h.update(file.name.encode())
            with open(file, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        _digests[memo] = h.hexdigest()
    return _digests[memo]
