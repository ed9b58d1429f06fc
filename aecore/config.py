"""The two config objects. `ModelConfig` is exactly what a checkpoint's config.json stores under
"model": it builds the network, nothing else is ever inferred from a file or folder name.

A model config holds the settings every kind shares, plus one section with the settings of its own
kind ({"kind": "vae", ..., "vae": {"beta": 1.0}}); a plain autoencoder's config says nothing of
sparsity or UMAP. Format-1 checkpoints stored every kind's settings flat: `from_flat` reads them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from .checks import check_fields, lookup, names, number, shown, sizes, whole
from .model_size import parameter_count
from .pictures.pixels import MNIST, ImageShape

MAX_PARAMETERS = 25_000_000  # the most weights a config may describe: 100 MB of float32, 20x the largest shipped model


# --- each kind's own settings ---------------------------------------------------------------
@dataclass
class DenoisingOptions:
    noise: str = "gaussian"        # gaussian | salt_pepper | masking: what the objective does to the input
    noise_level: float = 0.5       # sigma for gaussian, fraction of pixels otherwise


@dataclass
class SparseOptions:
    # l1: relu code, activity L1 | kl: sigmoid code, KL to rho | log: sigmoid code, sum log(1 + p^2)
    sparsity: str = "kl"
    sparsity_weight: float = 1.0   # weight of the sparsity term
    rho: float = 0.05              # target mean activation for kl


@dataclass
class ContractiveOptions:
    contractive_weight: float = 0.1  # weight of the squared Frobenius norm of the encoder Jacobian


@dataclass
class VAEOptions:
    beta: float = 1.0              # weight of the KL term (1 = the ELBO)
    total_correlation: float = field(default=0.0, metadata={"written": "when set"})  # beta-TCVAE: extra KL weight on the total correlation (stored when set)


@dataclass
class NeighbourOptions:
    neighbour_k: int = 10          # neighbours per image, within a batch, itself excluded (seed 000)
    neighbour_weight: float = 1.0


@dataclass
class UMAPOptions:
    umap_n_neighbors: int = 15     # neighbours of the fuzzy k-NN graph (Parametric UMAP)
    umap_min_dist: float = 0.1
    umap_negatives: int = 5        # negative samples per positive edge
    umap_weight: float = 1.0
    umap_edges_per_image: float = 1.0  # graph edges drawn per training image and epoch
    umap_warm_epochs: int = 0      # first pull the codes to umap-learn's map of the training images (0 = off)
    umap_anchor_weight: float = 1.0  # weight of that pull (squared distance in the map), while warm-starting
    umap_freeze_map: bool = False  # after the warm start, train the decoder alone over the frozen map
    umap_warm_shift: int = 0       # shift augmentation (pixels) while warm-starting; the training's afterwards


@dataclass
class NoOptions:
    """The plain autoencoder has no settings of its own."""


KIND_OPTIONS: dict[str, type] = {
    "plain": NoOptions, "denoising": DenoisingOptions, "sparse": SparseOptions,
    "contractive": ContractiveOptions, "vae": VAEOptions, "neighbour": NeighbourOptions,
    "umap": UMAPOptions,
}


# what each kind's settings allow (the names are unique across kinds: from_flat relies on it)
WEIGHT = number(0, 1e6)  # a penalty's weight
OPTION_RULES = {
    "noise": names(dict.fromkeys(("gaussian", "salt_pepper", "masking"))),  # aecore.pictures.noise.NOISES
    "noise_level": number(0, 10),
    "sparsity": names(dict.fromkeys(("l1", "kl", "log"))),  # aecore.models.penalties.SPARSITY
    "sparsity_weight": WEIGHT, "rho": number(0, 1, low_open=True, high_open=True),
    "contractive_weight": WEIGHT, "beta": WEIGHT, "total_correlation": WEIGHT,
    "neighbour_k": whole(1, 256), "neighbour_weight": WEIGHT,
    "umap_n_neighbors": whole(2, 200), "umap_min_dist": number(0, 1), "umap_negatives": whole(0, 100),
    "umap_weight": WEIGHT, "umap_edges_per_image": number(0, 100, low_open=True),
    "umap_warm_epochs": whole(0, 1000), "umap_anchor_weight": WEIGHT, "umap_warm_shift": whole(0, 8),
}


def _check_options(options, kind: str) -> None:
    what = f'model config "{kind}" section'
    check_fields(options, {k: v for k, v in OPTION_RULES.items() if hasattr(options, k)}, what)
    if getattr(options, "noise", "gaussian") != "gaussian" and options.noise_level > 1:
        raise ValueError(f'{what} field "noise_level" is {options.noise_level}; expected a fraction of '
                         f"pixels in [0, 1] for {options.noise} noise")


def _field_names(cls) -> set[str]:
    return {f.name for f in fields(cls)}


# --- the model ------------------------------------------------------------------------------
@dataclass
class ModelConfig:
    kind: str = "plain"            # a name in KIND_OPTIONS (and aecore.models.KINDS)
    body: str = "mlp"              # mlp | conv | broadcast (the conv encoder, a spatial broadcast decoder)
    latent_dim: int = 2            # size of the code z (under- or overcomplete)
    hidden: list[int] = field(default_factory=lambda: [512, 256])  # dense layers, encoder order; [] = shallow
    channels: list[int] = field(default_factory=lambda: [32, 64])  # conv and broadcast bodies (model_size.conv_plan)
    activation: str = "relu"       # relu | leaky_relu | elu | gelu | silu | tanh
    dropout: float = 0.0           # dropout after every hidden activation (seed 004)
    recon: str = "bce"             # mse | bce, both summed over the image's C*H*W pixel values, mean over images
    image: list[int] = field(default_factory=MNIST.to_list)  # [C, H, W] of the images it takes; absent in config.json: MNIST
    options: object = None         # the kind's own settings (KIND_OPTIONS[kind]); None: its defaults

    def __post_init__(self) -> None:
        """Check every field (type, range, allowed names) and the size of the model it describes,
        so nothing is built from a config that could not be."""
        cls = lookup(KIND_OPTIONS, self.kind, "kind")
        if self.options is None:
            self.options = cls()
        elif isinstance(self.options, dict):
            self.options = _strict(cls, self.options, f'model config "{self.kind}" section')
        elif not isinstance(self.options, cls):
            raise ValueError(f"a {self.kind!r} model takes {cls.__name__}, got {type(self.options).__name__}")
        check_fields(self, MODEL_RULES, "model config", skip=("options", "image"))
        self.image = ImageShape.from_list(self.image, 'model config field "image"').to_list()
        _check_options(self.options, self.kind)
        if self.body != "mlp" and not self.channels:
            raise ValueError(f'model config field "channels" is []; a {self.body} body needs 1 to 4 channel counts, e.g. [32, 64]')
        if (n := parameter_count(self)) > MAX_PARAMETERS:
            raise ValueError(f"model config describes {n:,} parameters ({4 * n / 1e6:,.0f} MB of float32 "
                             f"weights) for {self.image_shape} images; the limit is {MAX_PARAMETERS:,}: use "
                             "fewer or narrower layers (a conv body makes fewer features of a large image)")

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        """From config.json's "model": the shared fields and one section named by the kind."""
        _object(d, "model config")
        shared = _field_names(cls) - {"options"}
        kind = d.get("kind", "plain")
        lookup(KIND_OPTIONS, kind, "kind")
        has_section = bool(_field_names(KIND_OPTIONS[kind]))
        unknown = sorted(set(d) - shared - ({kind} if has_section else set()))
        if unknown:
            raise ValueError(_unknown("model config", unknown, shared | ({kind} if has_section else set())))
        section = d.get(kind)
        if section is not None:
            _object(section, f'model config "{kind}" section')
        return cls(**{k: v for k, v in d.items() if k in shared}, options=dict(section or {}))

    @classmethod
    def from_flat(cls, d: dict, strict: bool = True) -> "ModelConfig":
        """From one flat dict of shared and option fields, as the command line's flags and format-1
        checkpoints give them. strict: another kind's settings are an error (a flag that would be
        ignored); not strict: they are dropped (format 1 stored every kind's settings)."""
        _object(d, "model config")
        shared = _field_names(cls) - {"options"}
        kind = d.get("kind", "plain")
        own = _field_names(lookup(KIND_OPTIONS, kind, "kind"))
        every = set().union(*(_field_names(c) for c in KIND_OPTIONS.values()))
        if strict and (other := sorted(set(d) & (every - own))):
            raise ValueError(f"{', '.join(other)} do(es) not apply to a {kind!r} model; its own "
                             f"settings: {', '.join(sorted(own)) or 'none'}")
        unknown = sorted(set(d) - shared - every)
        if unknown:
            raise ValueError(_unknown("model config", unknown, shared | every))
        return cls(**{k: v for k, v in d.items() if k in shared},
                   options={k: v for k, v in d.items() if k in own})

    @property
    def image_shape(self) -> ImageShape:
        """The shape of the images the model takes and gives."""
        return ImageShape.from_list(self.image)

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "options"}
        out = {k: list(v) if isinstance(v, list) else v for k, v in out.items()}
        if _field_names(type(self.options)):
            out[self.kind] = {f.name: getattr(self.options, f.name) for f in fields(self.options)
                              if f.metadata.get("written") != "when set" or getattr(self.options, f.name) != f.default}
        return out


MODEL_RULES = {
    "body": names(dict.fromkeys(("mlp", "conv", "broadcast"))),  # aecore.models.bodies.BODIES
    "latent_dim": whole(1, 1024), "hidden": sizes(1, 4096, max_len=8), "channels": sizes(1, 256, max_len=4),
    "activation": names(dict.fromkeys(("relu", "leaky_relu", "elu", "gelu", "silu", "tanh"))),  # bodies.ACTIVATIONS
    "dropout": number(0, 1, high_open=True),
    "recon": names(dict.fromkeys(("mse", "bce"))),  # aecore.models.autoencoder.RECON_LOSSES
}

# --- training -------------------------------------------------------------------------------
PRECISIONS = ("float32", "bfloat16")  # bfloat16: about half an epoch's time on CPUs with AVX512-BF16 or AMX

@dataclass
class TrainConfig:
    dataset: str = "mnist-sample"  # any name in aecore.data.DATASETS
    epochs: int = 10
    batch_size: int = 128
    lr: float = 1e-3               # Adam learning rate
    lr_schedule: str = "cosine"    # constant | cosine (decay to 0 over the epochs)
    weight_decay: float = 0.0
    val_fraction: float = 0.1      # held out of the train split for validation
    seed: int = 0                  # weights, shuffling, noise, edge sampling, the UMAP graph
    max_train: int = 0             # use at most this many train images (0 = all)
    augment_shift: int = 0         # shift training images by up to this many pixels (0 = off)
    ema: float = 0.0               # decay of a moving average of the weights, kept as the model (0 = off)
    precision: str = "float32"     # float32 | bfloat16 (autocast for the training steps; weights stay float32)

    def __post_init__(self) -> None:
        check_fields(self, TRAIN_RULES, "training config")

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return _strict(cls, d, "training config")

    def to_dict(self) -> dict:
        return asdict(self)


def _dataset_name(v, field):
    """A dataset's name as the registry writes them (a user's set need not be on this machine
    for a config that names it to load; training on it says when it is missing)."""
    import re
    ok = isinstance(v, str) and len(v) <= 100 and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", v) is not None
    return None if ok else "a dataset name (letters, digits, '.', '_' and '-', such as mnist or fashion-mnist)"


TRAIN_RULES = {
    "dataset": _dataset_name, "epochs": whole(1, 1000), "batch_size": whole(1, 8192),
    "lr": number(0, 1, low_open=True), "lr_schedule": names(dict.fromkeys(("constant", "cosine"))),  # train.loop
    "weight_decay": number(0, 1, high_open=True), "val_fraction": number(0, 1, high_open=True),
    "seed": whole(0, 2**32 - 1), "max_train": whole(0, 10_000_000), "augment_shift": whole(0, 8),
    "ema": number(0, 1, high_open=True), "precision": names(dict.fromkeys(PRECISIONS)),  # train.loop
}


def _object(d, what: str) -> None:
    if not isinstance(d, dict):
        raise ValueError(f"{what} must be a JSON object ({{...}}), found {shown(d)}")


def _unknown(what: str, unknown: list[str], valid: set[str]) -> str:
    return f"{what} has unknown field(s) {shown(unknown, 100)}; valid fields: {sorted(valid)}"


def _strict(cls, d: dict, what: str):
    """Build `cls` from `d`, refusing unknown fields: a config from elsewhere must not half-load."""
    _object(d, what)
    valid = _field_names(cls)
    unknown = sorted(set(d) - valid)
    if unknown:
        raise ValueError(_unknown(what, unknown, valid))
    return cls(**d)
