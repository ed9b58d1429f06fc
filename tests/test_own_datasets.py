"""A user's own image sets: a folder of IDX files with class names, Keras-style and CIFAR-layout
.npz files, single-channel and non-square images, IDX files of any size, a notebook's arrays."""
import os

import numpy as np
import pytest

from aecore import data
from aecore.data import DataError, load_dataset, split_size, write_idx
from aecore.data.registry import IDX_FILES
from aecore.pictures.pixels import ImageShape
from factories import idx_arrays

pytestmark = pytest.mark.usefixtures("no_data_dir")


def test_a_folder_of_idx_files_with_class_names_is_a_dataset(tmp_path, monkeypatch):
    arrays = idx_arrays(tmp_path / "letters")
    (tmp_path / "letters" / "classes.txt").write_text("\n".join("abcdefghij") + "\n")
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    assert data.available_datasets()["letters"]
    test = load_dataset("letters", "test")
    assert test.classes == tuple("abcdefghij") and test.label == "class" and test.item == "image"
    np.testing.assert_array_equal(test.images, arrays["test"][0])
    everything = load_dataset("letters", "all")
    assert len(everything) == 12 + 7 and np.array_equal(everything.images[12:], test.images)


def test_a_keras_style_npz_is_a_dataset(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    x_train, x_test = rng.integers(0, 256, (20, 28, 28), dtype=np.uint8), rng.random((5, 28, 28))
    np.savez(tmp_path / "notebook.npz", x_train=x_train, y_train=np.arange(20) % 3,
             x_test=x_test, y_test=np.arange(5) % 3)
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    train, test = load_dataset("notebook", "train"), load_dataset("notebook", "test")
    assert np.array_equal(train.images, x_train) and train.classes == ("0", "1", "2")
    assert test.images.dtype == np.uint8 and np.allclose(test.images / 255.0, x_test, atol=0.5 / 255)


def test_a_replaced_file_is_read_anew(tmp_path, monkeypatch):
    """The in-process cache is keyed by the files themselves, not by the dataset's name."""
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    for n, when in ((6, 1_000_000_000), (9, 2_000_000_000)):  # a new file, with its own mtime
        x = np.full((n, 28, 28), n, np.uint8)
        np.savez(tmp_path / "notebook.npz", x_train=x, y_train=np.zeros(n, int), x_test=x, y_test=np.zeros(n, int))
        os.utime(tmp_path / "notebook.npz", ns=(when, when))
        assert len(load_dataset("notebook", "test")) == n


def test_an_npz_in_keras_cifar_layout_is_a_colour_dataset(tmp_path, monkeypatch):
    """cifar10.load_data() gives x (N, 32, 32, 3) uint8 and y (N, 1): saved as they are, they load."""
    rng = np.random.default_rng(0)
    x_train, x_test = rng.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8), rng.random((5, 32, 32, 3))
    y_train, y_test = (np.arange(12) % 3).reshape(-1, 1), (np.arange(5) % 3).reshape(-1, 1).astype(np.uint8)
    np.savez(tmp_path / "cifar.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    train, test = load_dataset("cifar", "train"), load_dataset("cifar", "test")
    assert train.shape == ImageShape(3, 32, 32) and str(train.shape) == "32x32 colour"
    np.testing.assert_array_equal(train.images, x_train)
    assert train.labels.tolist() == y_train[:, 0].tolist() and test.labels.dtype == np.int64
    assert test.images.dtype == np.uint8 and np.allclose(test.images / 255.0, x_test, atol=0.5 / 255)
    everything = load_dataset("cifar", "all")
    assert everything.images.shape == (17, 32, 32, 3) and everything.labels.tolist()[12:] == test.labels.tolist()
    # one array for the set: the splits and "all" are views of it, never a second copy
    assert np.shares_memory(everything.images, train.images) and np.shares_memory(everything.images, test.images)


def test_an_npz_of_floats_is_read_slice_by_slice_never_whole_as_floats(tmp_path, monkeypatch):
    import tracemalloc
    from aecore.data import npz
    x = np.random.default_rng(0).random((1500, 32, 32, 3))  # 36.9 MB of float64; 4.6 MB as uint8
    np.savez(tmp_path / "floats.npz", x_train=x, y_train=np.zeros(1500, int), x_test=x[:10], y_test=np.zeros(10, int))
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(npz, "SLICE_BYTES", 2**20)
    del x
    tracemalloc.start()
    try:
        train = load_dataset("floats", "train")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert train.images.nbytes == 1500 * 3072 and peak < train.images.nbytes + 8 * 2**20


def test_an_npz_of_single_channel_images_is_grey(tmp_path, monkeypatch):
    x = np.random.default_rng(0).integers(0, 256, (6, 20, 12, 1), dtype=np.uint8)
    np.savez(tmp_path / "narrow.npz", x_train=x, y_train=np.zeros(6, int), x_test=x[:2], y_test=np.zeros(2, int))
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    test = load_dataset("narrow", "test")
    assert test.shape == ImageShape(1, 20, 12) and test.images.shape == (2, 20, 12)
    np.testing.assert_array_equal(test.images, x[:2, ..., 0])


@pytest.mark.parametrize("x_train, x_test, message", [
    (np.zeros((4, 28, 28), np.uint8), np.zeros((5, 32, 32, 3), np.uint8),
     r"the train images are 28x28 grey \(1x28x28\) but the test images are 32x32 colour \(3x32x32\)"),
    (np.zeros((4, 5, 5), np.uint8), np.zeros((5, 5, 5), np.uint8),
     r"x_train has shape \(4, 5, 5\): images are 5x5 pixels; the explorer takes sides of 8 to 128"),
    (np.zeros((4, 3, 32, 32), np.uint8), np.zeros((5, 3, 32, 32), np.uint8),
     r"x_train has shape \(4, 3, 32, 32\); expected images .* save np.moveaxis\(x_train, 1, -1\)"),
    (np.zeros((4, 32, 32, 4), np.uint8), np.zeros((5, 32, 32, 4), np.uint8), r"\(N, H, W, 3\) as Keras"),
    (np.zeros((4, 28, 28)), np.full((5, 28, 28), 300.0), "outside 0..255"),
])
def test_an_npz_of_images_the_explorer_cannot_take_says_what_it_found(tmp_path, monkeypatch, x_train, x_test, message):
    np.savez(tmp_path / "odd.npz", x_train=x_train, y_train=np.zeros(4, int), x_test=x_test, y_test=np.zeros(5, int))
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=message) as info:
        load_dataset("odd", "test")
    assert "odd.npz" in str(info.value)


def test_idx_files_of_16x16_images_are_a_dataset(tmp_path, monkeypatch):
    folder = tmp_path / "small"
    folder.mkdir()
    rng = np.random.default_rng(0)
    images = {s: rng.integers(0, 256, (n, 16, 16), dtype=np.uint8) for s, n in (("train", 9), ("test", 4))}
    for split, (image_file, label_file) in IDX_FILES.items():
        write_idx(folder / image_file, images[split])
        write_idx(folder / label_file, np.arange(len(images[split]), dtype=np.uint8) % 3)
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    test = load_dataset("small", "test")
    assert test.shape == ImageShape(1, 16, 16) and test.columns == {} and test.notes == ()
    np.testing.assert_array_equal(test.images, images["test"])
    assert len(load_dataset("small", "all")) == 13 and split_size("small", "train") == 9


@pytest.mark.parametrize("shape, message", [
    ((7, 200, 16), r"t10k-images-idx3-ubyte.gz: images are 200x16 pixels; the explorer takes sides of 8 to 128"),
    ((7, 28, 32), r"t10k-images-idx3-ubyte.gz holds 28x32 grey images but .*train-images-idx3-ubyte.gz holds "
                  r"28x28 grey images; both splits of one set must have one image shape"),
])
def test_idx_images_the_explorer_cannot_take_name_the_file(tmp_path, monkeypatch, shape, message):
    idx_arrays(tmp_path / "odd")
    write_idx(tmp_path / "odd" / "t10k-images-idx3-ubyte.gz", np.zeros(shape, np.uint8))
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=message):
        load_dataset("odd", "test")


def test_more_labels_than_class_names_is_an_error(tmp_path, monkeypatch):
    idx_arrays(tmp_path / "few")
    (tmp_path / "few" / "classes.txt").write_text("yes\nno\n")
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="labels go up to 9 but 2 class names"):
        load_dataset("few", "train")


def test_a_notebooks_colour_images_become_a_dataset_in_any_layout(tmp_path, monkeypatch):
    import torch
    from aecore.data.from_arrays import as_images, write_dataset
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 24, 40, 3), dtype=np.uint8)  # not square, colour
    floats = torch.tensor(images).float().div(255)
    for given in (images, floats, floats.permute(0, 3, 1, 2), floats.numpy()):
        np.testing.assert_array_equal(as_images(given), images)
    assert as_images(images[..., :1]).shape == (12, 24, 40)  # (N, H, W, 1): grey
    for bad, words in ((images[:, :5], r"images are 5x40 pixels"), (np.zeros((12, 24, 40, 2)), r"\(12, 24, 40, 2\)")):
        with pytest.raises(ValueError, match=words):
            as_images(bad)
    write_dataset(tmp_path / "notebook.npz", images, np.arange(12) % 2, ("a", "b"))
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    test = load_dataset("notebook", "test")
    assert test.shape == ImageShape(3, 24, 40) and np.array_equal(test.images, images)
