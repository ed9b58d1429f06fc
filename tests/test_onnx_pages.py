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
@pytest.mark.parametrize("checkpoint", [EXPORTED, KERAS_LIKE])
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
