"""Per-image columns from metadata CSVs beside a dataset's files: matched by file, by index or by
row order; numbers and categories; blanks; what "all" makes of two splits' columns; and the
errors of a CSV that cannot be matched (tests/test_hostile_data.py has the hostile ones)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from aecore.data import DataError, load_dataset, write_idx
from aecore.data.registry import IDX_FILES


def idx_folder(root, n_train=6, n_test=4, side=12):
    folder = root / "tiles"
    folder.mkdir()
    for split, n in (("train", n_train), ("test", n_test)):
        write_idx(folder / IDX_FILES[split][0], np.full((n, side, side), 7, np.uint8))
        write_idx(folder / IDX_FILES[split][1], (np.arange(n) % 2).astype(np.uint8))
    return folder


def test_rows_in_order_give_numbers_and_categories(data_dir):
    folder = idx_folder(data_dir)
    (folder / "metadata-test.csv").write_text("size,colour,weight,note\n"
                                              "1,red,0.5,=HYPERLINK(\"http://x\")\n2,blue,,a\n3,red,1e3,b\n4,green,2,c\n")
    test = load_dataset("tiles", "test")
    assert test.columns["size"].dtype == np.int64 and test.columns["size"].tolist() == [1, 2, 3, 4]
    assert test.column_kind("size") == "number" and test.column_kind("colour") == "category"
    weight = test.columns["weight"]
    assert weight.dtype == np.float64 and np.isnan(weight[1]) and weight[[0, 2, 3]].tolist() == [0.5, 1000.0, 2.0]
    assert test.columns["colour"].tolist() == ["red", "blue", "red", "green"]
    assert test.columns["note"][0] == '=HYPERLINK("http://x")'  # a formula cell is just its text
    assert not test.columns["size"].flags.writeable
    with pytest.raises(ValueError, match="unknown column 'nope'; valid: size, colour, weight, note"):
        test.column_kind("nope")
    assert load_dataset("tiles", "train").columns == {}  # no metadata-train.csv


def test_rows_by_index_may_leave_images_blank(data_dir):
    folder = idx_folder(data_dir)
    (folder / "metadata-train.csv").write_text("index,kind,score\n5,b,10\n0,a,7\n2,a,8\n")
    train = load_dataset("tiles", "train")
    assert "index" not in train.columns and train.columns["kind"].tolist() == ["a", "", "a", "", "", "b"]
    assert np.isnan(train.columns["score"][1]) and train.columns["score"][5] == 10
    assert "metadata-train.csv: 3 images without a row: their columns are blank" in train.notes


def test_all_joins_the_columns_of_both_splits(data_dir):
    folder = idx_folder(data_dir)
    (folder / "metadata-train.csv").write_text("size,shade\n" + "".join(f"{i},s{i}\n" for i in range(6)))
    (folder / "metadata-test.csv").write_text("size,tag\n" + "".join(f"x{i},t\n" for i in range(4)))
    everything = load_dataset("tiles", "all")
    assert len(everything.columns["size"]) == 10 and everything.column_kind("size") == "category"
    assert everything.columns["size"].tolist()[5:7] == ["5", "x0"]
    assert everything.columns["shade"].tolist()[6:] == [""] * 4 and everything.columns["tag"].tolist()[:1] == [""]


def test_an_npz_folder_takes_metadata_but_a_lone_npz_has_none(data_dir):
    x = np.zeros((3, 10, 10, 3), np.uint8)
    (data_dir / "swatches").mkdir()
    np.savez(data_dir / "swatches" / "swatches.npz", x_train=x, y_train=np.zeros(3, int), x_test=x, y_test=np.zeros(3, int))
    (data_dir / "swatches" / "metadata-test.csv").write_text("hue\n0.1\n0.2\n0.3\n")
    assert load_dataset("swatches", "test").columns["hue"].tolist() == [0.1, 0.2, 0.3]
    np.savez(data_dir / "lone.npz", x_train=x, y_train=np.zeros(3, int), x_test=x, y_test=np.zeros(3, int))
    (data_dir / "metadata-test.csv").write_text("hue\n1\n")  # beside every set of the folder: nobody's
    assert load_dataset("lone", "test").columns == {}


def test_a_wrong_row_count_says_how_to_match_rows(data_dir):
    folder = idx_folder(data_dir)
    (folder / "metadata-test.csv").write_text("size\n1\n2\n3\n")
    with pytest.raises(DataError, match=r"metadata-test.csv: 3 rows for 4 images; give one row per image .* file or "
                                        r"an index column"):
        load_dataset("tiles", "test")
    assert len(load_dataset("tiles", "train")) == 6  # the other split is untouched


@pytest.mark.parametrize("content, message", [
    ("index,a\nx,1\n", r"index 'x' is not a whole number"),
    ("a,b\n1\n", r"not CSV of one cell per column \(Row #2: Expected 2 columns, got 1"),
    (",b\n1,2\n", r"column 1 has no name"),
    ("", r"empty; a metadata file starts with a row of column names"),
])
def test_a_malformed_metadata_file_names_the_file_and_the_fix(data_dir, content, message):
    (idx_folder(data_dir) / "metadata-test.csv").write_text(content)
    with pytest.raises(DataError, match=message) as info:
        load_dataset("tiles", "test")
    assert "metadata-test.csv" in str(info.value)


def pictures(root, split, names):
    for name in names:
        (root / split / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((9, 9), 50, np.uint8)).save(root / split / name)


def test_an_image_folder_matches_rows_by_file(data_dir):
    root = data_dir / "leaves"
    pictures(root, "train", ["oak/a.png", "oak/b.png", "elm/c.png"])
    pictures(root, "test", ["oak/d.png", "elm/e.png", "elm/sub/f.png"])
    (root / "test" / "metadata.csv").write_text(
        "file,height,site\n.\\elm\\e.png,3.5,north\nelm/sub/f.png,4,south\noak/gone.png,1,west\n")
    test = load_dataset("leaves", "test")  # in class order: elm/e, elm/sub/f, oak/d
    assert test.columns["height"][:2].tolist() == [3.5, 4.0] and np.isnan(test.columns["height"][2])
    assert test.columns["site"].tolist() == ["north", "south", ""]
    assert "test/metadata.csv: 1 row for no picture here, left out: oak/gone.png" in test.notes
    assert "test/metadata.csv: 1 image without a row: their columns are blank" in test.notes
    (root / "metadata-train.csv").write_text("file,height\noak/a.png,1\noak/a.png,2\n")
    with pytest.raises(DataError, match=r"rows 1 and 2 \(below the header\) are both for oak/a.png"):
        load_dataset("leaves", "train")


def test_editing_a_metadata_file_reads_no_picture_again(data_dir, monkeypatch):
    from aecore.data import loading
    x = np.zeros((3, 10, 10, 3), np.uint8)
    (data_dir / "swatches").mkdir()
    np.savez(data_dir / "swatches" / "swatches.npz", x_train=x, y_train=np.zeros(3, int), x_test=x, y_test=np.zeros(3, int))
    (data_dir / "swatches" / "metadata-test.csv").write_text("hue\n0.1\n0.2\n0.3\n")
    first = load_dataset("swatches", "test")
    monkeypatch.setattr(loading, "read_npz", lambda *a: pytest.fail("the .npz was read again"))
    (data_dir / "swatches" / "metadata-test.csv").write_text("hue,tone\n1,a\n2,b\n3,c\n")
    second = load_dataset("swatches", "test")
    assert second.columns["tone"].tolist() == ["a", "b", "c"] and second.images is not first.images
    assert np.shares_memory(second.images, first.images)  # the same pixels, held once
