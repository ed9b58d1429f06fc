"""Attribute vectors: a direction in code space from two groups of codes (two classes, or two
selections made on a map), and a code moved along it (White 2016, "Sampling generative
networks": the mean of one group minus the mean of the other).

Codes are float32 (N, d); a group is a boolean mask or indices into them.
"""
from __future__ import annotations

import numpy as np


def attribute_vector(codes, group_a, group_b) -> np.ndarray:
    """mean(codes[group_b]) - mean(codes[group_a]): the direction (d,) float32 from group A to
    group B. Adding it to a code of group A moves that code, on average, to group B."""
    codes = np.asarray(codes, np.float32)
    a, b = codes[np.asarray(group_a)], codes[np.asarray(group_b)]
    if len(a) == 0 or len(b) == 0:
        raise ValueError(f"an attribute vector needs codes in both groups, got {len(a)} in A "
                         f"and {len(b)} in B: pick or select some of each")
    return (b.mean(axis=0) - a.mean(axis=0)).astype(np.float32)


def amounts(steps: int, reach: float) -> np.ndarray:
    """`steps` amounts (steps,) from -reach to +reach, 0 (the code itself) in the middle when
    steps is odd."""
    if steps < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    return np.linspace(-reach, reach, steps).astype(np.float32)


def along(code, direction, steps: int = 9, reach: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """The code (d,) moved by each of amounts(steps, reach) times `direction` (d,): (amounts
    (steps,), codes (steps, d) float32). Amount 1 adds the whole difference of the group means."""
    code, direction = np.asarray(code, np.float32).ravel(), np.asarray(direction, np.float32).ravel()
    if code.shape != direction.shape:
        raise ValueError(f"the code has {code.size} units but the direction {direction.size}")
    t = amounts(steps, reach)
    return t, (code[None] + t[:, None] * direction[None]).astype(np.float32)
