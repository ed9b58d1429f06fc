"""The two config objects. `ModelConfig` is exactly what a checkpoint's config.json stores under
"model": it builds the network, nothing else is ever inferred from a file or folder name."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class ModelConfig:
    kind: str = "plain"            # plain | denoising | sparse | contractive | vae | neighbour | umap
    body: str = "mlp"              # mlp | conv
    latent_dim: int = 2            # size of the code z (under- or overcomplete)
    hidden: list[int] = field(default_factory=lambda: [512, 256])  # dense layers, encoder order; [] = shallow
    channels: list[int] = field(default_factory=lambda: [32, 64])  # conv body: first two convs stride 2
    activation: str = "relu"       # relu | leaky_relu | elu | gelu | silu | tanh
    dropout: float = 0.0           # dropout after every hidden activation (seed 004)
    recon: str = "bce"             # mse | bce, both summed over the 784 pixels, mean over images
    # denoising: the corruption applied to the input during training only
    noise: str = "gaussian"        # gaussian | salt_pepper | masking
    noise_level: float = 0.5       # sigma for gaussian, fraction of pixels otherwise
    # sparse: penalty on the code activations
    sparsity: str = "kl"           # l1 (relu code, activity L1) | kl (sigmoid code, KL to rho) | log (sigmoid, sum log(1+p^2))
    sparsity_weight: float = 1.0   # weight of the sparsity term
    rho: float = 0.05              # target mean activation for kl
    # contractive: squared Frobenius norm of the encoder Jacobian
    contractive_weight: float = 0.1
    # vae
    beta: float = 1.0              # weight of the KL term (1 = the ELBO)
    # neighbour (seed 000): keep the ratios of k-NN distances from pixel to code space
    neighbour_k: int = 10          # neighbours per image, within a batch, itself excluded
    neighbour_weight: float = 1.0
    # umap: cross-entropy on the fuzzy k-NN graph (Parametric UMAP) plus reconstruction
    umap_n_neighbors: int = 15
    umap_min_dist: float = 0.1
    umap_negatives: int = 5        # negative samples per positive edge
    umap_weight: float = 1.0

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        return _strict(cls, d, "model config")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainConfig:
    dataset: str = "mnist-sample"  # any name in aecore.data.DATASETS
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3               # Adam learning rate
    lr_schedule: str = "cosine"    # constant | cosine (decay to 0 over the epochs)
    weight_decay: float = 0.0
    val_fraction: float = 0.1      # held out of the train split for validation
    seed: int = 0                  # weights, shuffling, noise, edge sampling
    max_train: int = 0             # use at most this many train images (0 = all)
    augment_shift: int = 0         # shift training images by up to this many pixels (0 = off)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return _strict(cls, d, "training config")

    def to_dict(self) -> dict:
        return asdict(self)


def _strict(cls, d: dict, what: str):
    """Build `cls` from `d`, refusing unknown fields: a config from elsewhere must not half-load."""
    if not isinstance(d, dict):
        raise ValueError(f"{what} must be a JSON object, found {type(d).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - names)
    if unknown:
        raise ValueError(f"{what} has unknown field(s) {unknown}; valid fields: {sorted(names)}")
    return cls(**d)
