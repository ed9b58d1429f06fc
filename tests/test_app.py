"""AppTests of the frame (sidebar, uploads, errors) and pages 1-2, on the bundled sample with a
2-D and a 16-D checkpoint (tests/app_support.py), plus the disk cache the app's maps use."""
from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from factories import APP, CKPT_2D, CKPT_16D, shared_checkpoints
from streamlit.testing.v1 import AppTest

from aecore import cache
from aecore.checkpoint import weights_digest
from aecore.pictures.plots import GRID, loss_curves, selection_indices

OVERVIEW, LATENT = "pages/1_overview.py", "pages/2_latent_map.py"


def charts(at: AppTest) -> list[dict]:
    """The plotly figures on the page, as their JSON specs."""
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def values(v) -> np.ndarray:
    """A trace's array: a list, or plotly's typed-array encoding {"dtype", "bdata"[, "shape"]}."""
    if isinstance(v, dict) and "bdata" in v:
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v)


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("name", [CKPT_2D, CKPT_16D])
def test_overview_shows_card_curves_metrics_and_digits(open_page, name):
    at = open_page(OVERVIEW, name)
    assert_clean(at)
    card = at.table[0].value
    assert "784 → 64 → " in card.loc["layer sizes"].iloc[0]
    assert card.loc["parameters"].iloc[0].replace(",", "").isdigit()
    assert len(charts(at)) == 1  # the loss curves
    metrics = at.dataframe[0].value
    assert {"knn5", "sse_per_image"} <= set(metrics["metric"])
    assert any("Measured on mnist-sample test" in c.value for c in at.caption)
    assert len(at.image) == 2  # test digits over their reconstructions, and the traversals
    traversal = next(c.value for c in at.caption if "a row each" in c.value)
    assert ("most KL to the prior first" if name == CKPT_16D else "Its 2 active units") in traversal
    assert "the code of test digit #0" in traversal


def test_metrics_without_a_published_anchor_show_a_blank_not_nan(open_page, monkeypatch):
    import aecore.measure.card
    monkeypatch.setattr(aecore.measure.card, "anchors_for", lambda ckpt: {"knn5": (0.7926, "Sainburg et al. 2021")})
    at = open_page(OVERVIEW, CKPT_2D)
    assert_clean(at)
    anchors = dict(zip(at.dataframe[0].value["metric"], at.dataframe[0].value["anchor"]))
    assert anchors["knn5"] == "0.7926"
    assert anchors["sse_per_image"] == ""  # no published value: blank, not "nan"


@pytest.mark.parametrize("name, default", [(CKPT_2D, "none"), (CKPT_16D, "pca")])
def test_latent_map_runs_with_its_default_projection(open_page, name, default):
    at = open_page(LATENT, name)
    assert_clean(at)
    assert at.selectbox(key="projection").value == default
    assert ("none" in at.selectbox(key="projection").options) == (name == CKPT_2D)
    fig = charts(at)[0]
    digits = [t for t in fig["data"] if t.get("name") != "grid"]
    assert len(digits) == 10  # one trace per digit: the legend toggles them
    assert sum(len(values(t["x"])) for t in digits) == 1000  # the whole sample test split
    assert any(t.get("name") == "grid" for t in fig["data"])  # click-to-decode: 2-D codes and PCA maps
    assert len(at.image) == 2  # neighbours in code space and in pixel space


def test_changing_projection_reruns_and_moves_the_points(open_page):
    at = open_page(LATENT, CKPT_2D)
    before = values(charts(at)[0]["data"][1]["x"])
    at.selectbox(key="projection").set_value("pca").run()
    assert_clean(at)
    after = charts(at)[0]["data"]
    assert after[0]["name"] == "grid"  # a PCA map decodes clicks too, through its inverse
    assert not np.allclose(before, values(after[1]["x"]))


def test_colour_modes_and_thumbnails_rerun_cleanly(open_page):
    at = open_page(LATENT, CKPT_16D)
    for colour in ("reconstruction error", "neighbour preservation"):
        at.selectbox(key="colour").set_value(colour).run()
        assert_clean(at)
        (trace,) = [t for t in charts(at)[0]["data"] if t["name"] != "grid"]
        colours = values(trace["marker"]["color"])
        assert len(colours) == 1000 and colours.min() >= 0
    assert colours.max() <= 1  # the fraction of kept neighbours
    at.checkbox(key="thumbs").check().run()
    assert_clean(at)
    thumbs = charts(at)[0]["layout"]["images"]  # one per occupied cell of an 8 x 8 cut of the map, on top
    assert 20 <= len(thumbs) <= 64 and all(t["layer"] == "above" for t in thumbs)
    assert frame_colours(thumbs) == {(60, 60, 60)}  # no class colour on a frame when the points show another
    at.selectbox(key="colour").set_value(at.selectbox(key="colour").options[0]).run()  # the class ("digit")
    assert len(frame_colours(charts(at)[0]["layout"]["images"])) > 3  # coloured by class: framed by class


def frame_colours(thumbs: list[dict]) -> set[tuple]:
    """The colours of the thumbnails' frames (their corner pixels)."""
    from PIL import Image
    return {Image.open(io.BytesIO(base64.b64decode(t["source"].split(",", 1)[1]))).convert("RGB").getpixel((0, 0))
            for t in thumbs}


def select(at: AppTest, *points: dict) -> AppTest:
    """Run with these points selected on the map (as the browser would send them)."""
    at.session_state["map"] = {"selection": {"points": list(points), "point_indices": [],
                                             "box": [], "lasso": []}}
    return at.run()


def test_a_selection_shows_its_digits_and_offers_a_csv(open_page):
    at = select(open_page(LATENT, CKPT_16D), {"customdata": 5, "x": 0, "y": 0},
                {"customdata": 9, "x": 1, "y": 1})
    assert_clean(at)
    assert any(m.value == "**2 selected**" for m in at.markdown)
    assert [b.label for b in at.get("download_button")][:2] == ["CSV", ".npz"]
    assert any(c.value == "Download the 2 selected:" for c in at.caption)
    assert len(at.image) == 3  # the selection, and the two neighbour panels


def test_a_click_on_empty_space_of_a_2d_map_decodes_that_spot(open_page):
    at = select(open_page(LATENT, CKPT_2D), {"customdata": GRID, "x": 0.5, "y": 1.25})
    assert_clean(at)
    assert any(m.value == "**Decoded at (0.50, 1.25)**" for m in at.markdown)
    assert not [b for b in at.get("download_button") if "selection" in b.label]  # the grid is not data


def test_clicking_one_digit_makes_it_the_neighbours_query(open_page):
    at = select(open_page(LATENT, CKPT_2D), {"customdata": 42, "x": 0, "y": 0})
    assert_clean(at)
    assert at.number_input(key="point").value == 42


def test_picking_a_neighbour_point_changes_the_neighbours(open_page):
    at = open_page(LATENT, CKPT_2D)
    before = [im.proto.imgs[0].url for im in at.image]
    at.number_input(key="point").set_value(7).run()
    assert_clean(at)
    assert "#7 (digit" in at.image[0].proto.imgs[0].caption
    assert [im.proto.imgs[0].url for im in at.image] != before


def test_bad_upload_shows_the_checkpoint_error(open_page):
    at = open_page(OVERVIEW, CKPT_2D)
    at.sidebar.file_uploader(key="upload").set_value([
        ("config.json", b"{not json", "application/json"),
        ("model.safetensors", b"this is text, not tensors", "application/octet-stream")]).run()
    assert not at.exception
    assert any("config.json: not valid JSON" in e.value for e in at.sidebar.error)
    assert at.sidebar.selectbox(key="checkpoint").value.endswith(CKPT_2D)  # still the old one
    assert at.title[0].value  # the page still works


def test_zip_upload_joins_the_picker_and_is_selected(app_env, open_page):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name in ("config.json", "model.safetensors"):
            z.write(app_env / CKPT_16D / name, f"mine/{name}")
    at = open_page(OVERVIEW, CKPT_2D)
    at.sidebar.file_uploader(key="upload").set_value(("mine.zip", buf.getvalue(), "application/zip")).run()
    assert_clean(at)
    picker = at.sidebar.selectbox(key="checkpoint")
    assert len(picker.options) == 3 and "mine (upload) · vae · 16-D" in picker.options
    assert at.title[0].value == "Tiny 16-D VAE"


def test_no_checkpoint_says_what_to_do(app_env, tmp_path, monkeypatch):
    monkeypatch.setenv("AECORE_CHECKPOINTS", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert any("pick or upload a checkpoint" in i.value for i in at.info)


def test_a_failing_page_shows_a_message_not_a_traceback():
    at = AppTest.from_string("from ui.frame import guard\nwith guard():\n    raise ValueError('no such digit: pick 0-9')\n")
    at.run()
    assert not at.exception
    assert at.error[0].value == "no such digit: pick 0-9"


def test_selection_maps_points_to_dataset_indices_and_grid_clicks_to_positions():
    points = [{"customdata": 12, "x": 0.1, "y": 0.2}, {"customdata": [3], "x": 1, "y": 1}]
    index, click = selection_indices({"selection": {"points": points}})
    assert index.tolist() == [3, 12] and click is None
    index, click = selection_indices({"selection": {"points": [{"customdata": GRID, "x": 0.5, "y": -1.0}]}})
    assert len(index) == 0 and click == (0.5, -1.0)
    assert selection_indices(None)[1] is None


def test_loss_curves_draw_a_term_equal_to_the_loss_once_and_every_other_term():
    history = [{"epoch": e, "train": {"loss": 9.0 - e, "recon": 9.0 - e},
                "val": {"loss": 9.5 - e, "recon": 9.5 - e}} for e in (1, 2, 3)]
    assert [t.name for t in loss_curves(history).data] == ["loss = recon (train)", "loss = recon (val)"]
    for r in history:  # a VAE: loss = recon + kl, three distinct terms
        r["train"]["kl"] = r["val"]["kl"] = 2.0
        r["train"]["loss"] += 2.0
        r["val"]["loss"] += 2.0
    names = [t.name for t in loss_curves(history).data]
    assert names == [f"{term} ({split})" for term in ("loss", "recon", "kl") for split in ("train", "val")]


def test_loss_curves_of_a_few_epochs_tick_whole_epochs():
    """Plotly's own ticks for epochs 1-3 read 1, 1.5, 2, 2.5, 3: a few epochs get one tick each."""
    def curves(epochs):
        return loss_curves([{"epoch": e, "train": {"loss": 1.0 / e}} for e in epochs]).layout.xaxis
    few = curves([1, 2, 3])
    assert (few.tick0, few.dtick) == (1, 1)
    assert curves(range(5, 9)).tick0 == 5  # a history kept from epoch 5 on
    assert curves(range(1, 41)).dtick is None  # many: plotly's ticks (5, 10, ...) are whole already


def test_disk_cache_computes_once_and_follows_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("AECORE_CACHE_DIR", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return np.arange(6, dtype=np.float32).reshape(3, 2)

    key = {"checkpoint": "abc", "method": "umap", "params": {"n_neighbors": 15}, "seed": 0}
    first = cache.cached_array(key, compute)
    again = cache.cached_array(dict(reversed(key.items())), compute)  # same key, other order
    assert len(calls) == 1 and np.array_equal(first, again)
    cache.cached_array({**key, "seed": 1}, compute)
    assert len(calls) == 2
    files = list((tmp_path / "projections").glob("*.npy"))
    assert len(files) == 2
    files[0].write_bytes(b"garbage")  # a corrupt entry is recomputed, not an error
    assert np.array_equal(cache.cached_array(key, compute), first)
    assert np.array_equal(cache.cached_array({**key, "seed": 1}, compute), first)
    assert len(calls) == 3


def test_weights_digest_follows_the_weights_not_the_name(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        folder.mkdir()
        (folder / "model.safetensors").write_bytes(b"same weights")
    assert weights_digest(a) == weights_digest(b)
    (b / "model.safetensors").write_bytes(b"other weights!")
    assert weights_digest(a) != weights_digest(b)


def test_demo_mode_offers_no_tsne(open_page, monkeypatch):
    monkeypatch.setenv("AECORE_DEMO", "1")
    at = open_page("pages/2_latent_map.py", CKPT_16D)
    assert not at.exception
    assert "tsne" not in at.selectbox(key="projection").options


def test_preload_at_server_start_means_the_first_map_encodes_nothing(open_page, app_env, tmp_path, monkeypatch):
    import aecore.latent.codec
    from ui import cached, server
    encoded = []
    encode = aecore.latent.codec.encode_all
    monkeypatch.setattr(aecore.latent.codec, "encode_all",
                        lambda model, images: encoded.append(len(images)) or encode(model, images))
    with shared_checkpoints(app_env, tmp_path / "zoo"):
        for stored in (True, False):  # the codes save_result stored, then a checkpoint without them
            if not stored:
                (tmp_path / "zoo" / CKPT_2D / "codes.safetensors").unlink()
            cached.codes.clear()
            server._preloaded.clear()
            server.preload()  # what app.py's lifespan starts as `streamlit run` starts, before any browser connects
            assert encoded == ([] if stored else [1000])  # the sample's test split, encoded once at most
            at = open_page("pages/2_latent_map.py", CKPT_2D)
            assert not at.exception
            assert encoded == ([] if stored else [1000])  # the page found the codes in the shared cache


def test_preload_reads_the_pickers_labels_so_the_first_sidebar_reads_no_config(open_page, app_env, tmp_path,
                                                                               monkeypatch):
    from ui import checkpoints, server
    with shared_checkpoints(app_env, tmp_path / "zoo"):
        checkpoints._label.clear()
        server._preloaded.clear()
        server.preload()
        read = []
        config = checkpoints.read_config
        monkeypatch.setattr(checkpoints, "read_config", lambda path: read.append(path) or config(path))
        at = open_page("pages/2_latent_map.py", CKPT_2D)
        assert not at.exception and len(at.sidebar.selectbox(key="checkpoint").options) == 2
        assert read == []  # every label was cached by the preload


def test_the_first_map_of_a_checkpoint_with_stored_codes_is_drawn_without_torch(app_env):
    """In a fresh process, as the server starts: the preload draws the first checkpoint's Latent
    map from its stored codes and never imports torch (which takes over a second)."""
    script = ("import os, sys; from ui import checkpoints, server; "
              "path = server._preloaded(str(checkpoints.checkpoint_dir()), os.environ['AECORE_DATA_DIR']); "
              "print(os.path.basename(path), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], cwd=APP.parent, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(APP.parent)})
    assert out.stdout.split() == [min(CKPT_2D, CKPT_16D), "False"], out.stderr[-2000:]


def test_preload_with_no_checkpoint_leaves_the_app_working(app_env, tmp_path, monkeypatch):
    from ui import server
    monkeypatch.setenv("AECORE_CHECKPOINTS", str(tmp_path))
    server.preload()
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "No checkpoint to show" in at.info[0].value


@pytest.mark.parametrize("page", ["pages/1_overview.py", "pages/2_latent_map.py"])
def test_a_listed_checkpoint_whose_weights_do_not_fit_says_so_when_opened(open_page, app_env, tmp_path, page):
    """The picker lists folders checked without torch; the weights' shapes are checked as the
    model loads, and the page says which file is wrong instead of drawing anything from it."""
    from safetensors.torch import load_file, save_file
    with shared_checkpoints(app_env, tmp_path / "zoo") as zoo:
        broken = zoo / "broken"
        shutil.copytree(zoo / CKPT_2D, broken)
        state = load_file(broken / "model.safetensors")
        state.pop(next(iter(state)))
        save_file(state, broken / "model.safetensors")  # its stored codes were made by other weights now
        at = open_page(page, "broken")
        assert not at.exception
        assert "model.safetensors" in at.error[0].value and "missing tensors" in at.error[0].value
