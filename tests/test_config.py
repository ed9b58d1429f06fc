"""ModelConfig is exactly what config.json stores: shared settings plus one section for the kind."""
from __future__ import annotations

import pytest

from aecore.config import KIND_OPTIONS, ModelConfig, TrainConfig


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
