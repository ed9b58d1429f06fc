"""A background worker: `python -m aecore.latent.worker FOLDER` computes one slow array (a UMAP or
t-SNE map, the pixel neighbours of a dataset split) and stores it in the disk cache
(aecore.cache) under the key the app reads, reporting its progress as it goes. It runs in a
process of its own so that the app stays responsive and a cancel can simply kill it: the result
is written atomically at the very end, so a killed worker leaves nothing in the cache.

FOLDER holds what the app wrote:
  task.json       {"task": "projection" or "knn", "key": the cache key, "estimate": seconds,
                   and the task's own fields: method, seed, params (projection); k (knn)}
  input.npy       the codes (N, d) to project, or the images (N, H, W[, 3]) to search
and what the worker writes:
  progress.jsonl  one JSON line per report: {"phase": words, "done": int|null, "total": int|null,
                  "seconds": since start}; with a count, the phase names what is counted
                  ("layout epoch" 90 of 200, "iteration" 350 of 1,000, "image" 5,000 of 70,000,
                  "neighbour probabilities, code" 3,000 of 70,000)
  error.txt       why it failed (it then exits with status 1)
"""
from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import numpy as np

from .. import cache
from .cost import record

EVERY_S = 0.25  # at most this often a report (but every phase change and the last epoch at once)
REPO = Path(__file__).resolve().parents[2]


def threads(running: int = 1) -> int:
    """Threads for each of `running` workers (AECORE_JOB_THREADS, else the CPU cores left after
    the app's own, shared among them, at least 1): t-SNE's OpenMP threads on busy cores spin
    instead of working (2,000 codes on 2 busy cores: 60 s with 2 threads, 14 s with 1)."""
    return int(os.environ.get("AECORE_JOB_THREADS") or max(1, ((os.cpu_count() or 2) - 1) // max(running, 1)))


def start(folder: Path, log: IO[bytes], n_threads: int) -> subprocess.Popen:
    """Start the worker on FOLDER in a process group of its own (so that a cancel can kill it and
    anything it started), its output going to `log`, with `n_threads` threads."""
    limits = {name: str(n_threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                                 "NUMBA_NUM_THREADS")}
    path = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, "-m", "aecore.latent.worker", str(folder)], stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=REPO,
                            env={**os.environ, **limits, "PYTHONPATH": path}, start_new_session=True)


class Progress:
    """Appends reports to progress.jsonl, at most every EVERY_S seconds unless the phase changes."""

    def __init__(self, folder: Path):
        self.file, self.start, self.last, self.phase = folder / "progress.jsonl", time.monotonic(), 0.0, None

    def __call__(self, phase: str, done: int | None = None, total: int | None = None) -> None:
        now = time.monotonic()
        if phase == self.phase and now - self.last < EVERY_S and done != total:
            return
        self.phase, self.last = phase, now
        line = json.dumps({"phase": phase, "done": done, "total": total, "seconds": round(now - self.start, 2)})
        with open(self.file, "a") as f:
            f.write(line + "\n")


class Console(io.TextIOBase):
    """What umap-learn and scikit-learn print when verbose, read as progress: tqdm's bar of
    UMAP's epochs ("Epochs completed: ... 90/200"), t-SNE's "[t-SNE] Iteration 50: ..." and
    "Computed conditional probabilities for sample 1000 / 70000", and their other lines as the
    phase."""

    EPOCHS = re.compile(r"Epochs completed.*?(\d+)/(\d+)")
    ITERATION = re.compile(r"\[t-SNE\] Iteration (\d+)")
    SAMPLE = re.compile(r"conditional probabilities for sample (\d+) / (\d+)")
    PHASES = (("nearest neighbors", "Finding each code's nearest neighbours"),
              ("fuzzy simplicial", "Building UMAP's neighbour graph"),
              ("Construct embedding", "Laying out the first map (spectral start)"),
              ("conditional probabilities", "Computing t-SNE's neighbour probabilities"),
              ("Mean sigma", "t-SNE's first 50 iterations"))

    def __init__(self, progress: Progress, iterations: int = 1000):
        self.progress, self.iterations = progress, iterations

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        for piece in re.split(r"[\r\n]+", text):
            if m := self.EPOCHS.search(piece):
                self.progress("layout epoch", int(m.group(1)), int(m.group(2)))
            elif m := self.ITERATION.search(piece):
                self.progress("iteration", int(m.group(1)), self.iterations)
            elif m := self.SAMPLE.search(piece):
                self.progress("neighbour probabilities, code", int(m.group(1)), int(m.group(2)))
            else:
                for needle, phase in self.PHASES:
                    if needle in piece:
                        self.progress(phase)
        return len(text)


def run_projection(task: dict, codes: np.ndarray, progress: Progress) -> np.ndarray:
    from .projections import check_method, make_projection

    check_method(task["method"], codes.shape[1])
    projection = make_projection(task["method"], task["seed"], **task["params"])
    projection.verbose = 2 if task["method"] == "tsne" else True
    console = Console(progress, getattr(projection, "max_iter", None) or 1000)
    progress("Starting " + {"umap": "UMAP", "tsne": "t-SNE"}.get(task["method"], task["method"]))
    stdout, stderr = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = console
    try:
        return np.asarray(projection.fit_transform(codes), np.float32)
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def run_knn(task: dict, images: np.ndarray, progress: Progress) -> np.ndarray:
    from .neighbour_lists import knn_lists

    progress("image", 0, len(images))
    return knn_lists(images, task["k"], lambda done, total: progress("image", done, total))


TASKS = {"projection": run_projection, "knn": run_knn}


def main(folder: Path) -> int:
    began = time.monotonic()
    task = json.loads((folder / "task.json").read_text())
    progress = Progress(folder)
    inputs = np.load(folder / "input.npy", allow_pickle=False)
    try:
        result = TASKS[task["task"]](task, inputs, progress)
    except Exception as err:  # the app shows why; the traceback goes to the log
        (folder / "error.txt").write_text(f"{type(err).__name__}: {err}")
        raise
    cache.store(task["key"], result)
    progress("Done", 1, 1)
    record(task["cost"], len(inputs), int(np.prod(inputs.shape[1:])), task.get("params"), time.monotonic() - began)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
