"""Devices and the split of a training step between processes, in one process: each process's
share is what DistributedSampler would deal it, the shares' weighted gradients average to the
whole batch's gradient, kinds whose loss couples a batch say so, and a checkpoint records the
device it was trained on. The real torchrun runs are in test_torchrun.py."""
from __future__ import annotations

import json

import pytest
import torch
from factories import synthetic_digits, tiny_config
from torch.utils.data import DistributedSampler

from aecore import __main__ as cli
from aecore.devices import app_device, resolve_device
from aecore.models import build_model
from aecore.train.distributed import Processes, split_note

PLAIN = tiny_config("plain", "mlp")


def shares(model, batch, world):
    return [Processes(rank=r, world_size=world).share(model.shard, batch) for r in range(world)]


def test_each_process_gets_the_images_distributed_sampler_would_deal_it():
    model, n, per_process, world = build_model(PLAIN), 96, 16, 2
    epoch = model.batch_sampler(torch.zeros(n, 1, 28, 28), per_process * world)
    order = torch.cat(list(epoch(torch.Generator().manual_seed(1))))  # the epoch's shuffled order
    for rank in range(world):
        mine = torch.cat([shares(model, b, world)[rank][0]
                          for b in epoch(torch.Generator().manual_seed(1))])
        dealt = list(DistributedSampler(range(n), num_replicas=world, rank=rank, shuffle=False))
        assert torch.equal(mine, order[dealt])
    again = torch.cat(list(epoch(torch.Generator().manual_seed(1))))
    assert torch.equal(again, order)  # reshuffled from the seed: the same order in every process


def test_the_weighted_shares_average_to_the_gradient_of_the_whole_batch():
    model, x = build_model(PLAIN), synthetic_digits(7)  # 7 images: shares of 4 and 3

    def gradient(loss):
        model.zero_grad()
        loss.backward()
        return torch.cat([p.grad.flatten() for p in model.parameters()])
    whole = gradient(model.loss(x)["loss"])
    averaged = sum(gradient(model.loss(part)["loss"] * weight) for part, weight in shares(model, x, 2)) / 2
    assert torch.allclose(averaged, whole, rtol=1e-5, atol=1e-6)  # what DDP's averaged gradient gives Adam


def test_a_last_batch_too_small_to_split_is_skipped_by_every_process():
    model = build_model(PLAIN)
    assert all(part is None for part, _ in shares(model, synthetic_digits(2), 3))
    assert Processes().share(model.shard, synthetic_digits(1))[1] == 1.0  # one process keeps everything


def test_umap_processes_keep_whole_edges():
    model = build_model(tiny_config("umap", "mlp"))
    heads, tails = torch.arange(10), torch.arange(100, 110)  # edge i joins heads[i] and tails[i]
    for part, _ in shares(model, torch.cat([heads, tails]), 2):
        half = len(part) // 2
        assert torch.equal(part[half:] - 100, part[:half])


@pytest.mark.parametrize("kind, over, coupled", [
    ("plain", {}, False), ("vae", {}, False), ("contractive", {}, False), ("sparse", {"sparsity": "l1"}, False),
    ("sparse", {"sparsity": "kl"}, True), ("sparse", {"sparsity": "log"}, True),
    ("neighbour", {}, True), ("umap", {}, True)])
def test_kinds_whose_loss_couples_a_batch_say_what_a_split_does(kind, over, coupled):
    model = build_model(tiny_config(kind, "mlp", **over))
    note = split_note(model, Processes(world_size=2), 64)
    assert (note is not None) == coupled
    if coupled:
        assert "batch of 64" in note and "128 images" in note and "--batch-size" in note
    assert split_note(model, Processes(), 64) is None  # one process: nothing is split


def test_devices_resolve_or_say_what_to_use(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(ValueError, match="'cuda' is not available.*--device cpu"):
        resolve_device("cuda")
    with pytest.raises(ValueError, match="valid: auto, cpu, cuda, mps"):
        resolve_device("tpu")
    monkeypatch.delenv("AECORE_DEVICE", raising=False)
    assert app_device() == torch.device("cpu")
    monkeypatch.setenv("AECORE_DEVICE", "mps")
    with pytest.raises(ValueError, match=r"\$AECORE_DEVICE=mps"):
        app_device()


def test_a_checkpoint_records_its_device_and_an_absent_gpu_is_a_one_line_error(tmp_path, capsys, monkeypatch):
    args = ["train", "--hidden", "16", "--epochs", "1", "--max-train", "128", "--out"]
    assert cli.main([*args, str(tmp_path / "ck"), "--device", "cpu"]) == 0
    how = json.loads((tmp_path / "ck" / "config.json").read_text())["trained_with"]
    assert how == {"device": "cpu", "world_size": 1, "backend": None, "batch_per_process": 128,
                   "batch_per_step": 128}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    capsys.readouterr()
    assert cli.main([*args, str(tmp_path / "gpu"), "--device", "cuda"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: device 'cuda' is not available") and "\n" not in err
    assert not (tmp_path / "gpu").exists()
    assert cli.main(["evaluate", str(tmp_path / "ck"), "--device", "cuda", "--max-test", "50"]) == 1


def test_a_sigterm_between_the_two_renames_of_a_save_puts_the_old_checkpoint_back(tmp_path, monkeypatch):
    import os
    import pathlib
    import signal

    from aecore.checkpoint import save_checkpoint, weights_digest
    from aecore.train.distributed import sigterm_unwinds
    old = save_checkpoint(tmp_path / "ck", build_model(PLAIN), {}, {}, 0.0)
    digest, rename, before = weights_digest(old), pathlib.Path.rename, signal.getsignal(signal.SIGTERM)

    def rename_then_sigterm(self, target):  # torchrun's SIGTERM lands just after the old one moved aside
        moved = rename(self, target)
        if ".old-" in str(target):
            os.kill(os.getpid(), signal.SIGTERM)
        return moved
    monkeypatch.setattr(pathlib.Path, "rename", rename_then_sigterm)
    with pytest.raises(SystemExit), sigterm_unwinds():
        save_checkpoint(tmp_path / "ck", build_model(tiny_config("plain", "mlp", latent_dim=3)), {}, {}, 0.0)
    monkeypatch.undo()
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is only around the write
    assert weights_digest(old) == digest and sorted(p.name for p in tmp_path.iterdir()) == ["ck"]
