"""Training on several processes with PyTorch's own engine: torchrun starts the processes (on one
machine or several) and gives each RANK, LOCAL_RANK, WORLD_SIZE and the rendezvous address in
its environment; DistributedDataParallel keeps their models equal by averaging the gradients
(backend gloo on CPU, nccl on CUDA). One process alone is the same thing with world_size 1.

How one optimizer step is split. Every process draws the same seeded batch of
batch_size x world_size images (one generator, seeded alike and consumed alike everywhere, so the
data is reshuffled each epoch from the seed and every process agrees on the order), then keeps
its share: every world_size-th image from its rank on, the way DistributedSampler deals out a
data set. Each process weights its mean loss by its share's size, so the averaged gradient is
the gradient of the mean over all the step's images: for a loss that is a mean of per-image
terms, N processes with --batch-size B/N take the steps one process takes with --batch-size B.
A kind whose loss couples the images of a batch (model.batch_coupling()) sees each process's
share only; `split_note` says so.

Only rank 0 validates, records the history, shows progress and writes the checkpoint.
"""
from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import torch
from torch import nn

from ..devices import resolve_device

TORCHRUN_ENV = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


class _Objective(nn.Module):
    """model.loss as a module's forward: DistributedDataParallel syncs gradients only of what
    runs through its forward, and the objective is loss(), not forward()."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, index: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        return self.model.loss(x, index=index)


@dataclass(frozen=True)
class Processes:
    """The processes one training runs on: this one alone (backend None), or torchrun's group."""

    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    rank: int = 0                  # this process's place in the group; 0 writes the checkpoint
    world_size: int = 1            # processes in the group, on every machine together
    backend: str | None = None     # gloo | nccl; None: no process group

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def seed_noise(self, seed: int) -> None:
        """Dropout, VAE sampling, denoising noise and UMAP's negatives come from torch's global
        generator: rank 0 keeps the one-process stream, each other rank gets its own."""
        if self.rank:
            torch.manual_seed(seed + 1_000_003 * self.rank)

    def objective(self, model: nn.Module) -> Callable[[torch.Tensor], dict]:
        """What a training batch goes through: model.loss, or its DDP wrapper in a group."""
        if self.backend is None:
            return model.loss
        from torch.nn.parallel import DistributedDataParallel
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(_Objective(model), device_ids=ids)

    def share(self, shard: Callable, batch: torch.Tensor) -> tuple[torch.Tensor | None, float]:
        """(this process's share of a step's batch, the weight of its mean loss), dealt by
        `shard(batch, rank, world)` (a model's shard). None when some process's share would be
        empty (a last batch smaller than world_size): every process skips that batch alike."""
        if self.world_size == 1:
            return batch, 1.0
        every = torch.arange(len(batch))
        sizes = [len(shard(every, r, self.world_size)) for r in range(self.world_size)]
        if min(sizes) == 0:
            return None, 0.0
        return shard(batch, self.rank, self.world_size), sizes[self.rank] * self.world_size / sum(sizes)

    def mean(self, terms: dict[str, float]) -> dict[str, float]:
        """The mean over the processes of each process's epoch means (a collective: every
        process calls it)."""
        if self.backend is None:
            return terms
        import torch.distributed as dist
        values = torch.tensor(list(terms.values()), dtype=torch.float64, device=self.device)
        dist.all_reduce(values)
        return dict(zip(terms, (values / self.world_size).tolist()))

    def trained_with(self, batch_size: int) -> dict:
        """config.json's "trained_with": how the checkpoint was trained."""
        return {"device": self.device.type, "world_size": self.world_size, "backend": self.backend,
                "batch_per_process": batch_size, "batch_per_step": batch_size * self.world_size}


def split_note(model: nn.Module, processes: Processes, batch_size: int) -> str | None:
    """One line for a kind whose loss couples a batch's images, when the batch is split."""
    why = model.batch_coupling()
    if why is None or processes.world_size == 1:
        return None
    return (f"note: {model.kind}: {why}; with {processes.world_size} processes it sees each process's "
            f"batch of {batch_size} (--batch-size), not the {batch_size * processes.world_size} images of "
            "a step, so pick --batch-size as the batch that term should see")


def under_torchrun() -> bool:
    """Whether torchrun (or another launcher of its kind) started this process."""
    return all(name in os.environ for name in TORCHRUN_ENV)


def _process_device(name: str, local_rank: int) -> torch.device:
    if name == "mps":
        raise ValueError("--device mps: PyTorch has no distributed backend for MPS; train in one "
                         "process on mps, or with torchrun on cpu (gloo) or cuda (nccl)")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = resolve_device(name, index=local_rank if name == "cuda" else None)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """Around the checkpoint write (main thread only). On Ctrl-C, or when one process fails,
    torchrun stops the others with SIGTERM, which would kill this one between two renames of
    the atomic write; here it unwinds instead (SystemExit), so the write's finally blocks put
    the old checkpoint back. While training nothing is written, so SIGTERM may kill at once
    there, also in the middle of a collective, where a Python handler would never run."""
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def launched(device: str = "auto") -> Iterator[Processes]:
    """This process's place in training: alone on `device`, or, when torchrun started it, its
    rank of the process group, joined here and left on exit."""
    if not under_torchrun():
        yield Processes(resolve_device(device))
        return
    import torch.distributed as dist
    rank, world, local = (int(os.environ[k]) for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"))
    here = _process_device(device, local)
    backend = "nccl" if here.type == "cuda" else "gloo"
    dist.init_process_group(backend, **({"device_id": here} if backend == "nccl" else {}))
    try:
        yield Processes(here, rank, world, backend)
        # Every process waits here until rank 0 has written the checkpoint, so none tears down
        # its side of the group while another still uses it (a rank that left early was seen to
        # abort in gloo's threads: "terminate called without an active exception").
        dist.barrier()
    finally:
        dist.destroy_process_group()
