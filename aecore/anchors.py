"""Published numbers to hold our checkpoints against: checkpoint name -> metric -> (value, source).

Metric names are those of metrics.json (aecore.evaluate). Used by the app's model card and the
zoo report; a checkpoint not named here simply has no anchors.
"""
from __future__ import annotations

ANCHORS: dict[str, dict[str, tuple[float, str]]] = {
    "ae-2d": {"knn5": (0.7926, "Sainburg et al. 2021, plain AE 2-D"),
              "mse_per_pixel": (0.0369, "Sainburg et al. 2021, plain AE 2-D")},
    "vae-2d": {"neg_elbo": (146.95, "Keras VAE example")},
    "deep-30d": {"sse_per_image": (3.00, "Hinton & Salakhutdinov 2006")},
    "umap-2d": {"knn5": (0.9537, "Sainburg 2021 UMAP+AE"),
                "mse_per_pixel": (0.0360, "Sainburg 2021 UMAP+AE")},
    "neighbour-20d": {"maf": (1.7, "seed 000, 20-D")},
    "vae-16d": {"knn1": (0.9785, "Sainburg 2021, 64-D VAE")},
}


def anchors_for(checkpoint_name: str) -> dict[str, tuple[float, str]]:
    """{metric: (published value, source)} for a checkpoint name; {} when there are none."""
    return ANCHORS.get(checkpoint_name, {})
