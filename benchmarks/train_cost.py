"""`python -m benchmarks.train_cost`: aecore.train.cost's estimates beside measured costs, in plain
epochs (one pass of the bundled sample's training images through the default mlp autoencoder).
Each case trains 2 epochs on one thread (the Train page's training thread has one per two cores),
its whole time (graph, warm start, validation included) taken beside a plain model's 2 epochs,
trained just before it, best of 2 turns each, so that other work on the machine weighs on both
alike. The goal is the estimate's purpose: within 2x of the measure either way, so the demo's
budget (100) bounds a training to about a minute of one core."""
from __future__ import annotations

import time

CASES = [  # (kind, code size, settings): defaults, then each setting that scales the cost
    ("vae", 16, {}), ("neighbour", 16, {}), ("contractive", 2, {}), ("contractive", 16, {}),
    ("umap", 2, {}), ("umap", 2, {"umap_edges_per_image": 4.0}), ("umap", 2, {"umap_n_neighbors": 100}),
    ("umap", 2, {"umap_negatives": 50}), ("umap", 16, {"umap_warm_epochs": 2}),
]
EPOCHS = 2


def seconds(kind: str, dim: int, settings: dict) -> float:
    """Seconds of a whole training of EPOCHS epochs."""
    from aecore.config import ModelConfig, TrainConfig
    from aecore.train import train
    start = time.perf_counter()
    train(ModelConfig.from_flat({"kind": kind, "latent_dim": dim, **settings}), TrainConfig(epochs=EPOCHS, seed=0),
          record=False)
    return time.perf_counter() - start


def main() -> int:
    import torch

    from aecore.config import ModelConfig, TrainConfig
    from aecore.train.cost import training_cost
    torch.set_num_threads(1)
    seconds("umap", 2, {})  # numba compiles UMAP's kernels once; not the cost of a training
    print(f"each case {EPOCHS} epochs, in plain epochs (its seconds over a plain model's, times {EPOCHS}):")
    missed = 0
    for kind, dim, settings in CASES:
        turns = [(seconds("plain", 16, {}), seconds(kind, dim, settings)) for _ in range(2)]
        plain, case = min(t[0] for t in turns), min(t[1] for t in turns)
        measured = case / plain * EPOCHS
        estimate = sum(training_cost(ModelConfig.from_flat({"kind": kind, "latent_dim": dim, **settings}),
                                     TrainConfig(epochs=EPOCHS)).values())
        ok = 0.5 <= measured / estimate <= 2
        missed += not ok
        print(f"{kind:<12} {dim:>2}-D {str(settings):<32} measured {measured:6.1f} ({case:5.1f} s)  "
              f"estimate {estimate:6.1f}  ratio {measured / estimate:4.2f}  {'ok' if ok else 'MISSED (goal 0.5-2)'}")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
