"""model.safetensors read against the config that describes its model: the header's names,
shapes and dtypes are compared with that model's (built on the meta device, so no memory)
before a byte of data is read; then every value must be finite, and so must what the model
makes of plain test images. Each check raises ValueError; aecore.checkpoint names the file."""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from ..checks import shown
from ..config import ModelConfig
from ..models import Autoencoder, build_model

AGAIN = "retrain the model or load another checkpoint"


class NotSafetensors(ValueError):
    """The file is not a readable safetensors file at all."""


def expected_tensors(cfg: ModelConfig) -> dict[str, tuple[int, ...]]:
    """{name: shape} of the state dict of cfg's model, built on the meta device: no memory."""
    with torch.device("meta"):
        return {k: tuple(v.shape) for k, v in build_model(cfg).state_dict().items()}


def check_tensors(expected: dict[str, tuple], found: dict[str, tuple[tuple, str]]) -> None:
    """found: {name: (shape, dtype)} from a header; ValueError listing what does not match."""
    shapes = {k: shape for k, (shape, _) in found.items()}
    problems = []
    if missing := sorted(set(expected) - set(found)):
        problems.append(f"missing tensors {missing[:5]}")
    if extra := sorted(set(found) - set(expected)):
        problems.append(f"unexpected tensors {shown(extra[:5], 120)}")
    if bad := [f"{k} is {shapes[k]}, expected {expected[k]}" for k in expected if k in found and shapes[k] != expected[k]]:
        problems.append("mis-shaped: " + "; ".join(bad[:3]))
    if dtypes := [f"{k} is {d}" for k, (_, d) in found.items() if k in expected and d != "F32"]:
        problems.append("not float32: " + "; ".join(dtypes[:3]))
    if problems:
        raise ValueError(f"weights do not match config.json ({' / '.join(problems)}); "
                         "the two files must come from the same checkpoint")


def read_weights(file: Path, cfg: ModelConfig) -> dict[str, torch.Tensor]:
    """The tensors of `file` once its header matches cfg's model: then only as many bytes are
    read as that model has. NotSafetensors when the file cannot be read as safetensors."""
    try:
        with safe_open(file, framework="pt") as f:
            slices = {k: f.get_slice(k) for k in f.keys()}
            check_tensors(expected_tensors(cfg), {k: (tuple(s.get_shape()), s.get_dtype()) for k, s in slices.items()})
            state = {k: f.get_tensor(k) for k in slices}
    except (SafetensorError, RuntimeError, OSError, OverflowError) as e:
        raise NotSafetensors(f"not a safetensors file ({str(e)[:120]})") from None
    for name, tensor in state.items():
        if not (finite := torch.isfinite(tensor)).all():
            raise ValueError(f"tensor {name} holds {int((~finite).sum()):,} NaN or infinite value(s) of "
                             f"{tensor.numel():,}; the weights are broken: {AGAIN}")
    return state


def check_outputs(model: Autoencoder) -> None:
    """ValueError when the model's codes or outputs for a black, a grey and a white image are
    not finite: finite weights too large to compute with would make every page draw nothing."""
    probe = torch.stack([torch.full(model.image_shape.chw, v) for v in (0.0, 0.5, 1.0)])  # (3, C, H, W)
    with torch.no_grad():
        codes = model.encode(probe)
        ok = torch.isfinite(codes).all() and torch.isfinite(model.decode(codes)).all()
    if not ok:
        raise ValueError(f"the model's codes or outputs for plain test images are NaN or infinite: the weights "
                         f"are too large to compute with; {AGAIN}")
