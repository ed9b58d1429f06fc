"""How long the slow work takes, said before it starts: UMAP and t-SNE maps, and each image's
nearest images in pixel space, in seconds estimated from the point count (and the code size and
parameters).

The constants were measured on the machine the app is developed on (2 CPU cores, no GPU) with
`python -m benchmarks.projections`, which prints each estimate beside the measured time. Another
machine is faster or slower by a rough factor per kind of work, so every finished background
job records how long it took against its estimate (timings.json in the cache folder), and later
estimates on that machine are scaled by the median of the last RECENT of those ratios.
"""
from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

# A fresh worker process: the interpreter, numpy, scikit-learn, and for UMAP umap-learn with
# numba's machine code loaded from its disk cache (seconds; more on the very first run).
START_S = {"umap": 4.0, "tsne": 1.5, "knn": 1.0}
UMAP_S_PER_POINT = 0.8e-3      # 200 epochs with 15 neighbours, the spectral start and the graph
TSNE_S_PER_POINT_LOG = 0.6e-3  # per n * log2(n), at perplexity 30 (1,000 iterations)
KNN_S_PER_PAIR = 1.0e-11       # per (point pair x pixel) of the exact search
RECENT = 10                    # finished jobs whose speed corrects the estimates


def seconds(method: str, n: int, d: int = 2, params: dict | None = None, started: bool = False) -> float:
    """Estimated seconds to compute `method` ("umap", "tsne", or "knn": pixel neighbours, with d
    the pixels per image) for n points; `started`: in a process that has already imported what
    it needs (no START_S). Methods that take a moment (none, pca) estimate 0."""
    params = params or {}
    if method == "umap":
        work = UMAP_S_PER_POINT * n * params.get("n_neighbors", 15) / 15
    elif method == "tsne":
        work = TSNE_S_PER_POINT_LOG * n * math.log2(max(n, 2)) * (0.5 + 0.5 * params.get("perplexity", 30.0) / 30)
    elif method == "knn":
        work = KNN_S_PER_PAIR * float(n) * n * d
    else:
        return 0.0
    return ((0.0 if started else START_S[method]) + work) * speed(method)


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
    """The median ratio of measured to estimated seconds of this machine's last RECENT jobs of
    `method` (1.0 before any): how much slower than the development machine it is."""
    ratios = sorted(r for r in _read().get(method, []) if isinstance(r, (int, float)) and 0.05 < r < 50)
    return float(ratios[len(ratios) // 2]) if ratios else 1.0


def record(method: str, estimated: float, measured: float) -> None:
    """Keep measured / estimated of a finished job (estimated as seconds() said, with the speed
    then known), for speed(). Unwritable: nothing is kept."""
    if estimated <= 0 or measured <= 0:
        return
    data = _read()
    data[method] = (data.get(method, []) + [measured / estimated * speed(method)])[-RECENT:]
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
