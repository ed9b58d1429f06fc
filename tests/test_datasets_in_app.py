"""Any dataset, every point: a model trained on a user's own image set opens on that set with its
class names; the sidebar lists every dataset found and says when the data are not the model's
own; the map draws every point of train + test. A tiny .npz set and model are made here."""
from __future__ import annotations

import base64
import json
import os

import numpy as np
import pytest
from factories import CKPT_2D, synthetic_digits

from aecore import __main__ as cli
from aecore.checkpoint import load_checkpoint
from aecore.config import ModelConfig

CLASSES = ["thin bar", "wide bar", "ring"]


def shapes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n images of three kinds (a thin bar, a wide bar, a ring) and their labels."""
    bars = (synthetic_digits(n, seed)[:, 0].numpy() * 255).astype(np.uint8)
    labels = np.arange(n) % 3
    yy, xx = np.mgrid[0:28, 0:28]
    ring = ((np.hypot(yy - 14, xx - 14) - 8) ** 2 < 3).astype(np.uint8) * 255
    bars[labels == 1] = np.maximum(bars[labels == 1], np.roll(bars[labels == 1], 1, axis=2))
    bars[labels == 2] = ring
    return bars, labels


@pytest.fixture(scope="module")
def shapes_env(app_env, tmp_path_factory):
    """AECORE_DATA_DIR with shapes.npz (class names inside), and a 2-D model trained on it beside
    the shared tiny checkpoints."""
    data_dir = tmp_path_factory.mktemp("data")
    (x_train, y_train), (x_test, y_test) = shapes(300, 0), shapes(90, 1)
    np.savez(data_dir / "shapes.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test,
             classes=np.array(CLASSES))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AECORE_DATA_DIR", str(data_dir))
        from aecore.config import TrainConfig
        from aecore.train import save_result, train
        cfg = TrainConfig(dataset="shapes", epochs=2, batch_size=32, seed=0)
        save_result(app_env / "tiny-shapes-2d", train(ModelConfig(kind="plain", latent_dim=2, hidden=[32]), cfg), cfg)
        yield data_dir
    import shutil
    shutil.rmtree(app_env / "tiny-shapes-2d", ignore_errors=True)


def values(v) -> np.ndarray:
    """A trace's array: a list, or plotly's typed-array encoding {"dtype", "bdata"}."""
    if isinstance(v, dict):
        return np.frombuffer(base64.b64decode(v["bdata"]), dtype=np.dtype(v["dtype"]))
    return np.asarray(v)


def chart(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_a_model_opens_on_its_own_dataset_with_its_class_names(shapes_env, open_page):
    at = open_page("pages/2_latent_map.py", "tiny-shapes-2d")
    assert not at.exception and not at.error
    picker = at.sidebar.selectbox(key="dataset")
    assert picker.value == "shapes" and "shapes (trained on)" in picker.options
    traces = [t for t in chart(at)["data"] if t.get("name") != "grid"]
    assert [t["name"] for t in traces] == CLASSES
    assert chart(at)["layout"]["legend"]["title"]["text"] == "class"
    assert any("90 images of shapes" in c.value for c in at.caption)
    overview = open_page("pages/1_overview.py", "tiny-shapes-2d")
    assert any("Test images (top)" in s.value for s in overview.subheader)


def test_another_dataset_is_shown_with_a_plain_warning(shapes_env, open_page):
    at = open_page("pages/2_latent_map.py", "tiny-shapes-2d")
    at.sidebar.selectbox(key="dataset").set_value("mnist-sample").run()
    assert any("trained on shapes, not mnist-sample" in w.value for w in at.sidebar.warning)
    assert [t["name"] for t in chart(at)["data"] if t.get("name") != "grid"] == [str(d) for d in range(10)]


def test_every_point_of_train_and_test_is_on_the_map(shapes_env, open_page):
    at = open_page("pages/2_latent_map.py", CKPT_2D)
    at.selectbox(key="split").set_value("all").run()
    assert not at.exception and not at.error
    index = np.concatenate([values(t["customdata"]) for t in chart(at)["data"] if t.get("name") != "grid"])
    assert sorted(index.tolist()) == list(range(5000))  # each of the 4,000 + 1,000 exactly once
    assert any("5,000 digits of mnist-sample (train and test)" in c.value for c in at.caption)


def test_the_command_line_trains_and_evaluates_on_a_users_dataset(shapes_env, tmp_path, capsys):
    out = tmp_path / "ck"
    assert cli.main(["train", "--dataset", "shapes", "--latent-dim", "2", "--hidden", "16", "--epochs", "1",
                     "--out", str(out)]) == 0
    assert load_checkpoint(out).dataset == "shapes"
    assert cli.main(["evaluate", str(out), "--json"]) == 0  # on its own dataset by default
    measured = json.loads((out / "metrics.json").read_text())["measured_on"]
    assert measured["dataset"] == "shapes" and measured["size"] == 90


def test_evaluate_without_the_models_dataset_says_what_to_do(shapes_env, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))  # shapes.npz is no longer here
    assert cli.main(["evaluate", os.environ["AECORE_CHECKPOINTS"] + "/tiny-shapes-2d"]) == 1
    assert "trained on shapes, which is not on this machine" in capsys.readouterr().err


def test_a_broken_dataset_breaks_no_other_page_and_says_which_file(app_env, open_page, tmp_path, monkeypatch):
    """A user's set whose classes.txt is not UTF-8 broke every page, even the bundled sample's,
    with a message naming no file. Now only picking it fails, and the message names the file."""
    from benchmarks.hostile_data import make
    make("classes.txt not UTF-8", tmp_path / "data")
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path / "data"))
    at = open_page("pages/2_latent_map.py", CKPT_2D)
    assert not at.exception and not at.error
    assert at.sidebar.selectbox(key="dataset").value == "mnist-sample" and "hostile" in at.sidebar.selectbox(
        key="dataset").options
    at.sidebar.selectbox(key="dataset").set_value("hostile").run()
    assert not at.exception
    assert any(f"{tmp_path}/data/hostile/classes.txt: not UTF-8" in e.value for e in at.error)
    at.sidebar.selectbox(key="dataset").set_value("mnist-sample").run()
    assert not at.exception and not at.error


def test_a_folder_of_pictures_is_picked_in_the_sidebar_which_says_how_it_was_read(app_env, open_page, tmp_path,
                                                                                  monkeypatch):
    from PIL import Image
    root = tmp_path / "data" / "marks"
    rows = ["file,size,kind"]
    for label, kind in enumerate(["dot", "bar", "ring"]):
        for i, image in enumerate(shapes(12 * 3, label)[0][label::3]):
            (root / kind).mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(root / kind / f"{i:02d}.png")
            rows.append(f"{kind}/{i:02d}.png,{i},{'odd' if i % 2 else 'even'}")
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path / "data"))
    at = open_page("pages/2_latent_map.py", CKPT_2D)
    at.sidebar.selectbox(key="dataset").set_value("marks").run()
    assert not at.exception and not at.error
    said = " ".join(c.value for c in at.sidebar.caption).replace("\\", "").replace("\u2060", "")  # plain()'s escapes
    assert "28x28 grey images. columns: size, kind. test split: a seeded (seed 0), stratified sixth" in said
    assert [t["name"] for t in chart(at)["data"] if t.get("name") != "grid"] == ["bar", "dot", "ring"]
