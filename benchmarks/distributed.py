"""`python -m benchmarks.distributed`: the same training in one process and in N processes
under torchrun (gloo on CPU, nccl on CUDA), each printed beside its goal: seconds per epoch,
and how far apart the weights end. N processes get --batch-size B/N, so every optimizer step
sees the same B images as the single process's: the weights then differ by float rounding
alone (the order of sums). For scale, the gap to another training (one process with B/N) is
printed beside it.

Seconds per epoch are the median over the epochs after the first (which pays one-off costs),
from the checkpoint's history, without the time spent recording the app's history maps; the
wall clock of the whole command (start-up, imports, data, rendezvous) is shown beside it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(out: Path, processes: int, threads: int | None, args) -> dict:
    """Train into `out` with `processes` processes (0: plain `python -m aecore`, no torchrun) and
    return {"epoch": median seconds, "wall": seconds, "loss": last train loss}."""
    flags = ["train", "--kind", args.kind, "--dataset", args.dataset, "--epochs", str(args.epochs),
             "--batch-size", str(args.batch_size // max(processes, 1)), "--device", args.device,
             "--out", str(out)]
    launcher = [] if processes == 0 else ["-m", "torch.distributed.run", "--standalone",
                                          f"--nproc_per_node={processes}"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *launcher, "-m", "aecore", *flags], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"training with {processes or 1} process(es) failed:\n{done.stderr[-2000:]}")
    history = json.loads((out / "config.json").read_text())["history"]
    epochs = [r["seconds"] - r.get("record_seconds", 0.0) for r in history[1:] or history]
    return {"epoch": statistics.median(epochs), "wall": wall, "loss": history[-1]["train"]["loss"]}


def weight_gap(a: Path, b: Path) -> tuple[float, float]:
    """(largest absolute difference between the two checkpoints' weights, largest weight)."""
    from aecore.checkpoint import load_checkpoint
    wa, wb = load_checkpoint(a).model.state_dict(), load_checkpoint(b).model.state_dict()
    return (max(float((wa[k] - wb[k]).abs().max()) for k in wa), max(float(w.abs().max()) for w in wa.values()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.distributed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2, help="N (default %(default)s)")
    parser.add_argument("--kind", default="plain", help="a kind whose loss does not couple a batch's images")
    parser.add_argument("--dataset", default="mnist-sample", help="default: the bundled sample (4,000 train images)")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=128, help="B: the images of one step, all processes together")
    parser.add_argument("--device", default="cpu", help="cpu, or cuda (N GPUs for N processes)")
    args = parser.parse_args(argv)
    n = args.processes
    if args.batch_size % n:
        print(f"error: --batch-size {args.batch_size} does not split into {n} equal shares", file=sys.stderr)
        return 2
    print(f"{os.cpu_count()} CPUs; {args.kind} model, {args.dataset}, {args.epochs} epochs, "
          f"B = {args.batch_size} images per step, device {args.device}")
    with tempfile.TemporaryDirectory() as tmp:
        rows = {"1 process, torch's default threads": run(Path(tmp) / "one", 0, None, args),
                "1 process, 1 thread": run(Path(tmp) / "one-thread", 0, 1, args),
                f"{n} processes (torchrun), 1 thread each": run(Path(tmp) / "n", n, 1, args)}
        gap, largest = weight_gap(Path(tmp) / "one", Path(tmp) / "n")
        run(Path(tmp) / "other", 0, 1, argparse.Namespace(**{**vars(args), "batch_size": args.batch_size // n}))
        other, _ = weight_gap(Path(tmp) / "one", Path(tmp) / "other")
    best = min(r["epoch"] for name, r in rows.items() if name.startswith("1 "))
    for name, r in rows.items():
        print(f"{name:42s} {r['epoch']:6.2f} s/epoch  wall {r['wall']:5.1f} s  last train loss {r['loss']:.3f}")
    mine = rows[f"{n} processes (torchrun), 1 thread each"]["epoch"]
    print(f"goal: {n} processes no slower per epoch than the faster single process "
          f"({mine:.2f} vs {best:.2f} s; 2 shared cores: expect little gain): {'ok' if mine <= best else 'SLOWER'}")
    print(f"largest weight difference, {n} processes vs 1: {gap:.2e} (largest weight {largest:.2f})  "
          f"goal < 1e-3: {'ok' if gap < 1e-3 else 'APART'}")
    print(f"  for scale, 1 process with batch {args.batch_size // n} (another training) vs {args.batch_size}: {other:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
