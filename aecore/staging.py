"""What aecore.explore is given, made into a checkpoint folder of its session (and its images into
a dataset beside it): torch modules exported as ONNX graphs, a folder or a pair of ONNX graphs
copied, an aecore checkpoint copied. Each is first built in the session's staging/ and loaded as
the app will load it, and only then moved into checkpoints/, where the running server sees it.
Every problem is a ValueError (or OSError for a file that cannot be read) saying what to give.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from .checkpoint import CONFIG, DECODER, ENCODER, ONNX_JSON, CheckpointError, is_onnx_folder, load_checkpoint
from .checkpoint.names import name_from, unique_name

FORMS = ("an encoder and a decoder (torch.nn.Module), a checkpoint folder (aecore's, or one holding "
         "encoder.onnx and decoder.onnx), or the paths of encoder.onnx and decoder.onnx")


def add_model(root: Path, model, decoder, images, data: tuple | None, name: str | None, meta: dict,
              datasets: dict[str, str]) -> tuple[str, str | None]:
    """Stage `model` (see FORMS) and `data` ((uint8 images, labels, class names), or None) in the
    session folder `root`; (its name in root/checkpoints, its dataset's name or None). `datasets`
    ({digest: name}) is updated: the same images given twice are one dataset."""
    staging = root / "staging" / "model"
    import torch
    title = {"name": name} if name else {}  # the model card's title; the picker's name is made of it too
    if isinstance(model, torch.nn.Module):
        default = _stage_modules(staging, model, decoder, images, data,
                                 {"name": "notebook model", "kind": "PyTorch (onnx)", **meta, **title})
    elif isinstance(model, (str, os.PathLike)) and Path(model).suffix == ".onnx":
        default = _stage_pair(staging, Path(model), decoder, {**meta, **title})
    elif isinstance(model, (str, os.PathLike)):
        if decoder is not None:
            raise ValueError(f"{model} is a folder: it holds the decoder too, so pass no decoder")
        default = _stage_folder(staging, Path(model), meta, title)
    else:
        raise TypeError(f"model is a {type(model).__name__}: give {FORMS}")
    dataset = _write_data(root, data, datasets, name or default) if data else None
    if dataset and is_onnx_folder(staging):  # the graphs' own data: each page opens on it
        onnx_json = json.loads((staging / ONNX_JSON).read_text())
        (staging / ONNX_JSON).write_text(json.dumps({**onnx_json, "dataset": dataset}, indent=2) + "\n")
    entry = unique_name(name_from(name or default, "model"), set(os.listdir(root / "checkpoints")))
    staging.rename(root / "checkpoints" / entry)
    return entry, dataset


def _stage_modules(staging: Path, encoder, decoder, images, data, meta: dict) -> str:
    from .models.from_torch import write_onnx_folder
    import torch
    if not isinstance(decoder, torch.nn.Module):
        raise ValueError(f"the decoder is a {type(decoder).__name__}: give explore(encoder, decoder, images, labels) "
                         "with both as torch.nn.Module")
    if data:
        pixels = data[0]
    else:  # no images: the modules are checked on the digits export-onnx checks on (MNIST's shape)
        from .data import load_dataset
        pixels = np.asarray(load_dataset("mnist-sample", "test").images[:64])
    shape = tuple(getattr(images, "shape", ()))[1:] or None  # the encoder's input layout, as the images come
    write_onnx_folder(encoder, decoder, staging, pixels, shape, meta)
    return "notebook"


def _stage_pair(staging: Path, encoder: Path, decoder, meta: dict) -> str:
    """encoder.onnx and decoder.onnx from their files (each with the weights torch keeps beside it
    in <file>.data, under that name, which the graph refers to)."""
    if not isinstance(decoder, (str, os.PathLike)) or Path(decoder).suffix != ".onnx":
        raise ValueError(f"{encoder} is an encoder graph: pass the decoder graph's path too "
                         "(explore('encoder.onnx', 'decoder.onnx', images))")
    decoder = Path(decoder)
    staging.mkdir(parents=True)
    for source, target in ((encoder, ENCODER), (decoder, DECODER)):
        _copy(source, staging / target)
        weights = source.with_name(source.name + ".data")
        if weights.is_file():
            if (staging / weights.name).exists():
                raise ValueError(f"{encoder} and {decoder} both keep their weights in a file named {weights.name}: "
                                 "export them with external_data=False, or under different names")
            _copy(weights, staging / weights.name)
    (staging / ONNX_JSON).write_text(json.dumps({"name": encoder.resolve().parent.name, **meta}, indent=2) + "\n")
    _check(staging)
    return encoder.resolve().parent.name


def _stage_folder(staging: Path, folder: Path, meta: dict, title: dict) -> str:
    """A copy of the checkpoint folder's files; onnx.json updated with `meta` and `title` for ONNX
    graphs (an aecore checkpoint's config.json keeps its own title)."""
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder or .onnx file; give {FORMS}")
    onnx = is_onnx_folder(folder)
    if not onnx and not (folder / CONFIG).is_file():
        raise ValueError(f"{folder}: neither an aecore checkpoint ({CONFIG} + model.safetensors) nor a folder "
                         f"of ONNX graphs ({ENCODER} + {DECODER})")
    if meta and not onnx:
        raise ValueError(f"{folder} is an aecore checkpoint, whose config says how to run it: pass no "
                         f"{', '.join(meta)}")
    staging.mkdir(parents=True)
    for file in sorted(folder.iterdir()):
        if file.is_file():
            _copy(file, staging / file.name)
    if onnx:
        given = staging / ONNX_JSON
        onnx_json = json.loads(given.read_text()) if given.is_file() else {}
        if not isinstance(onnx_json, dict):
            raise ValueError(f"{folder / ONNX_JSON}: expected an object such as {{\"name\": \"my model\"}}")
        given.write_text(json.dumps({**onnx_json, **meta, **title}, indent=2) + "\n")
    _check(staging)
    return folder.resolve().name


def _copy(source: Path, target: Path) -> None:
    if not source.is_file():
        raise ValueError(f"{source}: no such file")
    shutil.copyfile(source, target)


def _check(folder: Path) -> None:
    """Load the folder as the app will; ValueError with the loader's reason."""
    try:
        model = load_checkpoint(folder).model
    except CheckpointError as e:
        raise ValueError(str(e).replace(str(folder) + os.sep, "")) from None
    if hasattr(model, "encoder_graph"):
        model.encoder_graph.sandbox.close()  # its worker process ends now; the app starts its own


def _write_data(root: Path, data: tuple, datasets: dict[str, str], name: str) -> str:
    """The images' dataset in root/data: the one already there for the same images, else a new
    .npz named after the model, unlike any dataset of this machine's."""
    from .data import datasets as known
    from .data.from_arrays import digest, write_dataset
    key = digest(*data)
    if key not in datasets:
        taken = {*known(), *datasets.values()}
        dataset = unique_name(name_from(name, "notebook"), taken)
        file = write_dataset(root / "staging" / f"{dataset}.npz", *data)
        file.rename(root / "data" / file.name)  # whole: the server may list the folder meanwhile
        datasets[key] = dataset
    return datasets[key]
