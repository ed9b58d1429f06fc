"""`python -m benchmarks.train_cost`: aecore.train.cost's estimates beside measured costs, in plain
epochs (one pass of the bundled sample's training images through the default mlp autoencoder).
Each case trains 2 epochs on one thread (the Train page's training thread has one per two cores);
its whole time, graph and warm start included, is divided by the plain model's best epoch. The
goal is the estimate's purpose: within 2x of the measure either way, so the demo's budget (100)
bounds a training's time to about a minute of one core."""
from __future__ import annotations

import time

CASES = [  # (kind, code size, settings): defaults, then each setting that scales the cost
    ("plain", 16, {}), ("vae", 16, {}), ("neighbour", 16, {}), ("contractive", 2, {}), ("contractive", 16, {}),
    ("umap", 2, {}), ("umap", 2, {"umap_edges_per_image": 4.0}), ("umap", 2, {"umap_n_neighbors": 100}),
    ("umap", 2, {"umap_negatives": 50}), ("umap", 16, {"umap_warm_epochs": 2}),
]
EPOCHS = 2


def measure(kind: str, dim: int, settings: dict) -> tuple[float, float]:
    """(seconds of the whole training, seconds of its best epoch)."""
    from aecore.config import ModelConfig, TrainConfig
    from aecore.train import train
    start = time.perf_counter()
    result = train(ModelConfig.from_flat({"kind": kind, "latent_dim": dim, **settings}),
                   TrainConfig(epochs=EPOCHS, seed=0), record=False)
    return time.perf_counter() - start, min(r["seconds"] for r in result.history)


def main() -> int:
    import torch

    from aecore.config import ModelConfig, TrainConfig
    from aecore.train.cost import training_cost
    torch.set_num_threads(1)
    measure("umap", 2, {})  # numba compiles UMAP's kernels once; not the cost of a training
    plain = min(measure("plain", 16, {})[1] for _ in range(3))
    print(f"a plain epoch: {plain:.2f} s; each case {EPOCHS} epochs, in plain epochs:")
    missed = 0
    for kind, dim, settings in CASES:
        seconds, _ = measure(kind, dim, settings)
        estimate = sum(training_cost(ModelConfig.from_flat({"kind": kind, "latent_dim": dim, **settings}),
                                     TrainConfig(epochs=EPOCHS)).values())
        ratio = seconds / plain / estimate
        missed += not 0.5 <= ratio <= 2
        print(f"{kind:<12} {dim:>2}-D {str(settings):<32} measured {seconds / plain:6.1f}  estimate {estimate:6.1f}  "
              f"ratio {ratio:4.2f}  {'ok' if 0.5 <= ratio <= 2 else 'MISSED (goal 0.5-2)'}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
