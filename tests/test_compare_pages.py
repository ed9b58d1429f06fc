"""AppTests of issue 15's views on the tiny checkpoints: the Compare page (linked selection,
reconstructions by both, metrics, disagreement), the Leaderboard, Attribute vectors, and on the
Latent map: decoding anywhere, the decoded backdrop, the class filter, finding a point, exports."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pandas as pd
import pytest
from factories import CKPT_2D, CKPT_16D
from test_app import assert_clean, charts, select, values

from aecore.pictures.plots import GRID

COMPARE, STEER, BOARD, LATENT = "pages/6_compare.py", "pages/7_steer.py", "pages/8_leaderboard.py", "pages/2_latent_map.py"


def traces(fig: dict, name: str) -> list[dict]:
    return [t for t in fig["data"] if t.get("name") == name]


def test_compare_shows_two_maps_of_the_same_points_and_both_metrics(open_page):
    at = open_page(COMPARE, CKPT_2D)
    assert_clean(at)
    assert at.selectbox(key="cmp_a_ckpt").value.endswith(CKPT_2D)
    assert at.selectbox(key="cmp_b_ckpt").value.endswith(CKPT_16D)  # the twin named in its about
    figs = charts(at)
    assert len(figs) == 2
    for fig in figs:  # every test digit on both maps
        assert sum(len(values(t["x"])) for t in fig["data"] if t.get("name") not in ("grid",)) == 1000
    assert len(at.dataframe) == 2 and all("knn5" in set(d.value["metric"]) for d in at.dataframe)  # A's, B's
    assert any("The 20 most disagreeing" in c.value or "20 of them, picked with seed 0" in c.value for c in at.caption)
    assert len(at.image) == 1  # the strip of the most disagreeing


def test_a_selection_on_one_map_rings_the_same_points_on_the_other(open_page):
    at = open_page(COMPARE, CKPT_2D)
    at.session_state["cmp_a_map"] = {"selection": {"points": [{"customdata": 3}, {"customdata": 17}],
                                                   "point_indices": [], "box": [], "lasso": []}}
    at.run()
    assert_clean(at)
    (ring,) = traces(charts(at)[1], "selected on A")
    assert sorted(values(ring["customdata"]).tolist()) == [3, 17]
    assert not traces(charts(at)[0], "selected on A")  # the map selected on keeps its figure
    assert any(s.value.startswith("2 selected") for s in at.subheader)
    assert len(at.image) == 2  # the selection over both reconstructions, the most disagreeing


def test_selecting_on_map_b_rings_on_map_a(open_page):
    at = open_page(COMPARE, CKPT_2D)
    at.radio(key="cmp_source").set_value("b").run()
    at.session_state["cmp_b_map"] = {"selection": {"points": [{"customdata": 8}], "point_indices": [],
                                                   "box": [], "lasso": []}}
    at.run()
    assert_clean(at)
    (ring,) = traces(charts(at)[0], "selected on B")
    assert values(ring["customdata"]).tolist() == [8]


def test_compare_colours_both_maps_by_disagreement(open_page):
    at = open_page(COMPARE, CKPT_2D)
    at.selectbox(key="cmp_colour").set_value("disagreement (neighbours that differ)").run()
    assert_clean(at)
    for fig in charts(at):
        (points,) = [t for t in fig["data"] if t.get("name") != "grid"]
        shares = values(points["marker"]["color"])
        assert len(shares) == 1000 and 0 <= shares.min() and shares.max() <= 1


def test_one_checkpoint_at_two_settings(open_page):
    at = open_page(COMPARE, CKPT_2D)
    at.selectbox(key="cmp_b_ckpt").set_value(at.selectbox(key="cmp_a_ckpt").value).run()
    at.selectbox(key="cmp_b_projection").set_value("none").run()
    assert any("same map" in i.value for i in at.info)  # both show the 2-D codes as they are
    assert any("agree on every digit's neighbours" in c.value for c in at.caption)
    assert len(at.image) == 0  # no strip of "most disagreeing" points that do not disagree
    at.selectbox(key="cmp_b_projection").set_value("pca").run()
    assert_clean(at)
    assert not any("same map" in i.value for i in at.info)
    assert any("rings: selected on A" in c.value and "PCA of the 2-D codes" in c.value for c in at.caption)


def test_attribute_vector_between_two_classes_moves_a_digit(open_page):
    at = open_page(STEER, CKPT_16D)
    assert_clean(at)
    assert (at.selectbox(key="steer_class_a").value, at.selectbox(key="steer_class_b").value) == ("0", "1")
    strip = at.image[0].proto.imgs[0]
    assert "decoded at amounts -1.50" in strip.caption
    at.selectbox(key="steer_class_b").set_value("7").run()
    assert_clean(at)
    assert at.image[0].proto.imgs[0].url != strip.url
    assert any("0 → 7" in c.value for c in at.caption)


def test_attribute_vector_from_two_selections_on_the_map(open_page):
    at = open_page(STEER, CKPT_2D)
    at.radio(key="steer_source").set_value("two selections").run()
    assert any("Put some points in both groups" in i.value for i in at.info)
    for group, points in (("steer_take_a", [1, 2, 3]), ("steer_take_b", [10, 11])):
        at.session_state["steer_map"] = {"selection": {"points": [{"customdata": i} for i in points],
                                                       "point_indices": [], "box": [], "lasso": []}}
        at.run()
        at.button(key=group).click().run()
    assert_clean(at)
    assert any("Group A: 3 digits, group B: 2" in c.value for c in at.caption)
    assert len(at.image) == 1


def test_a_click_on_a_pca_map_decodes_that_spot(open_page):
    at = open_page(LATENT, CKPT_16D)
    assert traces(charts(at)[0], "grid")  # PCA maps decode anywhere now
    at = select(at, {"customdata": GRID, "x": 0.3, "y": -0.2})
    assert_clean(at)
    assert any(m.value == "**Decoded at (0.30, -0.20)**" for m in at.markdown)


@pytest.mark.slow  # UMAP's map and its inverse: a few seconds, more when numba compiles
def test_a_click_on_a_umap_map_decodes_that_spot(open_page):
    at = open_page(LATENT, CKPT_16D)
    at.selectbox(key="projection").set_value("umap").run(timeout=600)
    assert_clean(at)
    grid = traces(charts(at)[0], "grid")[0]
    x, y = float(values(grid["x"]).mean()), float(values(grid["y"]).mean())
    at.session_state["map"] = {"selection": {"points": [{"customdata": GRID, "x": x, "y": y}],
                                             "point_indices": [], "box": [], "lasso": []}}
    at.run(timeout=600)
    assert_clean(at)
    assert any(m.value == f"**Decoded at ({x:.2f}, {y:.2f})**" for m in at.markdown)
    assert len(at.image) == 3  # the decoded spot and the two neighbour panels


def test_tsne_maps_offer_no_click_to_decode_and_no_backdrop(open_page, monkeypatch):
    from ui import cached
    monkeypatch.setattr(cached, "projection", lambda *a, **k: np.random.default_rng(0).normal(size=(1000, 2)).astype(np.float32))
    monkeypatch.setenv("AECORE_BACKGROUND_S", "1e9")  # no background job: the stand-in map is drawn at once
    at = open_page(LATENT, CKPT_16D)
    at.selectbox(key="projection").set_value("tsne").run()
    assert_clean(at)
    assert not traces(charts(at)[0], "grid")
    assert at.checkbox(key="backdrop").disabled


def test_backdrop_filter_and_find_change_the_map(open_page):
    at = open_page(LATENT, CKPT_2D)
    at.checkbox(key="backdrop").check().run()
    assert_clean(at)
    (picture,) = charts(at)[0]["layout"]["images"]
    assert picture["layer"] == "below" and picture["source"].startswith("data:image/png")
    at.multiselect(key="filter").set_value(["3", "8"]).run()
    assert_clean(at)
    fig = charts(at)[0]
    assert [t["name"] for t in fig["data"] if t["name"] != "grid"] == ["other classes", "3", "8"]
    assert len(values(traces(fig, "other classes")[0]["x"])) == 800  # 100 of each of the 10 digits
    at.number_input(key="find").set_value(42).run()
    assert_clean(at)
    assert values(traces(charts(at)[0], "#42")[0]["customdata"]).tolist() == [42]


def test_selection_and_whole_map_downloads(open_page):
    at = select(open_page(LATENT, CKPT_16D), {"customdata": 5, "x": 0, "y": 0}, {"customdata": 9, "x": 1, "y": 1})
    assert_clean(at)
    assert [b.label for b in at.get("download_button")] == [
        "CSV", ".npz", "TensorBoard projector bundle (.zip)", "Map as Parquet"]


def test_the_whole_map_exports_every_point(app_env):
    from ui import exports
    path = str(app_env / CKPT_16D)
    table = pd.read_parquet(io.BytesIO(exports.map_export(path, "mnist-sample", "test", "pca", 0, "{}", "parquet")))
    assert len(table) == 1000 and table.filter(like="code_").shape[1] == 16
    with zipfile.ZipFile(io.BytesIO(exports.map_export(path, "mnist-sample", "test", "pca", 0, "{}", "projector"))) as z:
        vectors = z.read(f"{CKPT_16D}-mnist-sample-test-projector/vectors.tsv").decode().splitlines()
    assert len(vectors) == 1000 and len(vectors[0].split("\t")) == 16


def test_a_map_of_train_and_test_says_which_split_each_point_is_from(app_env):
    from ui import exports
    path = str(app_env / CKPT_16D)
    table = pd.read_parquet(io.BytesIO(exports.map_export(path, "mnist-sample", "all", "pca", 0, "{}", "parquet")))
    n_train = int((table["split"] == "train").sum())
    assert n_train == 4000 and (table["split"] == "test").sum() == 1000
    assert table["index_in_split"].tolist() == list(range(n_train)) + list(range(1000))
    with zipfile.ZipFile(io.BytesIO(exports.map_export(path, "mnist-sample", "all", "pca", 0, "{}", "projector"))) as z:
        rows = z.read(f"{CKPT_16D}-mnist-sample-all-projector/metadata.tsv").decode().splitlines()
    assert rows[0].split("\t") == ["index", "label", "class", "split", "index_in_split"]
    assert rows[4001].split("\t")[3:] == ["test", "0"]
