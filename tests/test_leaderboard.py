"""The Leaderboard, checked by its rows' content against the files the app ships: every zoo
checkpoint's metrics.json, the anchors its config.json cites, and checkpoints/baselines.json."""
from __future__ import annotations


import pandas as pd
import pytest
from factories import APP

from aecore.checkpoint import read_config, read_metrics
from aecore.measure.leaderboard import BASELINE_NAMES, leaderboard_rows, metric_columns
from aecore.measure.zoo import ZOO_DIR, load_baselines

ZOO = sorted(p for p in ZOO_DIR.iterdir() if (p / "config.json").is_file())
BASELINES = load_baselines(ZOO_DIR)


def shipped_rows() -> list[dict]:
    return leaderboard_rows([(p.name, (read_config(p), read_metrics(p))) for p in ZOO], BASELINES)


def test_every_zoo_checkpoint_has_a_row_with_its_measured_numbers():
    rows = [r for r in shipped_rows() if r["row"] == "checkpoint"]
    assert [r["name"] for r in rows] == [p.name for p in ZOO if read_metrics(p)]
    for row in rows:
        measured = read_metrics(ZOO_DIR / row["name"])
        assert row["knn5"] == measured["metrics"]["knn5"]
        assert row["measured on"].startswith(measured["measured_on"]["dataset"] + " test")
        assert not any(k.startswith("n_") for k in row)  # counts are not metrics


def test_baseline_rows_of_every_dataset_a_checkpoint_was_measured_on():
    rows = [r for r in shipped_rows() if r["row"] == "baseline"]
    datasets = {read_metrics(p)["measured_on"]["dataset"] for p in ZOO if read_metrics(p)}
    assert datasets == {"mnist", "fashion-mnist", "sprites"} and set(BASELINES) >= datasets
    for dataset in datasets:
        mine = [r for r in rows if r["measured on"].startswith(f"{dataset} test")]
        expected = [BASELINE_NAMES[k] for k in BASELINE_NAMES if k in BASELINES[dataset]]
        assert [r["name"] for r in mine] == expected and "PCA, 2 components" in expected
        pca2 = next(r for r in mine if r["name"] == "PCA, 2 components")
        assert pca2["knn5"] == BASELINES[dataset]["pca-2"]["knn5"] and pca2["code"] == 2


def test_anchor_rows_cite_each_publication_once_with_its_values():
    rows = shipped_rows()
    config = read_config(ZOO_DIR / "ae-2d")
    anchors = config["about"]["anchors"]
    (row,) = [r for r in rows if r["name"] == "ae-2d (published)"]
    assert row["row"] == "anchor" and row["source"] == anchors["knn5"]["source"]
    assert (row["knn5"], row["mse_per_pixel"]) == (anchors["knn5"]["value"], anchors["mse_per_pixel"]["value"])
    assert metric_columns(rows)[:2] == ["sse_per_image", "mse_per_pixel"]  # the model card's order


def test_two_checkpoints_of_one_name_keep_both_rows():
    config, metrics = read_config(ZOO_DIR / "ae-2d"), read_metrics(ZOO_DIR / "ae-2d")
    rows = leaderboard_rows([("ae-2d", (config, metrics)), ("ae-2d", (config, metrics))])
    assert [r["row"] for r in rows].count("checkpoint") == 2


@pytest.fixture
def zoo_app(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest
    monkeypatch.setenv("AECORE_CHECKPOINTS", str(ZOO_DIR))
    monkeypatch.setenv("AECORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("AECORE_TRAINED_DIR", str(tmp_path / "trained"))
    monkeypatch.setenv("AECORE_NO_WARMUP", "1")
    monkeypatch.delenv("AECORE_DEMO", raising=False)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["checkpoint"] = str(ZOO_DIR / "ae-2d")
    at.run()
    return at


def test_the_leaderboard_page_shows_every_row_the_shipped_files_give(zoo_app):
    at = zoo_app.switch_page("pages/8_leaderboard.py").run()
    assert not at.exception and not at.error
    table = at.dataframe[0].value
    expected = pd.DataFrame(shipped_rows())
    assert list(zip(table["name"], table["row"], table["measured on"])) == \
        list(zip(expected["name"], expected["row"], expected["measured on"]))
    assert {"checkpoint", "anchor", "baseline"} == set(table["row"])
    assert (table["name"] == "3x3 median filter").sum() == 3  # one per dataset with checkpoints
    assert pd.api.types.is_float_dtype(table["knn5"])  # numbers, so the column sorts


def test_the_picker_says_the_shipped_checkpoints_are_the_zoo(zoo_app, tmp_path):
    options = zoo_app.selectbox(key="checkpoint").options
    assert len(options) == len(ZOO) and all(o.split(" · ")[0] == f"{p.name} (zoo)" for o, p in zip(options, ZOO))


def test_every_row_says_which_images_its_figures_are_measured_on():
    """Each checkpoint and baseline row names its test split and images: 28x28 grey for the MNIST
    and Fashion-MNIST rows (whose metrics.json predate image shapes), 64x64 colour for the sprites."""
    rows = [r for r in shipped_rows() if r["row"] in ("checkpoint", "baseline")]
    images = {"mnist": "28x28 grey", "fashion-mnist": "28x28 grey", "sprites": "64x64 colour"}
    for row in rows:
        dataset = row["measured on"].split(" test ")[0]
        assert row["measured on"] == f"{dataset} test (10,000 images, {images[dataset]})", row["measured on"]
    assert {r["measured on"].split(" test ")[0] for r in rows} == set(images)
    from aecore.measure.card import images_measured
    on = {"dataset": "blobs", "split": "test", "size": 600, "image": [3, 32, 32]}
    assert images_measured(on) == "blobs test (600 images, 32x32 colour)"
