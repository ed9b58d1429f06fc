"""What a training costs, known before it runs, so that a host (the hosted demo) can bound a
training by every setting that scales it, not by its epochs alone: a UMAP model's warm-start
epochs and graph edges per image, a contractive model's code size, wider layers.

The unit is a plain epoch: one pass of the training images through the default mlp autoencoder,
forward and backward (0.25-0.35 s on one core for the bundled sample's 4,500 training images).
The factors were measured on the sample with the mlp body, one thread, 3 epochs each
(`python -m benchmarks.train_cost` prints them again beside the estimates): a contractive model
takes one backward pass per code unit (2.4x a plain epoch at 2-D, 8.5x at 16-D); a UMAP epoch
passes two images per graph edge (1.9x at one edge per image) and its graph costs about one
plain epoch once; a warm start adds its epochs and umap-learn's own map (about 13).

Larger images cost more a step: by the parameters (an mlp's first and last layers grow with the
pixel values) or by the area of the feature maps (a conv body's convolutions grow with H x W),
whichever is larger, both relative to the same body's default config on 28x28 grey. Measured on
the development machine (one thread, steps of 128 images; what is counted here in brackets):
mlp 3x32x32 1.6x (3.2x), 3x64x64 7.1x (12.0x); conv 3x32x32 1.5x (1.3x), 3x64x64 with channels
[32, 64, 64] 5.6x (5.2x). The k-NN graph of a UMAP model grows with the pixel values.
"""
from __future__ import annotations

from ..config import ModelConfig, TrainConfig
from ..model_size import parameter_count
from ..pictures.pixels import MNIST

CONTRACTIVE = (1.5, 0.45)   # per-image cost of a contractive step: 1.5 + 0.45 per code unit
UMAP_GRAPH = (1.0, 1 / 50)  # the fuzzy k-NN graph, once: 1 + n_neighbors / 50
UMAP_MAP = (12.0, 0.3)      # umap-learn's map a warm start pulls to, once: 12 + 0.3 per code unit
NEGATIVES = 1 / 500         # each negative sample per edge adds 0.2% to a UMAP step


def training_cost(model: ModelConfig, training: TrainConfig) -> dict[str, float]:
    """{part: cost in plain epochs} of training `model` as `training` says: "epochs", and for a
    UMAP model "graph" and, when it warm-starts, "warm start". Their sum is the whole cost."""
    o, image = model.options, model.image_shape
    width = parameter_count(model) / parameter_count(ModelConfig(body=model.body))  # wider layers, slower steps
    width = max(width, image.area / MNIST.area)  # larger feature maps, slower convolutions
    per_image = width * (CONTRACTIVE[0] + CONTRACTIVE[1] * model.latent_dim if model.kind == "contractive" else 1.0)
    cost = {"epochs": training.epochs * per_image}
    if model.kind == "umap":
        cost["epochs"] *= 2 * o.umap_edges_per_image * (1 + NEGATIVES * o.umap_negatives)  # two images an edge
        cost["graph"] = (UMAP_GRAPH[0] + UMAP_GRAPH[1] * o.umap_n_neighbors) * max(1.0, image.pixels / MNIST.pixels)
        if o.umap_warm_epochs:
            cost["warm start"] = o.umap_warm_epochs * per_image + UMAP_MAP[0] + UMAP_MAP[1] * model.latent_dim
    return cost


def scaled_by(model: ModelConfig) -> list[str]:
    """The settings of `model` that its cost grows with, besides the epochs (for a message)."""
    return {"contractive": ["code size"],
            "umap": ["umap_edges_per_image", "umap_warm_epochs", "umap_n_neighbors", "umap_negatives"]}.get(model.kind, [])
