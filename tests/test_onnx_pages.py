"""Every page with a model brought as ONNX graphs (AppTests on the bundled sample): an export of
the shared tiny 2-D checkpoint, and a channels-last linear model built with onnx.helper. What a
graph cannot give (the input gradient) is said, not an error."""
import contextlib
import io

import pytest
from factories import CKPT_2D, clean, shared_checkpoints
from onnx_factories import linear_pair

from aecore.__main__ import main

PAGES = ["pages/1_overview.py", "pages/2_latent_map.py", "pages/3_generate.py", "pages/4_denoise.py",
         "pages/5_units.py"]
EXPORTED, KERAS_LIKE = "tiny-ae-2d-onnx", "channels-last-onnx"


@pytest.fixture(scope="module")
def onnx_checkpoints(app_env, tmp_path_factory):
    """The shared checkpoints, the 2-D one exported to ONNX, and a channels-last ONNX model, as
    AECORE_CHECKPOINTS."""
    with shared_checkpoints(app_env, tmp_path_factory.mktemp("onnx-app") / "checkpoints") as folder:
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["export-onnx", str(folder / CKPT_2D), str(folder / EXPORTED)]) == 0
        linear_pair(folder / KERAS_LIKE, d=2, layout="(B, 28, 28, 1)")
        yield folder


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("checkpoint", [EXPORTED, pytest.param(KERAS_LIKE, marks=pytest.mark.slow)])
def test_every_page_works_with_an_onnx_model(onnx_checkpoints, open_page, page, checkpoint):
    at = clean(open_page(page, checkpoint))
    assert len(at.image) >= 1
    if page.endswith("overview.py"):
        card = at.table[0].value
        layout = "(B, 28, 28, 1)" if checkpoint == KERAS_LIKE else "(B, 1, 28, 28)"
        assert card.loc["input"].iloc[0].startswith(layout)
        assert card.loc["code size"].iloc[0] == "2"
    if page.endswith("units.py"):  # weight images from the graph; no input gradient, and why
        infos = [i.value for i in at.info]
        assert any("No weight image: no input gradient: an ONNX graph runs in onnxruntime" in i for i in infos)
        assert any(i.proto.imgs[0].caption.startswith(("first dense layer", "first conv layer")) for i in at.image)


def test_the_leaderboard_works_with_onnx_models_in_the_picker(onnx_checkpoints, open_page):
    at = clean(open_page("pages/8_leaderboard.py", EXPORTED))  # an ONNX folder has no config.json
    names = at.dataframe[0].value["name"].tolist()
    assert CKPT_2D in names, names  # the ONNX folders, without a metrics.json, have nothing to rank


def test_an_onnx_model_is_not_told_to_retrain_or_to_read_its_config(onnx_checkpoints, open_page):
    overview = clean(open_page("pages/1_overview.py", KERAS_LIKE))
    infos = " ".join(i.value for i in overview.info)
    assert "ONNX model trained elsewhere: it carries no training history" in infos
    assert "config.json" not in infos
    history = clean(open_page("pages/10_history.py", KERAS_LIKE))
    (note,) = [i.value for i in history.info]
    assert "ONNX model trained elsewhere" in note and "retrain" not in note


def test_a_model_without_metrics_is_told_how_to_measure_it_without_the_servers_folder(onnx_checkpoints, open_page,
                                                                                     monkeypatch):
    local = " ".join(i.value for i in clean(open_page("pages/1_overview.py", KERAS_LIKE)).info)
    assert f"python -m aecore evaluate {onnx_checkpoints / KERAS_LIKE} --json" in local
    monkeypatch.setenv("AECORE_DEMO", "1")
    demo = " ".join(i.value for i in clean(open_page("pages/1_overview.py", KERAS_LIKE)).info)
    assert "evaluate FOLDER --json" in demo and str(onnx_checkpoints) not in demo


COLOUR = "colour-onnx"  # a (B, 32, 32, 3) autoencoder on a colour .npz of the user's


@pytest.fixture(scope="module")
def colour_onnx(app_env, tmp_path_factory):
    """A colour .npz dataset ("swatches": 32 x 32 RGB, Keras' CIFAR layout) in AECORE_DATA_DIR and
    a channels-last ONNX autoencoder of its images whose onnx.json names it, among the shared
    checkpoints."""
    import json

    import numpy as np
    from onnx_factories import image_pair

    from aecore.checkpoint import ONNX_JSON
    from aecore.data import load_dataset
    root = tmp_path_factory.mktemp("colour-app")
    rng = np.random.default_rng(0)
    splits = {f"{x}_{s}": v for s, n in (("train", 200), ("test", 100))
              for x, v in (("x", rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)),
                           ("y", rng.integers(0, 4, n, dtype=np.int64)))}
    (root / "data").mkdir()
    np.savez(root / "data" / "swatches.npz", **splits, classes=np.array(["red", "green", "blue", "grey"]))
    with shared_checkpoints(app_env, root / "checkpoints") as folder, pytest.MonkeyPatch.context() as mp:
        mp.setenv("AECORE_DATA_DIR", str(root / "data"))
        load_dataset.cache_clear()
        image_pair(folder / COLOUR, (3, 32, 32), "hwc", d=2)
        (folder / COLOUR / ONNX_JSON).write_text(json.dumps({"name": "Colour ONNX", "dataset": "swatches"}))
        yield folder
    load_dataset.cache_clear()


@pytest.mark.slow  # ten pages; passes once the pages draw colour images of any size (the other branches of issue 24)
@pytest.mark.parametrize("page", ["pages/1_overview.py", "pages/2_latent_map.py", "pages/3_generate.py",
                                  "pages/4_denoise.py", "pages/5_units.py", "pages/6_compare.py", "pages/7_steer.py",
                                  "pages/8_leaderboard.py", "pages/9_train.py", "pages/10_history.py"])
def test_every_page_opens_a_channels_last_colour_onnx_model_on_its_dataset(colour_onnx, open_page, page):
    at = clean(open_page(page, COLOUR))
    if page.endswith("overview.py"):
        card = at.table[0].value
        assert card.loc["input"].iloc[0].startswith("(B, 32, 32, 3), 32x32 colour images")
