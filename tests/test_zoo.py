"""The shipped checkpoints: they load, match their recipe, and their stored metrics hold."""
from __future__ import annotations

import os

import numpy as np
import pytest

from aecore.checkpoint import list_checkpoints, load_checkpoint, stored_codes, weights_digest
from aecore.config import ModelConfig, TrainConfig
from aecore.data import available_datasets, load_dataset
from aecore.latent import encode_dataset, reconstruct
from aecore.measure import metrics, zoo
from aecore.measure.evaluate import evaluate

RECIPE = zoo.load_recipe()
HERE = available_datasets()
DATA_DIR = os.environ.get("AECORE_DATA_DIR")  # as CI set it; app fixtures repoint it later


def test_every_recipe_entry_is_shipped_and_loads_strictly():
    valid, skipped = list_checkpoints(zoo.ZOO_DIR)
    assert skipped == []
    assert sorted(p.name for p in valid) == sorted(RECIPE)
    for path in valid:  # the listing checked what needs no torch; this is the strict load
        load_checkpoint(path)


@pytest.mark.parametrize("name", list(RECIPE))
def test_checkpoint_was_trained_from_its_recipe(name):
    ckpt = load_checkpoint(zoo.ZOO_DIR / name)
    assert ckpt.model.config == ModelConfig.from_dict(RECIPE[name]["model"])
    assert TrainConfig.from_dict(ckpt.config["training"]) == TrainConfig.from_dict(RECIPE[name]["training"])
    assert ckpt.config["about"] == RECIPE[name]["about"]  # its anchors and twin come with it
    assert ckpt.config["train_seconds"] <= 600, "each checkpoint trains in at most 10 minutes"
    on = ckpt.metrics["measured_on"]
    assert on["dataset"] == RECIPE[name]["training"]["dataset"] == ckpt.dataset
    assert on["split"] == "test" and on["size"] == 10_000


@pytest.mark.parametrize("name", list(RECIPE))
def test_checkpoint_carries_its_training_history_well_under_a_megabyte(name):
    ckpt = load_checkpoint(zoo.ZOO_DIR / name)
    recorded = ckpt.recorded()  # checked against config.json's epochs as it loads
    assert recorded is not None, f"{name} has no history.safetensors: retrain it with `python -m aecore zoo {name}`"
    assert recorded["epochs"][-1] == len(ckpt.config["history"]) and len(recorded["maps"]) <= 40
    assert (zoo.ZOO_DIR / name / "history.safetensors").stat().st_size < 600_000  # colour: fewer frames
    assert (recorded["index"] == np.arange(1000)).all()  # the same test images for every checkpoint


@pytest.mark.parametrize("name", list(RECIPE))
def test_stored_codes_are_what_the_shipped_weights_give(name, monkeypatch):
    """The app draws a first map from these without torch: they must be the model's own codes."""
    if DATA_DIR:
        monkeypatch.setenv("AECORE_DATA_DIR", DATA_DIR)
    ckpt = load_checkpoint(zoo.ZOO_DIR / name)
    found = {}
    for dataset in (ckpt.dataset, "mnist-sample" if ckpt.dataset == "mnist" else None):
        if dataset and HERE.get(dataset):
            images = load_dataset(dataset, "test").images
            if (codes := stored_codes(ckpt.path, weights_digest(ckpt.path), images)) is not None:
                found[dataset] = codes
                np.testing.assert_allclose(codes, encode_dataset(ckpt.model, images), rtol=1e-4, atol=1e-5)
    if ckpt.dataset == "mnist":  # the bundled sample is always here, and its codes always fit
        assert "mnist-sample" in found, f"{name} stores no codes: run aecore.checkpoint.store_codes on it"
    elif not found:
        pytest.skip(f"{ckpt.dataset} is not on this machine" + (" (python -m aecore download sprites makes it)"
                                                                 if ckpt.dataset == "sprites" else ""))


def test_checkpoints_fit_in_50_mb():
    """40 MB held the 14 grey entries (38 MB); the colour entries on 64x64x3 sprites add weights
    of 1-2 MB, 10,000 stored codes and histories of 147 KB a frame each: 50 MB holds them."""
    total = sum(p.stat().st_size for p in zoo.ZOO_DIR.rglob("*") if p.is_file())
    assert total <= 50 * 2**20


def test_committed_report_is_what_report_prints():
    assert (zoo.ZOO_DIR / "README.md").read_text() == zoo.report()


# Reproduce the cheap, deterministic metrics; the search-based ones (trustworthiness, AAF/MAF)
# run on the same codes, so matching codes and errors covers them.
REPRODUCED = ["sse_per_image", "mse_per_pixel", "knn1", "knn5", "denoise_psnr", "code_mean_activation",
              "jacobian_frobenius", "neg_elbo", "mig"]


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RECIPE))
def test_stored_metrics_reproduce_within_one_percent(name, monkeypatch):
    dataset = RECIPE[name]["training"]["dataset"]
    if not HERE.get(dataset):
        pytest.skip(f"{dataset} is not available here (MNIST: ../shared/data; Fashion-MNIST: "
                    "apt-get install dataset-fashion-mnist; sprites: python -m aecore download sprites)")
    if DATA_DIR:
        monkeypatch.setenv("AECORE_DATA_DIR", DATA_DIR)
    monkeypatch.setattr(metrics, "trustworthiness", lambda *a, **k: float("nan"))
    monkeypatch.setattr(metrics, "approximation_factors", lambda *a, **k: {})
    ckpt = load_checkpoint(zoo.ZOO_DIR / name)
    measured = evaluate(ckpt.model, dataset)["metrics"]
    for key in REPRODUCED:
        if key in ckpt.metrics["metrics"]:
            assert measured[key] == pytest.approx(ckpt.metrics["metrics"][key], rel=0.01, abs=1e-6), key


@pytest.mark.parametrize("name", [n for n, e in RECIPE.items() if e["training"]["dataset"] == "mnist"])
def test_bundled_sample_gives_errors_in_the_stored_range(name):
    """On a fresh machine without full MNIST: the 1,000 sample test digits are MNIST (training)
    digits, so a checkpoint reconstructs them about as well as the official test set (within 2x)."""
    ckpt = load_checkpoint(zoo.ZOO_DIR / name)
    test = load_dataset("mnist-sample", "test")
    sse = metrics.reconstruction_errors(test.images, reconstruct(ckpt.model, test.images))["sse_per_image"]
    stored = ckpt.metrics["metrics"]["sse_per_image"]
    assert stored / 2 <= sse <= stored * 2
    assert np.isfinite(sse)


def test_goals_are_data_that_measure_against_twins_and_baselines():
    ckpts = {"a": {"metrics": {"sse_per_image": 12.0, "maf": 1.4}}, "twin": {"metrics": {"sse_per_image": 10.0}}}
    base = {"pca-20": {"maf": 1.9}}
    ratio = {"metric": "sse_per_image", "at_most": 1.25, "over": "twin", "by": "times", "format": ".3f"}
    assert zoo.measure_goal("a", ratio, ckpts, base) == ("12.000 vs 10.000 (x1.20)", True)
    assert zoo.measure_goal("a", {**ratio, "at_most": 1.1}, ckpts, base)[1] is False
    plus = {"metric": "sse_per_image", "at_least": 3.0, "over": "twin", "by": "plus", "format": ".1f"}
    assert zoo.measure_goal("a", plus, ckpts, base) == ("12.0 vs 10.0", False)
    beside = {"metric": "maf", "at_most": 1.5, "beside": "baseline pca-20", "format": ".2f"}
    assert zoo.measure_goal("a", beside, ckpts, base) == ("1.40 (PCA-20 1.90)", True)
    with pytest.raises(KeyError):
        zoo.measure_goal("untrained", beside, ckpts, base)


DISENTANGLING = "sprites-tcvae"  # the zoo's disentangling model (its recipe's purpose says so)


def test_shipped_disentangling_model_has_twice_the_plain_vaes_mig():
    """Issue 25's goal, on the shipped files: the disentangling checkpoint's MIG is at least twice
    the plain VAE's on the same images (the published figure is a goal in the report, not met)."""
    goal = next(g for g in RECIPE[DISENTANGLING]["goals"] if g["metric"] == "mig" and g.get("over") == "sprites-vae")
    shown, met = zoo.measure_goal(DISENTANGLING, goal, zoo.collect(), {})
    assert met, f"{DISENTANGLING}: {goal['goal']}: measured {shown}"


def test_zoo_has_colour_entries_with_traversals_in_the_report():
    """Issue 24's colour zoo and issue 25's grids: checkpoints on the 64x64 colour sprites, a 2-D
    one among them, each with its traversal grid shown in the committed report."""
    colour = [n for n, e in RECIPE.items() if e["model"].get("image") == [3, 64, 64]]
    assert colour and any(RECIPE[n]["model"]["latent_dim"] == 2 for n in colour)
    text = (zoo.ZOO_DIR / "README.md").read_text()
    for name in colour:
        assert (zoo.ZOO_DIR / name / zoo.TRAVERSALS).is_file() and f"({name}/{zoo.TRAVERSALS})" in text
