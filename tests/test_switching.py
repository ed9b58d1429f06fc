"""Every page follows the sidebar: switched to a checkpoint of another dataset while the user stays
on the page, it shows only the new checkpoint's things (its data, its class names, pickers at its
defaults) and never the previous model; switched to another dataset, it shows the model on it."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from factories import APP, CKPT_2D, CKPT_16D, clean, shared_checkpoints
from test_datasets_in_app import CLASSES, shapes

from aecore.config import ModelConfig

SHAPES = "tiny-shapes-4d"  # trained on the shapes set (3 classes), not on digits
PAGES = ["pages/1_overview.py", "pages/2_latent_map.py", "pages/3_generate.py", "pages/4_denoise.py",
         "pages/5_units.py", "pages/6_compare.py", "pages/7_steer.py", "pages/10_history.py"]


@pytest.fixture(scope="module")
def two_datasets(app_env, tmp_path_factory):
    """AECORE_CHECKPOINTS with the two tiny digit checkpoints and a 4-D one trained on shapes.npz
    (in AECORE_DATA_DIR); the digit ones name each other as twins."""
    data_dir = tmp_path_factory.mktemp("data")
    (x_train, y_train), (x_test, y_test) = shapes(240, 0), shapes(60, 1)
    np.savez(data_dir / "shapes.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
             classes=np.array(CLASSES))
    with shared_checkpoints(app_env, tmp_path_factory.mktemp("two") / "checkpoints") as folder, \
            pytest.MonkeyPatch.context() as mp:
        mp.setenv("AECORE_DATA_DIR", str(data_dir))
        from aecore.config import TrainConfig
        from aecore.train import save_result, train
        cfg = TrainConfig(dataset="shapes", epochs=2, batch_size=32, seed=0)
        model = ModelConfig(kind="plain", latent_dim=4, hidden=[32])
        save_result(folder / SHAPES, train(model, cfg), cfg, None, {"title": "Tiny shapes model"})
        yield folder


def opened(page: str, checkpoint: str):
    from streamlit.testing.v1 import AppTest
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["checkpoint"] = str(Path(os.environ["AECORE_CHECKPOINTS"]) / checkpoint)
    at.run()
    return clean(at.switch_page(page).run())


def main_texts(at) -> list[str]:
    """Every text the page's main area shows: headings, captions, notes, widget values, image
    captions, chart legends (the sidebar lists every checkpoint, so it is left out)."""
    import json
    texts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning")
             for e in getattr(at.main, kind)]
    texts += [str(w.value) for kind in ("selectbox", "multiselect", "radio") for w in getattr(at.main, kind)]
    texts += [img.caption for el in at.get("imgs") for img in el.proto.imgs]
    for chart in at.get("plotly_chart"):
        texts += [str(t.get("name", "")) for t in json.loads(chart.proto.spec)["data"]]
    return texts


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_a_page_follows_the_sidebar_to_a_model_of_other_data(two_datasets, page):
    at = opened(page, CKPT_2D)
    assert any(CKPT_16D in t for t in main_texts(at)) or page not in PAGES[3:6]  # its twin is beside it
    at.selectbox(key="checkpoint").set_value(str(two_datasets / SHAPES)).run()
    clean(at)
    assert at.selectbox(key="dataset").value == "shapes"
    shown = " | ".join(main_texts(at))
    assert CKPT_2D not in shown and CKPT_16D not in shown, shown  # nothing of the digit models is left
    if page in ("pages/2_latent_map.py", "pages/6_compare.py", "pages/3_generate.py"):
        assert set(CLASSES) <= set(shown.split(" | ")), shown  # the new data's classes in the legend
    for key in ("twin_denoise", "twin"):  # no model of the same data: "none", not a digit model
        if key in at.session_state:
            assert at.session_state[key] is None
    for side in ("a", "b"):
        if f"cmp_{side}_ckpt" in at.session_state:
            assert at.session_state[f"cmp_{side}_ckpt"].endswith(SHAPES)


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_a_page_shows_the_model_on_another_dataset_when_asked(two_datasets, page):
    at = opened(page, SHAPES)
    at.selectbox(key="dataset").set_value("mnist-sample").run()
    clean(at)
    assert any("trained on shapes" in w.value for w in at.sidebar.warning)
