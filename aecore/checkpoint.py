"""Checkpoints are folders: config.json + model.safetensors (+ metrics.json). Loading builds the
model from the config and loads the weights strictly. Never pickle, never torch.load."""
from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as load_numpy_bytes
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save_file

from . import __version__
from .config import ModelConfig, TrainConfig
from .models import Autoencoder, build_model

CONFIG, WEIGHTS, METRICS = "config.json", "model.safetensors", "metrics.json"
HISTORY = "history.safetensors"  # optional: the maps and reconstructions after each epoch (aecore.train.history)
FORMAT = "aecore-checkpoint/2"  # per-kind model sections; format 1 stored every kind's settings flat
FORMATS = ("aecore-checkpoint/1", FORMAT)  # what load_checkpoint reads
MAX_UPLOAD_BYTES = 200 * 2**20
_digests: dict[tuple[str, int, int], str] = {}


class CheckpointError(ValueError):
    """A checkpoint folder or upload that cannot be loaded; the message says what and where."""


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
        return (self.config.get("training") or {}).get("dataset") or (self.config.get("dataset") or {}).get("name")

    def recorded(self) -> dict[str, np.ndarray] | None:
        """The training history's arrays (history.safetensors), checked, or None without one."""
        file = self.path / HISTORY
        if not file.is_file():
            return None
        from .train.history import check_history
        try:
            tensors = load_numpy_bytes(file.read_bytes())
            check_history(tensors, len(self.config.get("history") or []), str(file))
        except (SafetensorError, ValueError) as e:
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
        raise CheckpointError(f"{file}: missing; a checkpoint folder holds {CONFIG} and {WEIGHTS}")
    try:
        config = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{file}: not valid JSON ({e})") from None
    if not isinstance(config, dict) or "model" not in config:
        raise CheckpointError(f"{file}: not an aecore checkpoint config (no \"model\" section); "
                              "save checkpoints with aecore (python -m aecore train)")
    model_config(config, file)
    return config


def model_config(config: dict, where: Path | str = CONFIG) -> ModelConfig:
    """The ModelConfig that config.json describes, in any format listed in FORMATS."""
    fmt = config.get("format", FORMATS[0])
    if fmt not in FORMATS:
        raise CheckpointError(f"{where}: format {fmt!r} is not one this aecore reads ({', '.join(FORMATS)}); "
                              "upgrade aecore, or re-save the checkpoint with this one")
    try:
        if fmt == FORMATS[0]:
            return ModelConfig.from_flat(config["model"], strict=False)
        return ModelConfig.from_dict(config["model"])
    except (ValueError, TypeError) as e:
        raise CheckpointError(f"{where}: {e}") from None


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Build the model from config.json, load model.safetensors strictly, switch to eval()."""
    path = Path(path)
    config = read_config(path)
    try:
        model = build_model(model_config(config, path / CONFIG))
    except ValueError as e:
        raise CheckpointError(f"{path / CONFIG}: {e}") from None
    weights = path / WEIGHTS
    if not weights.is_file():
        raise CheckpointError(f"{weights}: missing; a checkpoint folder holds {CONFIG} and {WEIGHTS}")
    try:
        state = load_safetensors_bytes(weights.read_bytes())
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{weights}: not a safetensors file ({e})") from None
    _check_tensors(model, state, weights)
    model.load_state_dict(state, strict=True)
    model.eval()
    metrics = None
    if (path / METRICS).is_file():
        try:
            metrics = json.loads((path / METRICS).read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise CheckpointError(f"{path / METRICS}: not valid JSON ({e})") from None
    return Checkpoint(path, model, config, metrics)


def _check_tensors(model: Autoencoder, state: dict, where: Path) -> None:
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    problems = []
    if missing := sorted(set(expected) - set(found)):
        problems.append(f"missing tensors {missing[:5]}")
    if extra := sorted(set(found) - set(expected)):
        problems.append(f"unexpected tensors {extra[:5]}")
    bad = [f"{k} is {found[k]}, expected {expected[k]}" for k in expected if k in found and found[k] != expected[k]]
    if bad:
        problems.append("mis-shaped: " + "; ".join(bad[:3]))
    if problems:
        raise CheckpointError(f"{where}: weights do not match config.json ({' / '.join(problems)}); "
                              "the two files must come from the same checkpoint")


def list_checkpoints(folder: str | Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(valid checkpoint folders, [(skipped folder, reason)]), sorted by name. Validity is a
    full strict load, so what is listed will load."""
    valid, skipped = [], []
    folder = Path(folder)
    if not folder.is_dir():
        return valid, skipped
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            load_checkpoint(sub)
            valid.append(sub)
        except CheckpointError as e:
            skipped.append((sub, str(e)))
    return valid, skipped


def unpack_upload(files: dict[str, bytes], dest: str | Path) -> Path:
    """Write uploaded files ({name: bytes}: config.json + model.safetensors, or one .zip holding
    them, possibly inside a folder) into the folder `dest`, and return it. Validates nothing
    else: call load_checkpoint(dest) next."""
    dest = Path(dest)
    if len(files) == 1 and next(iter(files)).lower().endswith(".zip"):
        files = _read_zip(next(iter(files.values())))
    names = {Path(n).name: data for n, data in files.items()}
    missing = [n for n in (CONFIG, WEIGHTS) if n not in names]
    if missing:
        raise CheckpointError(f"upload is missing {' and '.join(missing)}: upload {CONFIG} and {WEIGHTS} "
                              "of one checkpoint, or a .zip holding both")
    dest.mkdir(parents=True, exist_ok=True)
    for name in (CONFIG, WEIGHTS, METRICS):
        if name in names:
            (dest / name).write_bytes(names[name])
    return dest


def _read_zip(data: bytes) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = [i for i in z.infolist() if Path(i.filename).name in (CONFIG, WEIGHTS, METRICS)]
            if sum(i.file_size for i in members) > MAX_UPLOAD_BYTES:
                raise CheckpointError(f"zip upload unpacks to more than {MAX_UPLOAD_BYTES // 2**20} MB")
            return {Path(i.filename).name: z.read(i) for i in members}  # only base names: no zip-slip
    except zipfile.BadZipFile:
        raise CheckpointError("the uploaded .zip is not a valid zip file") from None


def weights_digest(path: str | Path) -> str:
    """sha256 hex of a checkpoint folder's weights (or of one file): what identifies "these
    weights" for every cache, in memory and on disk, whatever the folder is called. Memoised by
    (path, mtime, size), so a call costs one stat unless the weights changed."""
    path = Path(path)
    if path.is_dir():
        path = path / WEIGHTS
    stat = path.stat()
    memo = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if memo not in _digests:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _digests[memo] = h.hexdigest()
    return _digests[memo]
