"""Training with torchrun, as the README runs it: two gloo processes on the CPU write one
checkpoint that loads, learned, says how it was trained and opens in the app; with half the
batch each they train the weights one process trains with the whole batch; a crash on one
process or a Ctrl-C leaves the checkpoint at --out as it was."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from factories import APP

from aecore.checkpoint import load_checkpoint, weights_digest
from aecore.config import ModelConfig, TrainConfig
from aecore.train import train

pytestmark = pytest.mark.slow  # each run starts three Pythons with torch: about 10 s

REPO = APP.parent
# 1,037 train images: 8 steps of 128 and one of 13, which two processes split 7 + 6
SETTINGS = {"dataset": "mnist-sample", "epochs": 3, "max_train": 1152, "seed": 0}
MODEL = ModelConfig(kind="plain", latent_dim=2, hidden=[32])
FLAGS = ["train", "--kind", "plain", "--latent-dim", "2", "--hidden", "32", "--epochs", "3",
         "--max-train", "1152", "--seed", "0"]


def torchrun(*args: str, script: tuple = ("-m", "aecore"), **popen) -> subprocess.Popen:
    """`torchrun --standalone --nproc_per_node=2 <script> <args>` from the repository root."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "AECORE_NO_WARMUP": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", *script, *args]
    return subprocess.Popen(cmd, cwd=REPO, env=env, text=True, **popen)


def finished(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out or "", err or ""


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory) -> tuple[Path, str]:
    """The checkpoint of a 2-process run with --batch-size 64 per process, and its stdout."""
    out = tmp_path_factory.mktemp("torchrun") / "plain-2x64"
    code, stdout, stderr = finished(torchrun(*FLAGS, "--batch-size", "64", "--out", str(out),
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    assert code == 0, stderr[-3000:]
    return out, stdout


def test_two_processes_write_one_checkpoint_that_loads_and_learned(two_processes):
    out, stdout = two_processes
    assert stdout.count("saved ") == 1  # rank 0 alone writes
    ckpt = load_checkpoint(out)
    assert ckpt.config["trained_with"] == {"device": "cpu", "world_size": 2, "backend": "gloo",
                                           "batch_per_process": 64, "batch_per_step": 128}
    losses = [r["train"]["loss"] for r in ckpt.config["history"]]
    assert len(losses) == 3 and losses == sorted(losses, reverse=True) and losses[-1] < 0.95 * losses[0]
    assert len(ckpt.recorded()["maps"]) == 3  # rank 0 recorded every epoch


def test_half_the_batch_on_two_processes_trains_what_the_whole_batch_trains_on_one(two_processes):
    two = load_checkpoint(two_processes[0]).model.state_dict()
    one = train(MODEL, TrainConfig(**SETTINGS, batch_size=128), record=False).model.state_dict()
    half = train(MODEL, TrainConfig(**SETTINGS, batch_size=64), record=False).model.state_dict()
    gap = max(float((two[k] - one[k]).abs().max()) for k in one)
    other = max(float((half[k] - one[k]).abs().max()) for k in one)
    assert gap < 1e-4 and other > 100 * gap  # not merely similar: another batch size is far off


def test_the_checkpoint_opens_in_the_app(two_processes, open_page, monkeypatch):
    out = two_processes[0]
    monkeypatch.setenv("AECORE_CHECKPOINTS", str(out.parent))
    at = open_page("pages/1_overview.py", out.name)
    assert not at.exception and not at.error
    assert "on 2 cpu processes (gloo)" in at.table[0].value.loc["training time"].iloc[0]
    at = open_page("pages/2_latent_map.py", out.name)
    assert not at.exception and not at.error and at.get("plotly_chart")


def copy_of(checkpoint: Path, folder: Path) -> tuple[Path, str]:
    target = folder / "ck"
    shutil.copytree(checkpoint, target)
    return target, weights_digest(target)


def test_a_crash_on_one_process_leaves_the_old_checkpoint_as_it_was(two_processes, tmp_path):
    out, digest = copy_of(two_processes[0], tmp_path)
    code, _, stderr = finished(torchrun(*FLAGS, "--batch-size", "64", "--seed", "1", "--out", str(out),
                                        script=("tests/crash_on_rank_1.py",),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    assert code != 0 and "rank 1 crashed on purpose" in stderr
    assert weights_digest(out) == digest and load_checkpoint(out).config["training"]["seed"] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]  # no half-written folder beside it


def test_ctrl_c_stops_every_process_and_leaves_the_old_checkpoint(two_processes, tmp_path):
    out, digest = copy_of(two_processes[0], tmp_path)
    log = tmp_path.parent / f"{tmp_path.name}.log"
    with open(log, "w") as err:
        proc = torchrun(*[f if f != "3" else "500" for f in FLAGS], "--out", str(out),
                        stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 90
        while "epochs:" not in log.read_text() or " 1/500" not in log.read_text():  # training is under way
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.5)
        proc.send_signal(signal.SIGINT)  # what Ctrl-C sends torchrun (its workers run in their own sessions)
        code = proc.wait(timeout=60)
    assert code != 0
    assert weights_digest(out) == digest and sorted(p.name for p in tmp_path.iterdir()) == ["ck"]
    assert torch.equal(load_checkpoint(out).model.state_dict()["bottleneck.linear.bias"],
                       load_checkpoint(two_processes[0]).model.state_dict()["bottleneck.linear.bias"])
