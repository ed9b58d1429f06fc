"""`python -m benchmarks.app`: how fast the explorer's heavy steps are on this machine, each
printed beside its goal. Timings are medians of repeated runs (wall clock, seconds).

UMAP runs in a fresh Python process, as after an app restart: interpreter start, imports, numba
compilation (from numba's on-disk cache when an earlier run filled it; --numba-cold empties it)
and the fit. Its result then goes through aecore.cache under the key the app uses, and reading
it back is timed too.
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
from typing import Callable

import numpy as np

from aecore.cache import cached_projection
from aecore.checkpoint import CheckpointError, load_checkpoint, weights_digest
from aecore.data import default_dataset, load_dataset
from aecore.latent import decode_codes, decoding_grid, encode_dataset, project
from aecore.pictures.images import tile
from benchmarks.apptest import selection_rerun

REPO = Path(__file__).resolve().parent.parent

N_CODES = 10_000
UMAP_PARAMS = {"n_neighbors": 15, "min_dist": 0.1}
_UMAP_SCRIPT = """
import sys, json, time
import numpy as np
from aecore.latent import project
codes, params = np.load(sys.argv[1]), json.loads(sys.argv[3])
xy = project(codes, "umap", 0, **params)
first_done = time.time()
np.save(sys.argv[2], xy)
start = time.perf_counter()
project(codes, "umap", 0, **params)
print(first_done, time.perf_counter() - start)
"""


def median_time(fn: Callable[[], object], repeats: int) -> float:
    """Median wall time of fn() over `repeats` calls, after one untimed warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def test_images(dataset: str) -> tuple[np.ndarray, str]:
    """The 10,000 test digits of `dataset` (the sample's 1,000 repeated to 10,000 if that is
    all there is) and a note saying which."""
    images = load_dataset(dataset, "test").images
    if len(images) >= N_CODES:
        return images[:N_CODES], f"{dataset} test, {N_CODES:,} digits"
    return np.resize(images, (N_CODES, 28, 28)), f"{dataset} test ({len(images):,} digits) repeated to {N_CODES:,}"


def umap_fresh_process(codes: np.ndarray, numba_cold: bool) -> tuple[float, float, np.ndarray]:
    """(wall seconds from starting a fresh `python` until its first UMAP map is done: start-up,
    imports, numba compilation and the fit; seconds of a second fit in that warmed process;
    the map)."""
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "codes.npy", codes)
        env = dict(os.environ)
        if numba_cold:
            env["NUMBA_CACHE_DIR"] = str(Path(tmp) / "numba")  # empty: numba compiles everything
        start = time.time()
        out = subprocess.run([sys.executable, "-c", _UMAP_SCRIPT, str(Path(tmp) / "codes.npy"),
                              str(Path(tmp) / "xy.npy"), json.dumps(UMAP_PARAMS)],
                             capture_output=True, text=True, env=env, cwd=REPO)
        if out.returncode != 0:
            raise RuntimeError(f"the UMAP subprocess failed:\n{out.stderr[-2000:]}")
        first_done, warm = map(float, out.stdout.split()[-2:])
        return first_done - start, warm, np.load(Path(tmp) / "xy.npy")


def bench(ckpt_2d: str, ckpt_16d: str, repeats: int = 5, umap: bool = True,
          numba_cold: bool = False, onnx: bool = True, report: Callable[[str], None] = print,
          every_point: str | None = None, colour: str | None = None) -> list[dict]:
    """Run every timing; report(line) prints each as it is measured. Returns the rows."""
    m2, m16 = load_checkpoint(ckpt_2d).model, load_checkpoint(ckpt_16d).model
    if m2.latent_dim != 2:
        raise ValueError(f"{ckpt_2d}: needs a 2-D checkpoint, this one has latent_dim={m2.latent_dim}")
    dataset = default_dataset()[0]
    images, note = test_images(dataset)
    rows: list[dict] = []

    def row(step: str, seconds: float, goal: float, detail: str = "") -> None:
        rows.append({"step": step, "seconds": seconds, "goal": goal, "detail": detail})
        ok = "ok" if seconds <= goal else "SLOWER"
        report(f"{step:48s} {_fmt(seconds):>9s}  goal <= {_fmt(goal):>7s}  {ok:6s} {detail}")

    report(f"{os.cpu_count()} CPUs; 2-D: {ckpt_2d}; 16-D: {ckpt_16d} (d={m16.latent_dim}); data: {note}")
    z = np.zeros((1, 2), np.float32)
    onnx2, onnx16 = onnx_twins(ckpt_2d, ckpt_16d) if onnx else (None, None)
    row("decode one code to an image (2-D)", median_time(lambda: decode_codes(m2, z), repeats * 20), 0.005)
    if onnx:
        row("  the same model in ONNX", median_time(lambda: decode_codes(onnx2, z), repeats * 20), 0.005,
            "(export-onnx, onnxruntime)")
    codes2 = encode_dataset(m2, images[:2000])
    row("20x20 manifold grid (decode + tile)",
        median_time(lambda: tile(decode_codes(m2, decoding_grid(m2, 20, codes2)[0]), 20), repeats), 0.100)
    row(f"encode {N_CODES:,} test digits (16-D model)",
        median_time(lambda: encode_dataset(m16, images), max(1, repeats // 2)), 1.0)
    if onnx:
        row("  the same model in ONNX", median_time(lambda: encode_dataset(onnx16, images), max(1, repeats // 2)),
            1.0, "(export-onnx, onnxruntime)")
    codes = encode_dataset(m16, images)
    row(f"PCA of {N_CODES:,} codes", median_time(lambda: project(codes, "pca"), repeats), 0.2)
    if umap:
        _bench_umap(row, codes, ckpt_16d, dataset, "test", numba_cold, goals=(15.0, 0.3))
    _bench_decode_anywhere(row, m16, codes, umap)
    if every_point:
        _bench_every_point(row, m16, ckpt_16d, every_point, repeats, umap, numba_cold)
    if colour:
        from benchmarks.colour import bench_colour
        bench_colour(colour, row, median_time, report, repeats)
    return rows


def onnx_twins(ckpt_2d: str, ckpt_16d: str) -> tuple:
    """The two models exported to ONNX (python -m aecore export-onnx), loaded to run in onnxruntime."""
    from aecore.models.onnx_export import export_onnx

    with tempfile.TemporaryDirectory() as tmp:
        return tuple(load_checkpoint(export_onnx(c, Path(tmp) / name)).model
                     for c, name in ((ckpt_2d, "2d"), (ckpt_16d, "16d")))


def _bench_umap(row, codes: np.ndarray, ckpt_16d: str, dataset: str, split: str, numba_cold: bool,
                goals: tuple[float, float]) -> None:
    total, warm, xy = umap_fresh_process(codes, numba_cold)
    which = "numba cache emptied" if numba_cold else "numba's on-disk cache as it is"
    row(f"UMAP of {len(codes):,} {codes.shape[1]}-D codes, fresh process", total, goals[0],
        f"(start-up, imports, numba compilation, fit; {which})")
    row("  the same in that process once compiled", warm, goals[0], "(the app after its warm-up)")
    with tempfile.TemporaryDirectory() as tmp:  # the app's own cache key, in an empty folder
        weights = weights_digest(ckpt_16d)
        cached_projection(codes, weights, dataset, split, "umap", 0, UMAP_PARAMS, Path(tmp))
        start = time.perf_counter()
        back = cached_projection(codes, weights, dataset, split, "umap", 0, UMAP_PARAMS, Path(tmp))
        row("the same UMAP map from the disk cache", time.perf_counter() - start, goals[1],
            "(key hash + np.load)")
        if not np.array_equal(back, xy):
            raise RuntimeError("the disk cache returned a different map than it stored")


def cpu_and_wall(fn: Callable[[], object]) -> tuple[float, float]:
    """(CPU seconds of this process, wall seconds) of one call: on a shared machine the CPU time
    is what the step costs, the wall time what it took."""
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return time.process_time() - cpu, time.perf_counter() - wall


def _bench_decode_anywhere(row, model, codes: np.ndarray, umap: bool) -> None:
    """A click on empty space of a projected map: the map position back to a code (the map's
    inverse), then decoded; and a 16 x 16 decoded backdrop under the map."""
    from aecore.latent.inverse import UMAP_SAMPLE, backdrop_grid, inverse_map
    from aecore.pictures.plots import padded_extent

    methods = ["pca", "umap"] if umap else ["pca"]
    for method in methods:
        xy = project(codes, method, 0)
        cpu, wall = cpu_and_wall(lambda: inverse_map(codes, xy, method, 0))
        inverse = inverse_map(codes, xy, method, 0)
        fit = f" on {min(UMAP_SAMPLE, len(codes)):,} of its points" if method == "umap" else ""
        row(f"{method} map's inverse: fit{fit}", cpu, 2.0 if method == "umap" else 0.2,
            f"(CPU s; wall {_fmt(wall)}; once per map, kept in st.cache_resource)")
        for click, spot in (("first", xy[:1] + 0.01), ("next", xy[1:2] + 0.01)):  # the first compiles (umap)
            cpu, wall = cpu_and_wall(lambda: decode_codes(model, inverse.inverse_transform(spot)))
            row(f"  decode the {click} clicked spot ({method})", cpu, 2.0 if method == "umap" else 0.05,
                f"(CPU s; wall {_fmt(wall)})")
        grid = backdrop_grid(padded_extent(xy), 16)
        cpu, wall = cpu_and_wall(lambda: decode_codes(model, inverse.inverse_transform(grid)))
        row(f"  16 x 16 decoded backdrop ({method})", cpu, 5.0 if method == "umap" else 0.2,
            f"(CPU s; wall {_fmt(wall)}; once per map setting)")


def _bench_every_point(row, m16, ckpt_16d: str, dataset: str, repeats: int, umap: bool, numba_cold: bool) -> None:
    """Every image of train + test of `dataset` (70,000 for Fashion-MNIST) on one map."""
    images = load_dataset(dataset, "all").images
    n = f"{len(images):,}"
    row(f"encode {n} {dataset} images (16-D model)", median_time(lambda: encode_dataset(m16, images), 1), 2.0)
    codes = encode_dataset(m16, images)
    row(f"PCA of {n} codes", median_time(lambda: project(codes, "pca"), repeats), 0.5)
    if umap:
        _bench_umap(row, codes, ckpt_16d, dataset, "all", numba_cold, goals=(45.0, 0.5))
    first, again, select, built, select_cpu = selection_rerun(ckpt_16d, dataset)
    row(f"latent map of all {n}: first page run (AppTest)", first, 60.0, "(codes, PCA, figure)")
    row("  a selection on it: the rerun's server time", select, 1.0,
        f"(figure built again: {'yes' if built else 'no'}; CPU {_fmt(select_cpu)}; "
        f"a rerun without changes {_fmt(again)})")


def _fmt(seconds: float) -> str:
    if seconds < 0.001:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.app", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt-2d", default="checkpoints/ae-2d", help="a 2-D checkpoint (default %(default)s)")
    parser.add_argument("--ckpt-16d", default="checkpoints/vae-16d", help="a 16-D checkpoint (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per step (median shown)")
    parser.add_argument("--skip-umap", action="store_true", help="leave out the UMAP timings (a minute or more)")
    parser.add_argument("--every-point", default="fashion-mnist", metavar="DATASET",
                        help="also time the map of every image of DATASET's train + test (default "
                             "%(default)s, 70,000 images); 'none' skips it")
    parser.add_argument("--colour", default="checkpoints/sprites-vae", metavar="CHECKPOINT",
                        help="a colour checkpoint for the colour rows (default %(default)s); 'none' skips them")
    parser.add_argument("--skip-onnx", action="store_true", help="leave out the two models exported to ONNX")
    parser.add_argument("--numba-cold", action="store_true",
                        help="empty numba's cache for the UMAP process, as on a fresh machine")
    args = parser.parse_args(argv)
    missing = [p for p in (args.ckpt_2d, args.ckpt_16d) if not Path(p).is_dir()]
    if missing:
        print(f"error: no checkpoint folder {', '.join(missing)}; pass a 2-D and a 16-D checkpoint "
              "with --ckpt-2d and --ckpt-16d (train them with `python -m aecore zoo`)", file=sys.stderr)
        return 2
    try:
        bench(args.ckpt_2d, args.ckpt_16d, repeats=args.repeats, umap=not args.skip_umap,
              numba_cold=args.numba_cold, onnx=not args.skip_onnx,
              every_point=None if args.every_point == "none" else args.every_point,
              colour=None if args.colour == "none" or not Path(args.colour).is_dir() else args.colour)
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
