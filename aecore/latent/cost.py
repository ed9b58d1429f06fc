"""How long the slow work takes, said before it starts: UMAP and t-SNE maps, and each image's
nearest images in pixel space, in seconds estimated from the point count (and the code size and
parameters).

The constants were fitted to `python -m benchmarks.projections` on the machine the app is
developed on (2 CPU cores, no GPU, one worker thread), idle: UMAP of 1,000 / 10,000 / 70,000
16-D codes took 2.6 / 5.5 / 42.6 s, t-SNE 5.6 / 53 / 615 s, the pixel neighbours of 10,000 /
70,000 images 4.3 / 152 s. Both maps grow as about n^1.3 here. The same runs took 1.5 to 3 times
as long while other programs kept both cores busy, and another machine is faster or slower by
its own factor, so every finished background job records how long its work took against the
estimate (timings.json in the cache folder), and later estimates on that machine are scaled by
the median of the last RECENT of those ratios.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

# A fresh worker process: the interpreter, numpy, scikit-learn, and for UMAP umap-learn with
# numba's machine code loaded from its disk cache (more on the very first run, which compiles).
START_S = {"umap": 2.2, "tsne": 2.5, "knn": 1.3}
# The same imports in a process that has not made such a map yet (the app's own, for small maps).
IMPORT_S = {"umap": 3.0, "tsne": 0.5, "knn": 0.3}
GROWTH = {"umap": (2.3e-5, 1.29),   # seconds = a * n ** b: 200 epochs with 15 neighbours, graph, spectral start
          "tsne": (3.85e-4, 1.28)}  # at perplexity 30: neighbours, probabilities, 1,000 iterations
KNN_S_PER_PAIR = 3.9e-11            # per (point pair x pixel) of the exact search
RECENT = 10                    # finished jobs whose speed corrects the estimates


def seconds(method: str, n: int, d: int = 2, params: dict | None = None, setup: float | None = None) -> float:
    """Estimated seconds to compute `method` ("umap", "tsne", or "knn": pixel neighbours, with d
    the pixels per image) for n points in a fresh worker process; `setup`: the seconds before the
    work starts instead (0 in a process that has imported what it needs, IMPORT_S in one that
    has not). Methods that take a moment (none, pca) estimate 0."""
    if method not in START_S:
        return 0.0
    return (START_S[method] if setup is None else setup) + _work(method, n, d, params or {}) * speed(method)


def _work(method: str, n: int, d: int, params: dict) -> float:
    """The seconds of the work itself on the development machine, idle, without any setup."""
    if method == "knn":
        return KNN_S_PER_PAIR * float(n) * n * d
    a, b = GROWTH[method]
    if method == "umap":
        return a * n ** b * params.get("n_neighbors", 15) / 15
    return a * n ** b * (0.5 + 0.5 * params.get("perplexity", 30.0) / 30)


def _file() -> Path:
    from ..cache import cache_dir
    return cache_dir().parent / "timings.json"


def _read() -> dict:
    try:
        data = json.loads(_file().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def speed(method: str) -> float:
    """The median ratio of measured to estimated work (without setup) of this machine's last
    RECENT jobs of `method` (1.0 before any): how much slower than the development machine."""
    ratios = sorted(r for r in _read().get(method, []) if isinstance(r, (int, float)) and 0.05 < r < 50)
    return float(ratios[len(ratios) // 2]) if ratios else 1.0


def record(method: str, n: int, d: int, params: dict | None, measured: float) -> None:
    """Keep how much slower (or faster) than the development machine a finished worker's work
    went: its measured seconds, less START_S, over the work's estimate; for speed().
    Unwritable: nothing is kept."""
    work = _work(method, n, d, params or {}) if method in START_S else 0.0
    if work <= 0 or measured <= 0:
        return
    data = _read()
    data[method] = (data.get(method, []) + [max(measured - START_S[method], 0.0) / work])[-RECENT:]
    try:
        path = _file()
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        os.replace(tmp, path)
    except OSError:
        pass


def duration(s: float) -> str:
    """Seconds in words: "about 20 s", "about 3 min", "about 1 h 10 min"."""
    if s < 60:
        return f"about {max(1, round(s))} s"
    if s < 3600:
        return f"about {round(s / 60)} min"
    return f"about {int(s // 3600)} h {round(s % 3600 / 60)} min"
