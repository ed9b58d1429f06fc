"""The generated colour sprites: reproducible from a seed, and their factor columns really describe
the pictures (read back from the files, as the data readers and a user read them)."""
from __future__ import annotations

import csv
import hashlib

import numpy as np
import pytest

from aecore.__main__ import main
from aecore.data import sprites

FILES = ("sprites.npz", "metadata-train.csv", "metadata-test.csv")


def _digests(folder):
    return {f: hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in FILES}


def _read(folder, split="train"):
    """(images uint8 (N, 64, 64, 3), labels, class names, metadata rows as dicts) from the files."""
    with np.load(folder / "sprites.npz", allow_pickle=False) as z:
        images, labels, classes = z[f"x_{split}"], z[f"y_{split}"], list(z["classes"])
    with open(folder / f"metadata-{split}.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return images, labels, classes, rows


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sprites")
    return sprites.generate(folder / "sprites", train=160, test=40, seed=3)


def test_same_seed_gives_the_same_bytes_and_another_seed_other_pictures(made, tmp_path):
    again = sprites.generate(tmp_path / "again", train=160, test=40, seed=3)
    assert _digests(again.folder) == _digests(made.folder)
    other = sprites.generate(tmp_path / "other", train=160, test=40, seed=4)
    assert _read(other.folder)[0].tobytes() != _read(made.folder)[0].tobytes()


def test_files_have_the_layout_the_readers_take(made):
    images, labels, classes, rows = _read(made.folder)
    test_images, test_labels, _, test_rows = _read(made.folder, "test")
    assert images.shape == (160, 64, 64, 3) and images.dtype == np.uint8
    assert test_images.shape == (40, 64, 64, 3) and len(test_labels) == len(test_rows) == 40
    assert classes == list(sprites.SHAPES) == ["square", "ellipse", "heart", "triangle"]
    assert list(rows[0]) == ["index", *sprites.FACTORS]
    assert [int(r["index"]) for r in rows] == list(range(160))
    assert [classes[k] for k in labels] == [r["shape"] for r in rows]  # the label is the shape
    assert {r["colour"] for r in rows} == set(sprites.COLOURS)  # 160 draws reach all six colours
    assert images[:, 0].max() == images[:, -1].max() == images[:, :, 0].max() == images[:, :, -1].max() == 0, \
        "every shape stays inside the frame: the border is black"


def test_position_scale_and_colour_columns_match_the_drawn_pixels(made):
    images, _, _, rows = _read(made.folder)
    rows_i, cols_i = np.mgrid[0:64, 0:64]
    for image, row in zip(images, rows):
        colour = np.array(sprites.COLOURS[row["colour"]], float)
        cover = image.astype(float) @ colour / (colour @ colour)  # each pixel's share of the colour
        # the centre of mass of the drawn pixels is the (x, y) of the row, to a tenth of a pixel
        assert (cover * cols_i).sum() / cover.sum() == pytest.approx(float(row["x"]), abs=0.1)
        assert (cover * rows_i).sum() / cover.sum() == pytest.approx(float(row["y"]), abs=0.1)
        # every shape of scale s covers (18 s)^2 pixels
        assert cover.sum() == pytest.approx((18 * float(row["scale"])) ** 2, rel=0.025)
        # the mean colour of the drawn pixels is the named colour
        inside = image[cover > 0.99].astype(float).mean(axis=0)
        np.testing.assert_allclose(inside, colour, atol=2)


def test_rotation_column_is_the_angle_of_the_ellipses(made):
    images, _, _, rows = _read(made.folder)
    seen = 0
    rows_i, cols_i = np.mgrid[0:64, 0:64]
    for image, row in zip(images, rows):
        if row["shape"] != "ellipse":
            continue
        w = image.sum(axis=2).astype(float)
        dx, dy = cols_i - float(row["x"]), rows_i - float(row["y"])
        cov = np.array([[(w * dx * dx).sum(), (w * dx * dy).sum()], [(w * dx * dy).sum(), (w * dy * dy).sum()]])
        major = np.linalg.eigh(cov)[1][:, 1]
        angle = np.degrees(np.arctan2(-major[1], major[0]))  # counter-clockwise on screen (rows point down)
        angle = (angle + 90) % 180 - 90  # an axis has no direction
        assert angle == pytest.approx(float(row["rotation"]), abs=2)
        seen += 1
    assert seen >= 20


def test_shape_column_names_the_outline_that_was_drawn(made):
    """Redrawn with each shape at the row's scale, rotation and place, the named one fits best."""
    images, _, _, rows = _read(made.folder)
    for image, row in list(zip(images, rows))[:40]:
        colour = np.array(sprites.COLOURS[row["colour"]], float)
        cover = image.astype(float) @ colour / (colour @ colour)
        misfit = {s: np.abs(cover - sprites.coverage(s, float(row["scale"]), float(row["rotation"]),
                                                     float(row["x"]), float(row["y"]))).sum()
                  for s in sprites.SHAPES}
        assert min(misfit, key=misfit.get) == row["shape"]
        assert misfit[row["shape"]] < 0.02 * cover.sum()


def test_download_sprites_generates_them_and_says_what_it_made(tmp_path, capsys):
    assert main(["download", "sprites", "--to", str(tmp_path / "s"), "--train", "12", "--test", "8"]) == 0
    out = capsys.readouterr().out
    assert all((tmp_path / "s" / f).is_file() for f in FILES)
    for said in ("20 sprites", "train 12", "test 8", "64x64 colour", "shape, colour, scale, rotation, x, y",
                 "MB", " s.", str(tmp_path / "s")):
        assert said in out


def test_unwritable_folder_or_no_pictures_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["download", "sprites", "--to", str(blocker / "s"), "--train", "2", "--test", "2"]) == 1
    assert "--to another folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match="at least 1"):
        sprites.generate(tmp_path / "none", train=0, test=5)


def test_generated_set_is_the_sprites_dataset_with_its_factor_columns(made, monkeypatch):
    """Where `download sprites` puts them, the data readers find the set "sprites": 64x64 colour
    pictures named by shape, and the factors as columns of the kinds the map colours by."""
    from aecore.data import available_datasets, describe, load_dataset
    monkeypatch.setenv("AECORE_DATA_DIR", str(made.folder.parent))
    load_dataset.cache_clear()
    try:
        assert available_datasets()["sprites"]
        train = load_dataset("sprites", "train")
        images, labels, classes, rows = _read(made.folder)
        assert str(train.shape) == "64x64 colour" and np.array_equal(train.images, images)
        assert train.classes == tuple(sprites.SHAPES) == describe("sprites").classes
        assert list(train.columns) == list(sprites.FACTORS)
        assert [train.column_kind(c) for c in sprites.FACTORS] == ["category"] * 2 + ["number"] * 4
        np.testing.assert_array_equal(train.columns["x"], [float(r["x"]) for r in rows])
        assert list(train.columns["colour"]) == [r["colour"] for r in rows]
    finally:
        load_dataset.cache_clear()
