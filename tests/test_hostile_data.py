"""Hostile dataset files (benchmarks/hostile_data.py makes them; `python -m benchmarks.hostile_data`
prints what each refusal costs): each is refused with a DataError that names the file and the
limit, shows nothing from outside the dataset's folder, and breaks no other dataset. And the
good files near those limits still load."""
from __future__ import annotations

import os
import tracemalloc
import zipfile

import numpy as np
import pytest

from aecore.data import DataError, available_datasets, datasets, load_dataset
from aecore.data import classes as class_names, npz as npz_module
from benchmarks.hostile_data import CASES, make
from benchmarks.hostile_files import NAME, idx_folder, npy_bytes, npz


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    root = tmp_path / "data"
    monkeypatch.setenv("AECORE_DATA_DIR", str(root))
    monkeypatch.setenv("AECORE_CACHE_DIR", str(tmp_path / "cache"))
    load_dataset.cache_clear()
    yield root
    load_dataset.cache_clear()


def refused(case: str, root) -> str:
    split, pattern = make(case, root)
    with pytest.raises(DataError, match=pattern) as info:
        load_dataset(NAME, split)
    return str(info.value)


@pytest.mark.parametrize("case", [pytest.param(c, marks=() if quick else pytest.mark.slow)
                                  for c, (_, quick, _, _) in CASES.items()])
def test_a_hostile_file_is_refused_naming_the_file_and_the_limit(case, data_dir):
    message = refused(case, data_dir)
    assert str(data_dir) in message  # names the file
    assert "API_KEY" not in message and os.environ.get("PATH", "~") not in message  # shows nothing from outside
    assert available_datasets()[NAME]  # listed, so the visitor who picks it reads why it fails
    assert len(load_dataset("mnist-sample", "test")) == 1000  # the other datasets are untouched


def peak_of(work) -> int:
    """The most memory (bytes, as tracemalloc traces it: numpy's arrays included) that work() held."""
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_an_idx_header_of_a_gigabyte_over_784_bytes_allocates_nothing(data_dir):
    assert peak_of(lambda: refused("IDX header of 1 GB over 784 bytes", data_dir)) < 4 * 2**20


def test_a_gzip_claiming_more_than_it_holds_costs_at_most_16_times_its_size(data_dir):
    path = idx_folder(data_dir) / "t10k-images-idx3-ubyte.gz"
    peak = peak_of(lambda: refused("IDX gzip of 1 MB claiming 1 GB", data_dir))
    assert peak < 16 * path.stat().st_size + 4 * 2**20  # the reserve, the file, one inflated chunk


def test_an_npz_over_the_size_limit_is_refused_before_it_is_inflated(data_dir, monkeypatch):
    """The real 1.96 GB bomb is a slow case above; here the same rule with a 1 MB limit."""
    monkeypatch.setattr(npz_module, "MAX_DATASET_BYTES", 2**20)
    data_dir.mkdir()
    np.savez_compressed(data_dir / f"{NAME}.npz", x_train=np.zeros((4000, 28, 28), np.uint8), y_train=np.zeros(4000, int),
                        x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.zeros(2, int))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"its arrays hold 3,1\d\d,\d+ bytes, more than the 1,048,576"):
            load_dataset(NAME, "test")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20


def test_listing_datasets_reads_no_class_names(data_dir, monkeypatch):
    """A 20 MB classes.txt was re-read at every listing (1.3 s each); now only loading reads one."""
    make("classes.txt of 20 MB", data_dir)
    opened = []

    def spy(*args):
        opened.append(args)
    spy.cache_clear = lambda: None
    monkeypatch.setattr(class_names, "_read", spy)
    for _ in range(3):
        assert NAME in datasets() and available_datasets()[NAME]
    assert opened == []


def test_class_names_are_read_once_and_again_when_the_file_changes(data_dir):
    folder = idx_folder(data_dir)
    (folder / "classes.txt").write_text("zero\none\n")
    assert class_names.read_classes_file(folder) == ("zero", "one")
    hits = class_names._read.cache_info().hits
    assert class_names.read_classes_file(folder) == ("zero", "one")
    assert class_names._read.cache_info().hits == hits + 1  # the second time from memory
    (folder / "classes.txt").write_text("nought\none\n")  # another size: a new version
    assert class_names.read_classes_file(folder) == ("nought", "one")


def test_good_classes_files_near_the_limits_load(data_dir):
    folder = idx_folder(data_dir)
    os.makedirs(folder / "names")
    names = ["<b>bold</b>", "x" * 64]  # markup is shown as text by the renderers, not refused
    (folder / "names" / "list.txt").write_bytes(b"\xef\xbb\xbf" + "\r\n".join(names).encode() + b"\r\n\r\n\n")
    os.symlink("names/list.txt", folder / "classes.txt")  # a link inside the folder is fine
    assert load_dataset(NAME, "test").classes == tuple(names)


def test_good_npz_files_near_the_limits_load(data_dir):
    data_dir.mkdir()
    x = np.asfortranarray(np.random.default_rng(0).random((5, 28, 28)))
    np.savez_compressed(data_dir / f"{NAME}.npz", x_train=x, y_train=np.arange(5) % 2, x_test=x[:2],
                        y_test=np.array([0, 255], np.uint8), classes=np.array([f"c{i}".encode() for i in range(256)]))
    test = load_dataset(NAME, "test")
    assert test.classes[255] == "c255" and test.labels.tolist() == [0, 255]
    np.testing.assert_array_equal(test.images, np.rint(x[:2] * 255).astype(np.uint8))


def test_an_npz_whose_member_is_shorter_than_the_zip_says_is_refused(data_dir):
    """The zip's declared size bounds what is read; a member that ends early fails as a DataError."""
    data_dir.mkdir()
    path = npz(data_dir, {"x_test": npy_bytes(header={"descr": "|u1", "fortran_order": False, "shape": (2, 28, 28)},
                                              data=bytes(100))})
    with zipfile.ZipFile(path) as z:
        assert z.getinfo("x_test.npy").file_size < 2 * 784
    with pytest.raises(DataError, match=f"{NAME}.npz: x_test's header announces shape"):
        load_dataset(NAME, "test")
