"""Hostile ONNX graphs at load (tests/onnx_attacks.py builds them as an attacker would): each is
refused with one line naming the file, and nothing outside the model's folder is opened on the
way, not even the secret beside it or in the working directory, where onnxruntime looked."""
from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time

import numpy as np
import onnx
import pytest
from onnx_attack_cases import LOAD_CASES, SECRET
from onnx_attacks import file_reading_decoder, linked_weights, write
from onnx_factories import linear_pair

from aecore.checkpoint import DECODER, ENCODER, CheckpointError, load_checkpoint
from aecore.latent import decode_codes
from aecore.models import onnx_files, onnx_ops

SLOW = {"protobuf of 8 million empty operators (16 MB)", "a graph over 64 MB", "20,000 operators"}
_opened: list[list[str]] = []


def _record(event: str, args) -> None:
    if event == "open" and _opened and isinstance(args[0], (str, bytes)):
        _opened[-1].append(os.fsdecode(args[0]))


sys.addaudithook(_record)  # audit hooks cannot be removed: this one records only inside opened()


@contextlib.contextmanager
def opened():
    """The paths Python opens inside the block (the server's side: onnxruntime runs in a worker
    that is given the graphs as bytes)."""
    _opened.append([])
    try:
        yield _opened[-1]
    finally:
        _opened.pop()


def _outside(paths: list[str], folder) -> list[str]:
    """The opened paths that are neither in `folder`, nor Python's own modules, nor what starting
    a worker opens (/dev/null for its output, its empty folder when it is removed)."""
    code = (".py", ".pyc", ".so")
    ours = (str(folder.resolve()) + os.sep, os.path.join(tempfile.gettempdir(), "aecore-onnx-"))
    return [p for p in paths if not os.path.realpath(p).startswith(ours) and p != os.devnull
            and not p.endswith(code) and "/__pycache__" not in p]


@pytest.fixture
def hostile(tmp_path, monkeypatch):
    """A sound model folder m/ whose parent and working directory hold SECRET."""
    (tmp_path / SECRET).write_bytes(b"the server's secret " * 100)
    monkeypatch.chdir(tmp_path)  # where onnxruntime resolved a relative location from
    linear_pair(tmp_path / "m")
    return tmp_path / "m"


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if c in SLOW else c for c in LOAD_CASES])
def test_a_hostile_graph_is_refused_at_load_with_one_line_naming_the_file(hostile, case):
    make, file, message = LOAD_CASES[case]
    make(hostile)
    start = time.perf_counter()
    with opened() as paths, pytest.raises(CheckpointError, match=message) as err:
        load_checkpoint(hostile)
    assert time.perf_counter() - start < 30  # the limits' worst: a worker stopped at CALL_SECONDS is 30 s
    assert str(hostile / file) in str(err.value) and "\n" not in str(err.value)
    assert "secret" not in str(err.value).replace(SECRET, "")  # the file's name at most, never what it holds
    assert _outside(paths, hostile) == []


def test_what_a_refused_graph_would_have_read_is_never_shown(hostile):
    """The first round's attack: a decoder that shows a file's bytes as its images. Kept beside
    the graph, the file is the model's own weights and is shown; from anywhere else it is refused."""
    write(hostile, DECODER, file_reading_decoder("w.bin", "sparse values"))
    write(hostile, "w.bin", bytes(range(256)) * 4)
    images = decode_codes(load_checkpoint(hostile).model, np.zeros((1, 3), np.float32))
    assert bytes(np.rint(images[0].ravel() * 255).astype(np.uint8)) == (bytes(range(256)) * 4)[:784]
    (hostile / "w.bin").unlink()
    with pytest.raises(CheckpointError, match=f"{DECODER}: keeps its weights in a separate file 'w.bin', not found"):
        load_checkpoint(hostile)


def test_a_link_inside_the_folder_is_followed(hostile, images):
    w = linear_pair(hostile)
    linked_weights(hostile, "real.data")
    model = load_checkpoint(hostile).model
    np.testing.assert_array_equal(model.first_layer_weights(), w["we"])


def test_the_worker_gets_graphs_that_refer_to_no_file(hostile):
    """Weights kept beside the graph are inlined: what onnxruntime sees has no external data."""
    m = onnx.load(hostile / ENCODER)
    onnx.save(m, hostile / ENCODER, save_as_external_data=True, location="encoder.onnx.data", size_threshold=0)
    model = load_checkpoint(hostile).model
    for _, graph in model.encoder_graph.sandbox.graphs.values():
        parsed = onnx.load_model_from_string(graph)
        assert not [t.name for t in onnx_files.tensors(parsed) if onnx_files.is_external(t)]


def test_the_allow_list_holds_what_exporters_write():
    """What torch.onnx.export writes for aecore's mlp and conv models and the README's example,
    (dynamo and TorchScript), and tf2onnx for Keras Dense and Conv2D, is allowed; control flow is not."""
    torch_ops = {"Gemm", "Relu", "Reshape", "Sigmoid", "Conv", "ConvTranspose", "Flatten", "Add", "Concat",
                 "Constant", "Mod", "Shape", "Slice", "MaxPool", "AveragePool", "Elu", "Gelu", "LeakyRelu", "Tanh",
                 "LayerNormalization", "Resize", "Softplus", "HardSigmoid", "Greater", "Where", "Mul"}
    keras_ops = {"MatMul", "Add", "Transpose", "Conv", "ConvTranspose", "Reshape", "Cast", "Squeeze", "Unsqueeze",
                 "Gather", "Identity", "BatchNormalization", "Upsample"}
    assert torch_ops | keras_ops <= onnx_ops.ALLOWED
    assert not {"Loop", "Scan", "If", "ConstantOfShape", "Expand", "Tile", "Range"} & onnx_ops.ALLOWED
