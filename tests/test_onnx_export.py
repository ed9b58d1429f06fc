"""`python -m aecore export-onnx`: an exported checkpoint gives the original's codes, images,
samples and weight images; `evaluate` measures an ONNX folder and says what it could not; the
README's own PyTorch example runs and gives a folder the explorer opens."""
from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from factories import tiny_config
from onnx_factories import run_readme_example

from aecore.__main__ import main
from aecore.checkpoint import METRICS, ONNX_JSON, load_checkpoint, save_checkpoint
from aecore.config import TrainConfig
from aecore.latent import decode_codes, encode_dataset, sample_codes, units
from aecore.measure.card import metric_rows, model_card
from aecore.models import build_model

MODELS = {"mlp-vae": ("vae", "mlp"), "conv-sparse": ("sparse", "conv")}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """exported(name) -> (original folder, exported folder, what the command printed) of a tiny
    untrained model in MODELS, exported on first use (a few seconds each)."""
    root, done = tmp_path_factory.mktemp("export"), {}

    def get(name: str) -> tuple[Path, Path, str]:
        if name not in done:
            torch.manual_seed(0)
            original = save_checkpoint(root / name, build_model(tiny_config(*MODELS[name])), TrainConfig(),
                                       {"name": "mnist-sample"}, 1.0, about={"title": f"Tiny {name}"})
            with contextlib.redirect_stdout(io.StringIO()) as said:
                assert main(["export-onnx", str(original), str(root / f"{name}-onnx")]) == 0
            done[name] = (original, root / f"{name}-onnx", said.getvalue())
        return done[name]
    return get


@pytest.mark.slow  # torch.onnx.export of two checkpoints: seconds each
@pytest.mark.parametrize("name", ["mlp-vae", "conv-sparse"])
def test_an_exported_checkpoint_gives_the_same_codes_images_and_pictures(exported, name, images, capsys):
    a, b = (load_checkpoint(p) for p in exported(name)[:2])
    x = images[:, 0].numpy()
    codes_a, codes_b = encode_dataset(a.model, x), encode_dataset(b.model, x)
    assert np.abs(codes_a - codes_b).max() <= 1e-4
    assert np.abs(decode_codes(a.model, codes_a) - decode_codes(b.model, codes_a)).max() <= 1e-4
    # what the pages ask of a model carries over: prior, code activation, weight images, drawings
    assert (b.model.has_prior, b.model.code_activation) == (a.model.has_prior, a.model.code_activation)
    np.testing.assert_array_equal(b.model.first_layer_weights(), a.model.first_layer_weights())
    np.testing.assert_allclose(units.unit_drawings(b.model, codes_b), units.unit_drawings(a.model, codes_a), atol=1e-4)
    np.testing.assert_allclose(sample_codes(b.model, 5, 3, codes_b), sample_codes(a.model, 5, 3, codes_a), atol=1e-4)
    assert b.dataset == "mnist-sample" and b.config["about"]["title"] == f"Tiny {name}"
    card = model_card(b)
    assert card["kind"] == f"{a.model.kind} (onnx)" and card["code size"] == "4"
    assert card["input"].startswith("(B, 1, 28, 28)")


def test_the_export_command_reports_how_close_it_is_and_refuses_onnx_folders(exported, capsys, tmp_path):
    original, onnx_folder, said = exported("mlp-vae")
    found = re.search(r"codes differ .* by at most (\S+), decoded pixels by at most (\S+)", said)
    assert found and max(float(v) for v in found.groups()) <= 1e-4
    assert json.loads((onnx_folder / ONNX_JSON).read_text())["prior"] == "normal"
    assert main(["export-onnx", str(onnx_folder), str(tmp_path / "twice")]) == 1
    assert "already a folder of ONNX graphs" in capsys.readouterr().err


def test_evaluate_measures_an_onnx_folder_and_says_what_it_cannot(exported, monkeypatch, capsys):
    folder = exported("mlp-vae")[1]
    assert main(["evaluate", str(folder), "--dataset", "mnist-sample", "--max-test", "200", "--json"]) == 0
    metrics = json.loads((folder / METRICS).read_text())
    assert {"knn5", "sse_per_image", "denoise_psnr", "trustworthiness"} <= set(metrics["metrics"])
    assert set(metrics["unavailable"]) == {"jacobian_frobenius", "neg_elbo"}
    rows = {r["metric"]: r for r in metric_rows(load_checkpoint(folder))}
    assert rows["jacobian_frobenius"]["value"] is None
    assert "not measured: no encoder Jacobian" in rows["jacobian_frobenius"]["meaning"]


@pytest.mark.slow  # it trains for three epochs
def test_the_readme_example_gives_a_model_the_explorer_opens(tmp_path, capsys):
    ckpt = load_checkpoint(run_readme_example(tmp_path))
    assert ckpt.model.latent_dim == 2 and ckpt.config["about"]["title"] == "My 2-D autoencoder"
    assert model_card(ckpt)["layer sizes"] == "1×28×28 → 256 → 2 → 256 → 784"
    assert units.first_layer_filters(ckpt.model)[0].shape == (64, 28, 28)


def _export_colour(tmp_path, body: str, image: list[int]) -> tuple[Path, Path, str]:
    torch.manual_seed(0)
    config = tiny_config("vae", body, image=image)
    original = save_checkpoint(tmp_path / "colour", build_model(config), TrainConfig(), {"name": "swatches"}, 1.0,
                               about={"title": "Tiny colour VAE"})
    with contextlib.redirect_stdout(io.StringIO()) as said:
        assert main(["export-onnx", str(original), str(tmp_path / "colour-onnx")]) == 0
    return original, tmp_path / "colour-onnx", said.getvalue()


@pytest.mark.slow  # torch.onnx.export of both halves: about 10 s
@pytest.mark.parametrize("body, image", [("mlp", [3, 32, 32]), ("conv", [3, 32, 24]), ("broadcast", [3, 32, 24])])
def test_a_colour_model_exports_to_graphs_that_open_with_the_same_codes(tmp_path, body, image):
    original, folder, said = _export_colour(tmp_path, body, image)
    a, b = load_checkpoint(original), load_checkpoint(folder)
    shape = a.model.image_shape
    assert b.model.image_shape == shape and json.loads((folder / ONNX_JSON).read_text())["image"] == image
    assert model_card(b)["input"].startswith(f"(B, {', '.join(map(str, image))}), {shape} images")
    # its dataset is not on this machine: compared on seeded noise of its shape, and said so
    assert f"on 1,000 images of uniform noise ({shape}, seed 0), codes differ" in said
    x = np.random.default_rng(0).integers(0, 256, (20, *shape.display), dtype=np.uint8)  # as a dataset has them
    codes_a, codes_b = encode_dataset(a.model, x), encode_dataset(b.model, x)
    assert np.abs(codes_a - codes_b).max() <= 1e-4
    pictures_a, pictures_b = decode_codes(a.model, codes_a), decode_codes(b.model, codes_a)
    assert pictures_b.shape == (20, *shape.display) and np.abs(pictures_a - pictures_b).max() <= 1e-4
    np.testing.assert_array_equal(b.model.first_layer_weights(), a.model.first_layer_weights())
