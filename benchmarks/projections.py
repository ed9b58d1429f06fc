"""`python -m benchmarks.projections`: the app's estimate of each slow map beside the measured
time, as the app runs it (a fresh background worker, aecore.latent.worker, with the threads the
app gives one on this machine), for UMAP and t-SNE of 1,000 to 70,000 codes and the pixel
neighbours of 10,000 and 70,000 images. The estimate's constants (aecore/latent/cost.py) come
from this command's numbers; the app then corrects them by each machine's own finished jobs.

Codes are those of a checkpoint over its dataset's test split, then its train split (Fashion-MNIST
has 70,000 images; `--dataset`, `--checkpoint`). Each run uses a fresh cache folder, so nothing
is read back and no earlier run's timings scale the estimate.

  python -m benchmarks.projections --methods umap,tsne --sizes 1000,10000,70000
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from aecore.latent import cost, worker


def codes_of(checkpoint: str, dataset: str, n: int) -> np.ndarray:
    """The first n codes of test then train images of `dataset` under the checkpoint."""
    from aecore.checkpoint import load_checkpoint
    from aecore.data import load_dataset
    from aecore.latent import encode_dataset

    model = load_checkpoint(checkpoint).model
    parts, have = [], 0
    for split in ("test", "train"):
        if have < n:
            images = load_dataset(dataset, split).images[: n - have]
            parts.append(encode_dataset(model, images))
            have += len(images)
    if have < n:
        raise SystemExit(f"{dataset} has only {have:,} images; ask for --sizes up to that")
    return np.concatenate(parts)


def images_of(dataset: str, n: int) -> np.ndarray:
    from aecore.data import load_dataset
    images = np.concatenate([load_dataset(dataset, s).images for s in ("test", "train")])[:n]
    if len(images) < n:
        raise SystemExit(f"{dataset} has only {len(images):,} images")
    return images


def run(task: dict, inputs: np.ndarray) -> tuple[float, int]:
    """(wall seconds, progress reports) of one worker on `task`, in a fresh cache folder."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "job"
        folder.mkdir()
        np.save(folder / "input.npy", inputs, allow_pickle=False)
        (folder / "task.json").write_text(json.dumps({**task, "key": {"benchmark": time.time()}, "estimate": 0}))
        os.environ["AECORE_CACHE_DIR"] = str(Path(tmp) / "cache")
        start = time.perf_counter()
        with open(folder / "log.txt", "wb") as log:
            code = worker.start(folder, log, worker.threads(1)).wait()
        seconds = time.perf_counter() - start
        if code != 0:
            raise SystemExit(f"the worker failed: {(folder / 'log.txt').read_text()[-2000:]}")
        return seconds, len((folder / "progress.jsonl").read_text().splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default="umap,tsne,knn")
    parser.add_argument("--sizes", default="1000,2000,5000,10000,70000")
    parser.add_argument("--checkpoint", default="checkpoints/fashion-16d")
    parser.add_argument("--dataset", default="fashion-mnist")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'work':>6} {'points':>7} {'estimate s':>10} {'measured s':>10} {'ratio':>6} {'reports':>7} {'load':>5}   "
          f"(worker threads: {worker.threads(1)}, CPU cores: {os.cpu_count()}; load: the 1-minute load "
          "average at the end, other programs' work included)", flush=True)
    codes = codes_of(args.checkpoint, args.dataset, max(sizes)) if set(args.methods.split(",")) - {"knn"} else None
    for method in args.methods.split(","):
        for n in sizes:
            if method == "knn":
                if n < 10_000:
                    continue
                inputs, d, task = images_of(args.dataset, n), 784, {"task": "knn", "cost": "knn", "k": 10}
            else:
                inputs, d = codes[:n], codes.shape[1]
                task = {"task": "projection", "cost": method, "method": method, "seed": 0, "params": {}}
            os.environ["AECORE_CACHE_DIR"] = tempfile.mkdtemp()  # no earlier timings scale the estimate
            estimate = cost.seconds(method, n, d)
            seconds, reports = run(task, inputs)
            print(f"{method:>6} {n:>7,} {estimate:>10.1f} {seconds:>10.1f} {seconds / estimate:>6.2f} {reports:>7} "
                  f"{os.getloadavg()[0]:>5.1f}", flush=True)


if __name__ == "__main__":
    main()
