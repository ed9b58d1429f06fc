"""The map pages on data with metadata columns and of other image shapes, in the app (AppTest):
"Colour by" a number column gives a colour bar, a category column a legend; the choice stays valid
when the sidebar's dataset changes; the nearest-neighbour captions and the exports carry the
columns; a grey 16x16 model and a colour 12x12 one draw their maps, backdrops, neighbours, Compare
and Steer. Small sets with metadata-test.csv are made here, and tiny models trained on them."""
from __future__ import annotations

import base64
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from aecore.config import ModelConfig, TrainConfig
from ui.text import WORD_JOINER

N_TRAIN, N_TEST = 120, 60


def blob_set(folder, shape: tuple, seed: int, columns: dict) -> None:
    """A set of blobs of `shape` ((H, W) grey or (H, W, 3) colour) in folder/<name>.npz, three
    classes, with a metadata-test.csv of `columns` (one value per test image, in order)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    arrays = {}
    for split, n in (("train", N_TRAIN), ("test", N_TEST)):
        labels = np.arange(n) % 3
        yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
        centre = np.stack([labels * shape[0] / 3 + 2, rng.uniform(2, shape[1] - 2, n)], 1)
        blob = np.exp(-((yy - centre[:, :1, None]) ** 2 + (xx - centre[:, 1:, None]) ** 2) / 6)
        images = (blob[..., None] * rng.uniform(0.4, 1, (n, 1, 1, 3)) if len(shape) == 3 else blob) * 255
        arrays |= {f"x_{split}": images.astype(np.uint8), f"y_{split}": labels}
    np.savez(folder / f"{folder.name}.npz", **arrays, classes=np.array(["top", "middle", "bottom"]))
    pd.DataFrame(columns).to_csv(folder / "metadata-test.csv", index=False)


SIZE = np.where(np.arange(N_TEST) % 7 == 0, np.nan, np.linspace(0.5, 3.25, N_TEST))  # every 7th has none
KIND = np.array(["round", "long", "odd"])[np.arange(N_TEST) % 3]


@pytest.fixture(scope="module")
def column_env(app_env, tmp_path_factory):
    """AECORE_DATA_DIR with blobs (16x16 grey; columns size, kind), blobs-b (16x16 grey; column
    weight) and tints (12x12 colour; column hue), and a 2-D model trained on blobs and on tints."""
    data_dir = tmp_path_factory.mktemp("data")
    blob_set(data_dir / "blobs", (16, 16), 0, {"size": SIZE, "kind": KIND})
    blob_set(data_dir / "blobs-b", (16, 16), 1, {"weight": np.arange(N_TEST) * 2.0})
    blob_set(data_dir / "tints", (12, 12, 3), 2, {"hue": np.linspace(0, 1, N_TEST)})
    from aecore.train import save_result, train
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AECORE_DATA_DIR", str(data_dir))
        for name, image in (("blobs", [1, 16, 16]), ("tints", [3, 12, 12])):
            cfg = TrainConfig(dataset=name, epochs=2, batch_size=32, seed=0)
            save_result(app_env / f"tiny-{name}-2d", train(ModelConfig(kind="plain", latent_dim=2, hidden=[32],
                                                                       image=image), cfg), cfg)
        yield data_dir
    import shutil
    for name in ("blobs", "tints"):
        shutil.rmtree(app_env / f"tiny-{name}-2d", ignore_errors=True)


def values(v) -> np.ndarray:
    """A trace's array: a list, or plotly's typed-array encoding {"dtype", "bdata"}."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v)


def shown(markdown: str) -> str:
    """A caption as it reads (ui.text.plain escapes markdown and joins words)."""
    return markdown.replace(WORD_JOINER, "").replace("\\", "")


def chart(at, i: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[i].proto.spec)


def traces(at, i: int = 0) -> list[dict]:
    return [t for t in chart(at, i)["data"] if t.get("name") != "grid"]


def test_colour_by_a_number_column_shows_a_colour_bar(column_env, open_page):
    at = open_page("pages/2_latent_map.py", "tiny-blobs-2d")
    assert not at.exception and at.sidebar.selectbox(key="dataset").value == "blobs"
    colour = at.selectbox(key="colour")
    assert colour.options == ["class", "size", "kind", "reconstruction error", "neighbour preservation"]
    colour.set_value("size").run()
    assert not at.exception and not at.error
    missing, coloured = traces(at)
    assert coloured["marker"]["colorbar"]["title"]["text"] == "size" and coloured["marker"]["colorscale"][0][1] == "#440154"
    assert missing["name"] == "no size" and "size missing" in missing["hovertemplate"]
    assert sorted(values(missing["customdata"]).tolist()) == list(range(0, N_TEST, 7))
    assert coloured["text"][0] == "middle<br>kind long"  # point 1: its class, then the other columns


def test_colour_by_a_category_column_shows_a_legend(column_env, open_page):
    at = open_page("pages/2_latent_map.py", "tiny-blobs-2d")
    at.selectbox(key="colour").set_value("kind").run()
    assert not at.exception and not at.error
    assert [t["name"] for t in traces(at)] == ["long", "odd", "round"]
    assert chart(at)["layout"]["legend"]["title"]["text"] == "kind"
    assert not any("colorbar" in t.get("marker", {}) for t in traces(at))


def test_switching_the_dataset_keeps_colour_by_valid(column_env, open_page):
    at = open_page("pages/2_latent_map.py", "tiny-blobs-2d")
    at.selectbox(key="colour").set_value("size").run()
    at.sidebar.selectbox(key="dataset").set_value("blobs-b").run()  # no column "size" there
    assert not at.exception and not at.error
    colour = at.selectbox(key="colour")
    assert colour.options == ["class", "weight", "reconstruction error", "neighbour preservation"]
    assert colour.value == "class" and [t["name"] for t in traces(at)] == ["top", "middle", "bottom"]
    colour.set_value("weight").run()
    assert traces(at)[0]["marker"]["colorbar"]["title"]["text"] == "weight"
    at.sidebar.selectbox(key="dataset").set_value("blobs").run()
    assert not at.exception and at.selectbox(key="colour").value == "class"


def test_neighbour_captions_carry_the_columns(column_env, open_page):
    at = open_page("pages/2_latent_map.py", "tiny-blobs-2d")
    at.number_input(key="point").set_value(1).run()
    code, pixel = [shown(im.proto.imgs[0].caption) for im in at.image][-2:]
    assert code.startswith("#1 (class middle; size 0.547, kind long), then its 8 nearest in code space: ")
    sizes = code.split("; size: ")[1].split(", ")
    assert len(sizes) == 8 and all(v == "missing" or 0.5 <= float(v) <= 3.25 for v in sizes)
    at.selectbox(key="colour").set_value("kind").run()  # the coloured column's values follow
    assert "; kind: " in shown(at.image[-1].proto.imgs[0].caption)


def test_the_exports_carry_every_column(column_env, open_page, monkeypatch):
    from ui.exports import map_export, point_columns

    monkeypatch.setenv("AECORE_DATA_DIR", str(column_env))
    at = open_page("pages/2_latent_map.py", "tiny-blobs-2d")
    assert not at.exception
    path = at.session_state["checkpoint"]
    extra = point_columns("blobs", "test", np.array([0, 4]))
    assert list(extra) == ["split", "index_in_split", "size", "kind"] and extra["kind"].tolist() == ["round", "long"]
    table = pd.read_parquet(io.BytesIO(map_export(path, "blobs", "test", "none", 0, "{}", "parquet")))
    assert table["kind"].tolist() == KIND.tolist() and np.array_equal(table["size"], SIZE, equal_nan=True)
    with zipfile.ZipFile(io.BytesIO(map_export(path, "blobs", "test", "none", 0, "{}", "projector"))) as z:
        rows = z.read("tiny-blobs-2d-blobs-test-projector/metadata.tsv").decode().splitlines()
    assert rows[0].split("\t")[-2:] == ["size", "kind"] and rows[1].split("\t")[-2:] == ["", "round"]


@pytest.mark.slow  # three pages, a backdrop and thumbnails: 3-5 s each
@pytest.mark.parametrize("name, shape", [("blobs", (16, 16)), ("tints", (12, 12, 3))])
def test_the_map_pages_work_for_any_image_shape(column_env, open_page, name, shape):
    """The backdrop, thumbnails, neighbour strips and the spot decoded under a click come out in
    the model's own shape; Compare and Steer draw on it."""
    from ui import maps
    from ui.map_spec import MapSpec

    at = open_page("pages/2_latent_map.py", f"tiny-{name}-2d")
    at.checkbox(key="backdrop").check().run()
    at.checkbox(key="thumbs").check().run()
    assert not at.exception and not at.error
    backdrop, *thumbnails = chart(at)["layout"]["images"]
    assert backdrop["layer"] == "below" and 3 <= len(thumbnails) <= maps.THUMBS  # one per patch holding points
    picture = Image.open(io.BytesIO(base64.b64decode(backdrop["source"].split(",", 1)[1])))
    pixels = np.asarray(picture.convert("RGB")).reshape(-1, 3).astype(int)
    assert (np.ptp(pixels, axis=1).max() > 40) == (len(shape) == 3)  # in colour only for colour data
    spec = MapSpec.of(at.session_state["checkpoint"], name, projection="none")
    assert maps.decode_at(spec, [[0.0, 0.0], [1.0, 1.0]]).shape == (2, *shape)
    assert maps.backdrop(spec, 4)[0].shape == (16, *shape)
    assert len(at.image) >= 2 and "nearest in code space" in at.image[-2].proto.imgs[0].caption
    for page in ("pages/6_compare.py", "pages/7_steer.py"):
        other = open_page(page, f"tiny-{name}-2d")
        assert not other.exception and not other.error, page
    steer = open_page("pages/7_steer.py", f"tiny-{name}-2d")
    assert any(s.value.startswith("Your own") for s in steer.subheader) != (len(shape) == 3)  # no canvas for colour
