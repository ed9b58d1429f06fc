"""A model with 1-D codes (the Train page allows latent size 1) on every page that draws a map:
its own map is the code against a jitter named as meaningless, and nothing asks PCA for two
axes of one number (sklearn's "n_components=2 must be between 0 and ... =1" broke the Latent
map, Compare and Attribute vectors' selection map). Also: "neighbour preservation" on the
codes' own map measures pixel neighbours kept, which varies, instead of a constant 1.0."""
from __future__ import annotations

import numpy as np
import pytest
from factories import CKPT_2D, CKPT_16D, shared_checkpoints, train_tiny
from test_app import assert_clean, charts, values
from test_train_page import pace  # noqa: F401 -- the paced trainer fixture

from aecore.config import ModelConfig
from aecore.pictures.plots import GRID

CKPT_1D = "tiny-ae-1d"
LATENT, GENERATE, DENOISE, COMPARE, STEER, HISTORY = (
    "pages/2_latent_map.py", "pages/3_generate.py", "pages/4_denoise.py", "pages/6_compare.py",
    "pages/7_steer.py", "pages/10_history.py")


@pytest.fixture(scope="module")
def one_d(app_env, tmp_path_factory):
    """The shared 2-D and 16-D checkpoints plus a plain 1-D one trained here (with its history),
    as AECORE_CHECKPOINTS."""
    with shared_checkpoints(app_env, tmp_path_factory.mktemp("one-d") / "checkpoints") as folder:
        train_tiny(folder, CKPT_1D, ModelConfig(kind="plain", latent_dim=1, hidden=[64], recon="bce"),
                   {"title": "Tiny 1-D autoencoder", "twin": CKPT_2D}, evaluate=False)
        yield folder


def data_traces(fig: dict) -> list[dict]:
    return [t for t in fig["data"] if t.get("name") not in ("grid",)]


def points(fig: dict) -> np.ndarray:
    return np.concatenate([np.stack([values(t["x"]), values(t["y"])], axis=1) for t in data_traces(fig)])


def test_the_latent_map_of_1d_codes_is_the_code_against_a_labelled_jitter(one_d, open_page):
    at = open_page(LATENT, CKPT_1D)
    assert_clean(at)
    assert at.selectbox(key="projection").options == ["none"]  # PCA cannot make two axes of one number
    fig = charts(at)[0]
    xy = points(fig)
    assert len(xy) == 1000 and -1 <= xy[:, 1].min() < -0.9 and 0.9 < xy[:, 1].max() <= 1
    assert fig["layout"]["yaxis"]["title"]["text"] == "jitter (means nothing)"
    assert any("jitter (seed 0) that means nothing" in c.value for c in at.caption)
    at.session_state["map"] = {"selection": {"points": [{"customdata": GRID, "x": float(xy[0, 0]), "y": 0.7}],
                                             "point_indices": [], "box": [], "lasso": []}}
    at.run()
    assert_clean(at)
    assert any(m.value.startswith("**Decoded at (") for m in at.markdown)  # decodes the code at x


def test_switching_to_a_1d_model_puts_a_pca_choice_back_to_its_own_map(one_d, open_page):
    at = open_page(LATENT, CKPT_16D)
    at.selectbox(key="projection").set_value("pca").run()
    at.sidebar.selectbox(key="checkpoint").set_value(str(one_d / CKPT_1D)).run()
    assert_clean(at)
    assert at.selectbox(key="projection").value == "none"


@pytest.mark.parametrize("name", [CKPT_1D, CKPT_2D])
def test_neighbour_preservation_on_the_codes_own_map_varies_and_says_what_it_keeps(one_d, open_page, name):
    at = open_page(LATENT, name)
    at.selectbox(key="colour").set_value("neighbour preservation").run()
    assert_clean(at)
    (trace,) = data_traces(charts(at)[0])
    kept = values(trace["marker"]["color"])
    assert len(kept) == 1000 and 0 <= kept.min() < kept.max() <= 1  # was 1.0 for every point
    assert trace["marker"]["colorbar"]["title"]["text"] == "pixel neighbours kept (k=10)"
    assert "pixel space" in at.selectbox(key="colour").help


def test_compare_shows_a_1d_model_beside_a_2d_one(one_d, open_page):
    at = open_page(COMPARE, CKPT_1D)
    at.selectbox(key="cmp_b_ckpt").set_value(str(one_d / CKPT_2D)).run()
    assert_clean(at)
    assert at.selectbox(key="cmp_a_projection").options == ["none"]
    assert [len(points(f)) for f in charts(at)] == [1000, 1000]
    at.selectbox(key="cmp_colour").set_value("disagreement (neighbours that differ)").run()
    assert_clean(at)


def test_generate_denoise_and_history_draw_1d_codes_on_their_own_labelled_map(one_d, open_page):
    at = open_page(GENERATE, CKPT_1D)
    assert_clean(at)
    assert charts(at)[0]["layout"]["yaxis"]["title"]["text"] == "jitter (means nothing)"
    manifold = [i for i in at.image if any("evenly spaced points of the line" in c for c in i.captions)]
    assert len(manifold) == 1  # a 1-D code space is a line, decoded along its length
    at = open_page(DENOISE, CKPT_1D)
    assert_clean(at)
    assert any("means nothing" in c.value for c in at.caption)
    at = open_page(HISTORY, CKPT_1D)
    assert_clean(at)
    assert charts(at)[0]["layout"]["yaxis"]["title"]["text"] == "jitter (means nothing)"


def test_attribute_vectors_select_groups_on_a_1d_map(one_d, open_page):
    at = open_page(STEER, CKPT_1D)
    at.radio(key="steer_source").set_value("two selections").run()
    assert_clean(at)
    assert len(points(charts(at)[0])) == 1000
    assert any("Map: the 1-D codes along x" in c.value for c in at.caption)


@pytest.mark.slow  # trains
def test_the_train_page_draws_a_1d_models_live_map_on_its_own_labelled_map(open_page, pace):
    from test_train_page import TRAIN, job_of, wait_for
    at = open_page(TRAIN, CKPT_2D)
    at.number_input(key="train_latent_dim").set_value(1)
    at.number_input(key="train_epochs").set_value(2)
    at.text_input(key="train_name").input("live-1d")
    at.button(key="train_start").click().run()
    wait_for(lambda: job_of(at).epoch == 1, "epoch 1")
    at.run()
    assert_clean(at)
    live = charts(at)[1]  # the loss curves, then the map
    assert live["layout"]["yaxis"]["title"]["text"] == "jitter (means nothing)"
    assert len(points(live)) == 1000 and np.ptp(points(live)[:, 1]) > 1.5  # spread over the strip
    assert any("jitter (seed 0) that means nothing" in c.value for c in at.caption)
    pace.next()
