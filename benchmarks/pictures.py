"""`python -m benchmarks.pictures`: how long the pages take to draw pictures of each image shape,
printed beside a goal: a 20x20 decoded manifold as the Generate page shows it (tiled, scaled up
crisply, encoded as the PNG Streamlit sends), the 16x16 decoded backdrop of the map, 64
thumbnails, and an interpolation GIF of 24 frames. Medians of repeated runs (wall clock).

The images are smooth random fields (a Gaussian-blurred noise per image and channel), which
compress like decoded images do; `--noise` draws plain noise instead, the worst case for PNG.
"""
from __future__ import annotations

import argparse
import os

import numpy as np
import plotly.graph_objects as go
from scipy.ndimage import gaussian_filter

from aecore.pictures import images, plots, thumbnails
from benchmarks.app import median_time

SHAPES = [(28, 28), (8, 8), (32, 32, 3), (64, 64, 3), (128, 128, 3)]
GOALS = {"manifold": 0.25, "backdrop": 0.25, "thumbnails": 0.1, "gif": 0.25}  # seconds, per picture


def decoded_like(n: int, shape: tuple, noise: bool, seed: int = 0) -> np.ndarray:
    """n float32 images of `shape` in [0, 1]: smooth random fields, or plain noise."""
    rng = np.random.default_rng(seed)
    a = rng.random((n, *shape)).astype(np.float32)
    if noise:
        return a
    sigma = (0, shape[0] / 8, shape[1] / 8) + ((0,) if len(shape) == 3 else ())
    a = gaussian_filter(a, sigma)
    lo, hi = a.min(axis=tuple(range(1, a.ndim)), keepdims=True), a.max(axis=tuple(range(1, a.ndim)), keepdims=True)
    return (a - lo) / (hi - lo)




def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--noise", action="store_true", help="plain noise images (PNG's worst case)")
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} CPUs; {'noise' if args.noise else 'smooth'} images; medians of {args.repeats} runs")
    for shape in SHAPES:
        name = f"{shape[0]}x{shape[1]} {'colour' if len(shape) == 3 else 'grey'}"
        grid, frames = decoded_like(400, shape, args.noise), decoded_like(24, shape, args.noise, seed=1)
        xy = np.random.default_rng(0).normal(size=(400, 2))
        steps = {
            "manifold": lambda: images.png_bytes(images.readable_grid(grid, 20, width=900)),  # as ui.display
            "backdrop": lambda: plots.add_backdrop(go.Figure(), grid[:256], (0.0, 1.0, 0.0, 1.0)),
            "thumbnails": lambda: thumbnails.add_thumbnails(go.Figure(), xy, grid, np.arange(400) % 10),
            "gif": lambda: images.gif_bytes(frames, duration_ms=120),
        }
        what = {"manifold": "20x20 manifold, tiled + PNG", "backdrop": "16x16 decoded backdrop",
                "thumbnails": "thumbnails on a map (8x8 grid)", "gif": "interpolation GIF, 24 frames"}
        for step, fn in steps.items():
            s = median_time(fn, args.repeats)
            ok = "ok" if s <= GOALS[step] else "SLOWER"
            print(f"{name:16s} {what[step]:32s} {s * 1000:8.1f} ms  goal <= {GOALS[step] * 1000:.0f} ms  {ok}")


if __name__ == "__main__":
    main()
