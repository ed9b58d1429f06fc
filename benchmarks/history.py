"""`python -m benchmarks.history`: what recording the training history costs (the map of 1,000
test images and 12 reconstructions after every epoch, aecore/train/history.py), against the
training time. Goal: at most 5%.

Trains zoo recipes (checkpoints/recipe.json) for a few epochs on the dataset given: the cost is
the recording's share of the epochs' time without it (training and validation), in CPU seconds
of this process (torch on one thread), which a busy shared machine does not change, and in wall
seconds (each epoch's `record_seconds` beside its `seconds`). The goal is held against CPU.

  python -m benchmarks.history                           # ae-2d, vae-16d, deep-30d on the sample, 2 epochs
  python -m benchmarks.history --dataset mnist deep-30d  # full MNIST (AECORE_DATA_DIR)
"""
from __future__ import annotations

import argparse
import sys
import time

GOAL = 0.05
DEFAULT = ["ae-2d", "vae-16d", "deep-30d"]


def warm_up() -> None:
    """Import what recording first needs (scikit-learn's PCA, scipy's Procrustes: about a CPU
    second, once per process; the app's server has them loaded), so epochs are measured alike."""
    import numpy as np

    from aecore.train.history import align
    codes = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
    align(codes, align(codes, None))


def measure(name: str, dataset: str, epochs: int) -> dict[str, float]:
    """Seconds of one recipe entry's epochs, wall clock (as the history records them) and CPU
    (this process, torch on one thread: on a shared machine the CPU seconds do not depend on
    what else runs), each {"train", "record"}: training and validation, and recording."""
    import torch

    from aecore.config import ModelConfig, TrainConfig
    from aecore.measure.zoo import load_recipe
    from aecore.train import Recorder, train

    torch.set_num_threads(1)
    warm_up()
    entry = load_recipe()[name]
    training = TrainConfig.from_dict({**entry["training"], "dataset": dataset, "epochs": epochs})
    recorder, cpu = Recorder(dataset), {"record": 0.0}
    record = recorder.record

    def timed(model, epoch):
        start = time.process_time()
        out = record(model, epoch)
        cpu["record"] += time.process_time() - start
        return out
    recorder.record = timed
    marks: list[float] = []  # the CPU clock at the first batch and after every epoch
    result = train(ModelConfig.from_dict(entry["model"]), training, recorder=recorder,
                   on_batch=lambda loss: marks or marks.append(time.process_time()),
                   on_epoch=lambda r: marks.append(time.process_time()))
    wall_record = sum(r["record_seconds"] for r in result.history)
    return {"wall_train": sum(r["seconds"] for r in result.history) - wall_record, "wall_record": wall_record,
            "cpu_train": marks[-1] - marks[0] - cpu["record"], "cpu_record": cpu["record"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", default=DEFAULT, help=f"recipe entries (default {' '.join(DEFAULT)})")
    parser.add_argument("--dataset", default="mnist-sample", help="train on this dataset (default mnist-sample)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per recipe (default 2)")
    args = parser.parse_args(argv)
    missed = 0
    print(f"{'recipe':<10} {'dataset':<13} {'CPU: training':>14} {'recording':>10} {'cost':>6}   "
          f"{'wall: training':>15} {'recording':>10} {'cost':>6}   goal <= {GOAL:.0%}")
    for name in args.names:
        m = measure(name, args.dataset, args.epochs)
        cpu, wall = m["cpu_record"] / m["cpu_train"], m["wall_record"] / m["wall_train"]
        missed += cpu > GOAL
        print(f"{name:<10} {args.dataset:<13} {m['cpu_train']:>13.1f}s {m['cpu_record']:>9.2f}s {cpu:>6.1%}   "
              f"{m['wall_train']:>14.1f}s {m['wall_record']:>9.2f}s {wall:>6.1%}   {'ok' if cpu <= GOAL else 'MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
