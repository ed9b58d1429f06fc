"""Two small checks every module shares: a name looked up in a registry, and a seed or generator."""
from __future__ import annotations

from typing import TypeVar

V = TypeVar("V")


def lookup(registry: dict[str, V], name: str, what: str) -> V:
    """registry[name], or ValueError "unknown <what> 'x'; valid: a, b, c" (registries are plain dicts)."""
    if not isinstance(name, str) or name not in registry:
        raise ValueError(f"unknown {what} {name!r}; valid: {', '.join(registry)}")
    return registry[name]


def as_generator(seed):
    """A torch.Generator passes through; an int seeds a new CPU generator (same seed, same draws);
    None stays None: torch's global generator (seed it with torch.manual_seed)."""
    import torch  # here: the CLI's download command never imports torch

    if seed is None or isinstance(seed, torch.Generator):
        return seed
    return torch.Generator().manual_seed(int(seed))
