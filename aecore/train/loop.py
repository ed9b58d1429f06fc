"""Training: a plain function with callbacks, readable top to bottom. After every epoch it
records the losses, and after each epoch a history keeps (history.py) the map that the app
replays; a stop request keeps the last finished epoch. The same loop runs on a GPU, and as one
of torchrun's processes (distributed.py)."""
from __future__ import annotations

import copy
import math
import time
from functools import partial
from dataclasses import dataclass, field
from typing import Callable, Protocol

import torch

from ..checks import lookup
from ..config import ModelConfig, TrainConfig
from ..data import load_dataset
from ..devices import resolve_device
from ..models import Autoencoder, build_model
from .batches import as_floats, random_shift, split_train_val
from .distributed import Processes
from .history import Recorder

ALONE = Processes()  # one process on the CPU


class TrainingError(RuntimeError):
    """Training stopped: a loss term became NaN or infinite."""


class TrainingStopped(RuntimeError):
    """A stop was asked for before the first epoch finished: there is no model to keep."""


class Stop(Protocol):
    def is_set(self) -> bool: ...  # e.g. a threading.Event


class _Stopped(Exception):
    pass


@dataclass
class TrainResult:
    model: Autoencoder
    history: list[dict]            # per epoch: {"epoch", "train": {term: mean}, "val": {...}, "seconds", "record_seconds"}
    seconds: float                 # wall-clock training time
    dataset: dict = field(default_factory=dict)  # name, split, train/val sizes
    recorder: Recorder | None = None  # the maps and reconstructions after each epoch
    stopped: bool = False          # a stop request ended training after the last recorded epoch
    trained_with: dict = field(default_factory=dict)  # device, world_size, ...: config.json's "trained_with"


def run_epoch(model, images, sampler, generator, optimizer=None, on_batch=None, epoch=0,
              augment_shift: int = 0, stop: Stop | None = None, averaged=None,
              processes: Processes = ALONE, objective=None, shard=None, precision: str = "float32") -> dict:
    """One pass; trains when an optimizer is given. Returns the mean of every loss term (over
    this process's batches). Batches are drawn whole and augmented alike in every process, which
    then keeps its share (distributed.py; `shard` as model.shard); `objective` is model.loss or
    its DDP wrapper; `averaged`, a weight average updated after every step; `precision`
    "bfloat16" runs the training steps under autocast."""
    objective, shard = objective or model.loss, shard or model.shard
    sums: dict[str, float] = {}
    batches = 0
    for idx in sampler(generator):
        if stop is not None and stop.is_set():
            raise _Stopped
        x = images[idx.to(images.device)]
        if augment_shift:
            x = random_shift(x, augment_shift, generator)
        x = as_floats(x)
        x, weight = processes.share(shard, x)
        if x is None:
            continue
        index = shard(idx, processes.rank, processes.world_size)  # the images' indices, split alike
        with torch.autocast(x.device.type, torch.bfloat16, enabled=optimizer is not None and precision == "bfloat16"):
            terms = objective(x, index=index)
        check_finite(terms, epoch)
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            (terms["loss"] * weight).backward()
            optimizer.step()
            if averaged is not None:
                averaged.update_parameters(model)
        for name, value in terms.items():
            sums[name] = sums.get(name, 0.0) + float(value.detach())
        batches += 1
        if on_batch:
            on_batch(float(terms["loss"].detach()))
    return {name: total / max(batches, 1) for name, total in sums.items()}


def _cosine(optimizer, epochs: int):
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)


LR_SCHEDULES = {"constant": lambda optimizer, epochs: None, "cosine": _cosine}


def check_finite(terms: dict, epoch: int) -> None:
    values = {name: float(value.detach()) for name, value in terms.items()}
    for name, value in values.items():
        if not math.isfinite(value):
            bad = [n for n, v in values.items() if n != "loss" and not math.isfinite(v)]
            raise TrainingError(f"loss became {value} at epoch {epoch} (term: {', '.join(bad) or name}); "
                                "try a lower --lr or a smaller penalty weight")


def train(model_cfg: ModelConfig, train_cfg: TrainConfig,
          on_epoch: Callable[[dict], None] | None = None,
          on_batch: Callable[[float], None] | None = None,
          recorder: Recorder | None = None, record: bool = True,
          stop: Stop | None = None, device: str = "cpu",
          processes: Processes | None = None) -> TrainResult:
    """Train a fresh model; deterministic on CPU for a given seed.

    on_epoch(record) is called after every epoch with the history record; on_batch(loss) after
    every training batch (for progress bars). The recorder (by default a new one on the
    dataset's test split; record=False for none) has the epoch's map before on_epoch is called.
    When `stop.is_set()` between two batches, training ends with the last finished epoch's model.
    A model may warm-start itself first (its `warm_start` epochs are history like any other).
    device: auto | cpu | cuda | mps (aecore.devices) for one process; `processes` (from
    distributed.launched) instead for torchrun's group, where train_cfg.batch_size is per process
    and only rank 0 validates and records. The model is handed back on the CPU, in eval mode.
    """
    processes = processes or Processes(resolve_device(device))
    torch.manual_seed(train_cfg.seed)
    model = build_model(model_cfg)
    processes.seed_noise(train_cfg.seed)
    make_schedule = lookup(LR_SCHEDULES, train_cfg.lr_schedule, "lr_schedule")
    train_cpu, val_cpu, train_batches, val_batches, info = _images(model, train_cfg, processes)
    train_x, val_x = train_cpu.to(processes.device), val_cpu.to(processes.device)
    if not processes.is_main:  # rank 0 alone validates and records
        recorder, record, val_batches = None, False, None
    objective = processes.objective(model.to(processes.device))
    # fused: one kernel per step for all parameters (a quarter off an epoch of the wide models on CPU)
    optimizer = torch.optim.Adam(model.parameters(), lr=train_cfg.lr, weight_decay=train_cfg.weight_decay, fused=True)
    schedule = make_schedule(optimizer, train_cfg.epochs)
    shuffle = torch.Generator().manual_seed(train_cfg.seed + 1)
    averaged = _weight_average(model, train_cfg.ema)
    run = _Run(averaged.module if averaged else model, recorder if recorder or not record else Recorder(train_cfg.dataset),
               stop, on_epoch)
    start = time.perf_counter()
    try:
        warm_epochs, warm_batches, warm_shift = model.warm_start(train_cpu, train_cfg.batch_size, train_cfg.seed)
        warm_shift = train_cfg.augment_shift if warm_shift is None else warm_shift
        if run.recorder is not None:
            run.recorder.plan(warm_epochs + train_cfg.epochs, train_cfg.precision)
        # (phase, epochs, batches, shift, shard): the warm start's batches are of images, not of
        # edges, so they are dealt out as any kind's; it is neither validated nor scheduled
        phases = [("warm start", warm_epochs, warm_batches, warm_shift, partial(Autoencoder.shard, model))] \
            if warm_epochs else []
        phases.append((None, train_cfg.epochs, train_batches, train_cfg.augment_shift, None))
        epoch = 0
        for phase, epochs, batches, shift, shard in phases:
            for epoch in range(epoch + 1, epoch + epochs + 1):
                t0 = time.perf_counter()
                model.train()
                trained = run_epoch(model, train_x, batches, shuffle, optimizer, on_batch, epoch, shift, stop,
                                    averaged, processes, objective, shard, train_cfg.precision)
                record = {"epoch": epoch, **({"phase": phase} if phase else {}), "train": processes.mean(trained)}
                if phase is None and val_batches is not None:
                    record["val"] = validate(run.shown, val_x, val_batches, train_cfg.seed, epoch)
                if phase is None and schedule:
                    schedule.step()
                run.finish(record, t0)
            if phase:  # the warm start is over
                model.end_warm_start()
                objective = processes.objective(model)  # DDP anew: it syncs only what still learns
    except _Stopped:
        run.fall_back()
    return TrainResult(run.shown.eval().cpu(), run.history, time.perf_counter() - start, info, run.recorder,
                       run.stopped, processes.trained_with(train_cfg.batch_size))


def _images(model, train_cfg: TrainConfig, processes: Processes):
    """(train images, validation images) on the CPU, uint8 in the batch layout (N, C, H, W), their
    batch samplers, each batch the images of one optimizer step (all processes together), and
    the dataset's description. ValueError naming both shapes when the set's images are not the
    model's (aecore.checkpoint.fit)."""
    from ..checkpoint.fit import check_fit
    data = load_dataset(train_cfg.dataset, "train")
    check_fit(model, data, f"config ({model.config.body} {model.config.kind})")
    train_x, val_x = split_train_val(data.images, train_cfg)
    step_batch = train_cfg.batch_size * processes.world_size
    train_batches = model.batch_sampler(train_x, step_batch, train_cfg.seed)  # UMAP's graph: of these CPU images
    val_batches = model.batch_sampler(val_x, step_batch, train_cfg.seed) if len(val_x) else None
    info = {"name": data.name, "split": "train", "train_size": len(train_x), "val_size": len(val_x),
            "source_size": len(data.images), "image": model.image_shape.to_list()}
    return train_x, val_x, train_batches, val_batches, info


def validate(model, val_x, val_batches, seed: int, epoch: int) -> dict:
    """The mean loss terms on the held-out images (eval mode, no grad, the same batches each epoch)."""
    model.eval()
    with torch.no_grad():
        return run_epoch(model, val_x, val_batches, torch.Generator().manual_seed(seed + 2), epoch=epoch)


def _weight_average(model: Autoencoder, decay: float):
    """An exponential moving average of the weights (torch's AveragedModel), or None for decay 0."""
    if not decay:
        return None
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


class _Run:
    """What the epochs share: the model that is shown, measured and kept (the weight average when
    there is one), the history, the recorder, and what a stop falls back to."""

    def __init__(self, shown: Autoencoder, recorder: Recorder | None, stop: Stop | None, on_epoch):
        self.shown, self.recorder, self.stop, self.on_epoch = shown, recorder, stop, on_epoch
        self.history: list[dict] = []
        self.kept, self.stopped = None, False

    def finish(self, record: dict, t0: float) -> None:
        """Record the map, time the epoch, keep its weights for a stop, tell the caller."""
        if self.recorder is not None and self.recorder.due(record["epoch"]):
            before = self.recorder.seconds
            self.recorder.record(self.shown, record["epoch"])
            record["record_seconds"] = self.recorder.seconds - before
        record["seconds"] = time.perf_counter() - t0
        self.history.append(record)
        if self.stop is not None:  # what a stop in the next epoch falls back to
            self.kept = copy.deepcopy(self.shown.state_dict())
        if self.on_epoch:
            self.on_epoch(record)

    def fall_back(self) -> None:
        if self.kept is None:
            raise TrainingStopped("stopped before the first epoch finished: nothing to save")
        self.shown.load_state_dict(self.kept)
        self.stopped = True
        last = self.history[-1]["epoch"]
        if self.recorder is not None and self.recorder.epochs[-1:] != [last]:  # a history ends at its last epoch
            self.recorder.record(self.shown, last)


def save_result(path, result: TrainResult, train_cfg: TrainConfig, metrics: dict | None = None,
                about: dict | None = None):
    """Save what training produced as a checkpoint folder: weights, configs, history (the
    per-epoch records and the recorded maps and reconstructions), metrics and `about`; then the
    codes of its dataset's test split (aecore.checkpoint.codes), so the app maps it at once."""
    from ..checkpoint import save_checkpoint, store_codes
    path = save_checkpoint(path, result.model, train_cfg, result.dataset, result.seconds, result.history,
                           metrics, about, result.recorder.tensors() if result.recorder else None,
                           trained_with=result.trained_with or None)
    store_codes(path)
    return path
