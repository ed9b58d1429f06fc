"""ModelConfig is exactly what config.json stores: shared settings plus one section for the kind."""
from __future__ import annotations

import re

import pytest

from aecore.config import KIND_OPTIONS, MAX_PARAMETERS, ModelConfig, TrainConfig
from aecore.model_size import parameter_count


@pytest.mark.parametrize("kind", list(KIND_OPTIONS))
def test_every_kind_round_trips_through_its_dict(kind):
    config = ModelConfig(kind=kind, latent_dim=5, hidden=[8])
    d = config.to_dict()
    assert ModelConfig.from_dict(d) == config
    others = set(KIND_OPTIONS) - {kind}
    assert not others & set(d)  # no other kind's section
    assert (kind in d) == bool(KIND_OPTIONS[kind].__dataclass_fields__)


def test_flat_settings_go_to_the_kind_that_owns_them():
    config = ModelConfig.from_flat({"kind": "sparse", "sparsity": "l1", "rho": 0.1, "latent_dim": 3})
    assert config.options.sparsity == "l1" and config.options.rho == 0.1 and config.latent_dim == 3
    with pytest.raises(ValueError, match="beta do\\(es\\) not apply to a 'sparse' model"):
        ModelConfig.from_flat({"kind": "sparse", "beta": 2.0})
    lenient = ModelConfig.from_flat({"kind": "sparse", "beta": 2.0}, strict=False)
    assert lenient.to_dict()["sparse"]["sparsity"] == "kl"
    with pytest.raises(ValueError, match="unknown field.*colour"):
        ModelConfig.from_flat({"colour": "red"})


def test_options_of_the_wrong_kind_are_refused():
    with pytest.raises(ValueError, match="VAEOptions"):
        ModelConfig(kind="vae", options=KIND_OPTIONS["sparse"]())
    with pytest.raises(ValueError, match="unknown kind"):
        ModelConfig(kind="gan")


def test_training_config_refuses_unknown_fields():
    assert TrainConfig.from_dict(TrainConfig(epochs=3).to_dict()) == TrainConfig(epochs=3)
    with pytest.raises(ValueError, match="unknown field.*epoch\\b"):
        TrainConfig.from_dict({"epoch": 3})


@pytest.mark.parametrize("kind", list(KIND_OPTIONS))
@pytest.mark.parametrize("body, hidden, channels", [
    ("mlp", [32], [4, 8]), ("mlp", [], [4]), ("mlp", [48, 24, 12], []),
    ("conv", [32], [4, 8]), ("conv", [], [3]), ("conv", [16, 8], [2, 4, 6])])
def test_the_parameter_count_from_the_config_is_the_built_models(kind, body, hidden, channels):
    from aecore.models import build_model
    config = ModelConfig(kind=kind, body=body, latent_dim=3, hidden=hidden, channels=channels)
    assert parameter_count(config) == sum(p.numel() for p in build_model(config).parameters())


def test_the_names_a_config_allows_are_the_registries_names():
    from aecore.models.bodies import ACTIVATIONS, BODIES
    from aecore.models import KINDS, RECON_LOSSES
    from aecore.models.penalties import SPARSITY
    from aecore.pictures.noise import NOISES
    from aecore.train.loop import LR_SCHEDULES
    allowed = {"body": BODIES, "activation": ACTIVATIONS, "recon": RECON_LOSSES}
    for field, registry in allowed.items():
        with pytest.raises(ValueError, match=f"unknown {field} 'x'; valid: {', '.join(registry)}$"):
            ModelConfig(**{field: "x"})
    for field, registry in {"noise": NOISES, "sparsity": SPARSITY}.items():
        with pytest.raises(ValueError, match=f"valid: {', '.join(registry)}$"):
            ModelConfig.from_flat({"kind": "denoising" if field == "noise" else "sparse", field: "x"})
    with pytest.raises(ValueError, match=f"valid: {', '.join(LR_SCHEDULES)}$"):
        TrainConfig(lr_schedule="x")
    assert set(KIND_OPTIONS) == set(KINDS)
    # config.py spells some registries out, to stay free of torch: every registered name passes
    from aecore.config import OPTION_RULES, TRAIN_RULES
    for rule, registry in ((OPTION_RULES["noise"], NOISES), (OPTION_RULES["sparsity"], SPARSITY),
                           (TRAIN_RULES["lr_schedule"], LR_SCHEDULES)):
        assert all(rule(name, "x") is None for name in registry)


@pytest.mark.parametrize("field, value, expected", [
    ("latent_dim", -3, "whole number from 1 to 1,024"), ("latent_dim", 10**8, "from 1 to 1,024"),
    ("latent_dim", True, "whole number"), ("latent_dim", 2.0, "whole number"), ("latent_dim", "2", "whole number"),
    ("latent_dim", None, "whole number"), ("hidden", [200000, 200000], "each from 1 to 4,096"),
    ("hidden", 64, "a list of at most 8"), ("hidden", [64, None], "a list"), ("hidden", [1] * 9, "at most 8"),
    ("channels", [0], "each from 1 to 256"), ("dropout", 1.0, "[0, 1)"), ("dropout", float("nan"), "[0, 1)"),
    ("activation", ["relu"], "unknown activation"), ("body", {"name": "mlp"}, "unknown body"),
])
def test_a_model_field_of_the_wrong_type_or_range_is_refused_by_name(field, value, expected):
    with pytest.raises(ValueError, match=re.escape(expected)) as err:
        ModelConfig(**{field: value})
    assert field in str(err.value) and len(str(err.value).splitlines()) == 1 and len(str(err.value)) < 300


@pytest.mark.parametrize("kind, field, value, expected", [
    ("vae", "beta", -1, r"\[0, 1e\+06\]"), ("vae", "beta", "1", "a number"), ("sparse", "rho", 0, r"\(0, 1\)"),
    ("neighbour", "neighbour_k", 0, "from 1 to 256"), ("umap", "umap_negatives", 1.5, "whole number"),
    ("denoising", "noise_level", 2.0, "fraction of pixels in \\[0, 1\\] for masking"),
])
def test_a_kinds_setting_out_of_range_is_refused_by_name(kind, field, value, expected):
    flat = {"kind": kind, field: value, **({"noise": "masking"} if field == "noise_level" else {})}
    with pytest.raises(ValueError, match=f'"{kind}" section field "{field}" is .*{expected}'):
        ModelConfig.from_flat(flat)


@pytest.mark.parametrize("field, value, expected", [
    ("epochs", 0, "from 1 to 1,000"), ("lr", 1e30, r"\(0, 1\]"), ("lr", 0, r"\(0, 1\]"),
    ("val_fraction", 1.0, r"\[0, 1\)"), ("seed", -1, "from 0 to"), ("batch_size", "64", "whole number"),
])
def test_a_training_field_of_the_wrong_type_or_range_is_refused_by_name(field, value, expected):
    with pytest.raises(ValueError, match=f'training config field "{field}" is .*; expected .*{expected}'):
        TrainConfig(**{field: value})


def test_a_model_above_the_budget_is_refused_with_its_size_before_anything_is_built():
    config = dict(kind="plain", body="mlp", latent_dim=1024, hidden=[4096] * 8)
    with pytest.raises(ValueError, match=r"describes 2\d\d,\d{3},\d{3} parameters .* the limit is 25,000,000"):
        ModelConfig(**config)
    assert parameter_count(ModelConfig(kind="vae", hidden=[512, 256])) < MAX_PARAMETERS / 20


def test_a_config_may_name_a_dataset_that_is_not_on_this_machine():
    assert TrainConfig(dataset="my-notebook.set_2").dataset == "my-notebook.set_2"
    with pytest.raises(ValueError, match="dataset name"):
        TrainConfig(dataset="../../etc")
    from aecore.train import train
    with pytest.raises(ValueError, match="unknown dataset 'nope'; valid: mnist"):  # training on it says so
        train(ModelConfig(), TrainConfig(dataset="nope"))
