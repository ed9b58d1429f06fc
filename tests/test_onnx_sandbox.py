"""ONNX graphs run in a worker process with limits (aecore.models.onnx_sandbox): a graph that runs
too long, asks for too much memory, or gives NaN or an output of another shape on real digits (it
passed the load check on plain images) is stopped with one line naming its file, then refused at
once; the worker sees none of the server's environment or files; workers come and go with models."""
from __future__ import annotations

import gc
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from onnx_attacks import write
from onnx_bombs import data_dependent_encoder, resize_bomb_encoder, slow_encoder
from onnx_factories import linear_pair

from aecore.checkpoint import ENCODER, CheckpointError, load_checkpoint
from aecore.latent import decode_codes, encode_dataset
from aecore.models import onnx_sandbox


def _worker(model):
    process = model.encoder_graph.sandbox._process
    return process.popen if process else None


def _hostile(tmp_path, encoder) -> Path:
    folder = tmp_path / "m"
    linear_pair(folder)
    write(folder, ENCODER, encoder)
    return folder


def _refused_twice(model, images, message: str, seconds: float) -> None:
    """The first call ends in `message` within `seconds`; so does the next, at once."""
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=message) as first:
        encode_dataset(model, images)
    assert time.perf_counter() - start < seconds
    assert str(model.encoder_graph.file) in str(first.value) and _worker(model) is None
    start = time.perf_counter()
    with pytest.raises(CheckpointError) as again:
        encode_dataset(model, images)
    assert str(again.value) == str(first.value) and time.perf_counter() - start < 0.5


def test_a_graph_that_allocates_gigabytes_on_real_digits_only_is_stopped(tmp_path, images):
    model = load_checkpoint(_hostile(tmp_path, resize_bomb_encoder())).model  # plain images: no spread, no bomb
    _refused_twice(model, images[:4, 0], "needed more than the 2 GB of memory a graph may use|past the 2 GB", 20)


@pytest.mark.slow
def test_a_graph_that_never_finishes_is_stopped_at_the_time_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(onnx_sandbox, "CALL_SECONDS", 2.0)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=f"{ENCODER}: took more than 2 s on 3 inputs, the limit for one call "
                                              "of a graph, and was stopped; an encoder or decoder of 28x28 grey "
                                              "images needs milliseconds"):  # the model's own images
        load_checkpoint(_hostile(tmp_path, slow_encoder()))  # the load check's three images
    assert time.perf_counter() - start < 15  # 2 s, a worker's start, and a busy machine's slack


@pytest.mark.slow
def test_a_graph_that_hangs_only_on_real_digits_passes_the_load_check_and_is_stopped(tmp_path, monkeypatch, images):
    monkeypatch.setattr(onnx_sandbox, "CALL_SECONDS", 2.0)
    model = load_checkpoint(_hostile(tmp_path, slow_encoder(on_digits=True))).model
    _refused_twice(model, images[:4, 0], f"{ENCODER}: took more than 2 s on 4 inputs", 15)


@pytest.mark.slow
def test_a_graph_past_its_cpu_time_is_ended_by_the_kernel(tmp_path, monkeypatch):
    monkeypatch.setattr(onnx_sandbox, "CPU_SECONDS", 1.0)
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=f"{ENCODER}: used more than 1 s of CPU time on 3 inputs"):
        load_checkpoint(_hostile(tmp_path, slow_encoder()))
    assert time.perf_counter() - start < onnx_sandbox.CALL_SECONDS  # the kernel's doing, before the wall clock's


@pytest.mark.parametrize("change, message", [
    ("nan", "gave NaN or infinite values for 8 inputs"),
    ("batch", r"gave an output of shape \(7, 3\) for 8 inputs; a graph must give one output per input"),
    ("size", "gave 2 values per input, not the 3 it gave when it was loaded"),
])
def test_outputs_that_change_on_real_digits_are_caught_naming_the_file(tmp_path, images, change, message):
    model = load_checkpoint(_hostile(tmp_path, data_dependent_encoder(change))).model
    with pytest.raises(CheckpointError, match=f"{ENCODER}: {message}"):
        encode_dataset(model, images[:8, 0])
    codes = encode_dataset(model, np.zeros((8, 28, 28), np.float32))  # plain images still work: not a breach
    assert codes.shape == (8, 3) and np.isfinite(codes).all()


def test_the_worker_has_limits_no_folder_and_none_of_the_servers_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("AECORE_TEST_SECRET", "hunter2")
    linear_pair(tmp_path / "m")
    box = onnx_sandbox.Sandbox({"encoder": (tmp_path / "m" / ENCODER, (tmp_path / "m" / ENCODER).read_bytes())})
    assert box.run("encoder", np.zeros((2, 1, 28, 28), np.float32), max_values=6).shape == (2, 3)
    pid = box._process.popen.pid
    assert b"hunter2" not in Path(f"/proc/{pid}/environ").read_bytes()
    folder = os.readlink(f"/proc/{pid}/cwd")  # a relative path leads nowhere: its folder is gone
    assert Path(folder).name.startswith("aecore-onnx-") and folder.endswith(" (deleted)")
    limits = {line[:26].strip(): line[26:].split() for line in Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]}
    assert limits["Max file size"][:2] == ["0", "0"] and limits["Max core file size"][:2] == ["0", "0"]
    assert int(limits["Max address space"][0]) < onnx_sandbox.MEMORY_BYTES + 2**30
    del box  # a model's worker ends with it
    gc.collect()
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    assert not Path(folder.removesuffix(" (deleted)")).exists()


def test_a_worker_that_died_or_was_stopped_for_room_is_started_again(tmp_path, monkeypatch, images):
    monkeypatch.setattr(onnx_sandbox, "MAX_LIVE", 2)
    models = []
    for i in range(3):
        linear_pair(tmp_path / f"m{i}", seed=i)
        models.append(load_checkpoint(tmp_path / f"m{i}").model)
    assert onnx_sandbox.live_workers() <= 2 and _worker(models[0]) is None  # the least recently used stopped
    want = [encode_dataset(m, images[:5, 0]) for m in models]  # each starts again when called
    worker = _worker(models[1])
    worker.kill()  # as an outside hand would, between two calls
    worker.wait()
    np.testing.assert_array_equal(encode_dataset(models[1], images[:5, 0]), want[1])
    assert onnx_sandbox.live_workers() <= 2


def test_sessions_calling_one_model_at_once_each_get_their_own_answer(tmp_path, images):
    linear_pair(tmp_path / "m")
    model = load_checkpoint(tmp_path / "m").model
    batches = [images[i:i + 50, 0] for i in range(0, 200, 50)]
    want = [decode_codes(model, encode_dataset(model, b)) for b in batches]
    got: dict[int, np.ndarray] = {}

    def visit(i: int) -> None:
        got[i] = decode_codes(model, encode_dataset(model, batches[i]))
    threads = [threading.Thread(target=visit, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, w in enumerate(want):
        np.testing.assert_array_equal(got[i], w)


@pytest.mark.slow
def test_a_folder_is_loaded_once_while_its_files_stay_as_they_are(tmp_path, monkeypatch, images):
    """The checkpoint list, the picker's label and the page each load a folder: one model, one
    worker; a changed file loads it again; a refusal that took the time limit is repeated at once."""
    linear_pair(tmp_path / "m")
    first = load_checkpoint(tmp_path / "m").model
    assert load_checkpoint(tmp_path / "m").model is first
    w = linear_pair(tmp_path / "m", seed=1)  # new weights, same sizes
    again = load_checkpoint(tmp_path / "m").model
    assert again is not first
    np.testing.assert_allclose(encode_dataset(again, images[:3, 0]),
                               images[:3].numpy().reshape(3, 784) @ w["we"].T + w["be"], atol=1e-5)
    monkeypatch.setattr(onnx_sandbox, "CALL_SECONDS", 2.0)
    folder = _hostile(tmp_path / "slow", slow_encoder())
    with pytest.raises(CheckpointError, match="took more than 2 s") as refused:
        load_checkpoint(folder)
    start = time.perf_counter()
    with pytest.raises(CheckpointError) as again_refused:
        load_checkpoint(folder)
    assert str(again_refused.value) == str(refused.value) and time.perf_counter() - start < 0.5


def test_without_memfd_as_on_macos_inputs_and_outputs_go_through_an_unlinked_file(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "memfd_create")
    linear_pair(tmp_path / "m")
    file = tmp_path / "m" / ENCODER
    box = onnx_sandbox.Sandbox({"encoder": (file, file.read_bytes())})
    x = np.random.default_rng(0).random((300, 1, 28, 28), np.float32)
    codes = box.run("encoder", x, max_values=900)
    box.close()
    linear = onnx_sandbox.Sandbox({"encoder": (file, file.read_bytes())})
    monkeypatch.undo()
    np.testing.assert_array_equal(codes, linear.run("encoder", x, max_values=900))
    linear.close()


def test_a_worker_that_cannot_start_is_said_so_and_the_next_call_tries_again(tmp_path, monkeypatch):
    linear_pair(tmp_path / "m")
    file = tmp_path / "m" / ENCODER
    box = onnx_sandbox.Sandbox({"encoder": (file, file.read_bytes())})
    monkeypatch.setattr(onnx_sandbox, "WORKER", tmp_path / "missing.py")  # as when onnxruntime cannot import
    with pytest.raises(CheckpointError, match=f"{ENCODER}: the worker process that runs ONNX graphs did not start"):
        box.run("encoder", np.zeros((1, 784), np.float32), max_values=3)
    monkeypatch.undo()  # not a breach: the graph is not to blame
    assert box.run("encoder", np.zeros((1, 1, 28, 28), np.float32), max_values=3).shape == (1, 3)
    box.close()
