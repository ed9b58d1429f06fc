"""Where tensors live: `--device auto|cpu|cuda|mps` for training and evaluation, $AECORE_DEVICE
for the app. auto takes CUDA, then Apple's MPS, then the CPU. Checkpoints never remember a
device: they are saved from CPU tensors and load on the CPU, and the caller moves the model."""
from __future__ import annotations

import os

from .checks import lookup

DEVICES = ("auto", "cpu", "cuda", "mps")
ENV = "AECORE_DEVICE"  # the app's device; unset means cpu


def _available(name: str) -> bool:
    import torch
    mps = getattr(torch.backends, "mps", None)
    return {"cpu": True, "cuda": torch.cuda.is_available(), "mps": bool(mps and mps.is_available())}[name]


def resolve_device(name: str = "auto", index: int | None = None):
    """The torch.device for a name in DEVICES; `index` picks one of several CUDA GPUs (a
    torchrun process's LOCAL_RANK). Raises ValueError when the named device is not present."""
    import torch  # here: the command line's download and report never wait for torch

    lookup(dict.fromkeys(DEVICES), name, "device")
    if name == "auto":
        name = next(n for n in ("cuda", "mps", "cpu") if _available(n))
    if not _available(name):
        raise ValueError(f"device {name!r} is not available to this torch ({torch.__version__}); "
                         "use --device cpu, or auto for the best device present")
    if name == "cuda" and index is not None:
        if index >= torch.cuda.device_count():
            raise ValueError(f"GPU {index} asked for, but torch sees {torch.cuda.device_count()}; "
                             "start at most that many processes per machine (--nproc_per_node)")
        return torch.device("cuda", index)
    return torch.device(name)


def app_device():
    """The device the app encodes on: $AECORE_DEVICE (auto|cpu|cuda|mps), else the CPU."""
    name = os.environ.get(ENV, "").strip() or "cpu"
    try:
        return resolve_device(name)
    except ValueError as e:
        raise ValueError(f"${ENV}={name}: {e}") from None
