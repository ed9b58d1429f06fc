"""A folder of pictures is a dataset: ImageFolder's train/test layout or class folders alone (a
seeded, stratified sixth is the test split), mixed sizes resized to the most common one (or to
dataset.json's), colour when any picture is, unreadable files listed, and the decoded arrays
cached on disk so that the next start reads no picture."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aecore.data import DataError, available_datasets, datasets, load_dataset, source_stamp, split_size
from aecore.data import decode, folder as folder_module, picture_set
from aecore.pictures.pixels import ImageShape
from benchmarks.hostile_files import png_bytes


def picture(path: Path, size=(32, 32), colour=(200, 30, 10), mode="RGB", seed=0) -> np.ndarray:
    """Save a picture of `size` (height, width): a flat colour with a random speckle; its pixels."""
    rng = np.random.default_rng(seed)
    h, w = size
    if mode == "RGB":
        a = np.empty((h, w, 3), np.uint8)
        a[:] = colour
    else:
        a = np.full((h, w), colour if isinstance(colour, int) else colour[0], np.uint8)
    a[rng.integers(0, h, 4), rng.integers(0, w, 4)] = 255
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(a, mode).save(path)
    return a


ANT_TEST = ["ant/002.png", "ant/006.png"]  # the test pictures of ant/000.png ... ant/011.png, seed 0


def flat_folder(root: Path, counts: dict[str, int], mode="L") -> Path:
    for c, n in counts.items():
        for i in range(n):
            picture(root / c / f"{i:03d}.png", (16, 16), 40 * len(c), mode, seed=i)
    return root


def test_an_imagefolder_of_colour_pngs_of_mixed_sizes_with_a_broken_file(data_dir):
    root = data_dir / "pets"
    for split, n in (("train", 5), ("test", 2)):
        for c, colour in (("cat", (200, 30, 10)), ("dog", (10, 30, 200))):
            for i in range(n):
                picture(root / split / c / f"{i}.png", (32, 32), colour, seed=i)
    big = picture(root / "train" / "dog" / "big.png", (64, 48), (10, 30, 200))
    picture(root / "train" / "cat" / "grey.png", (32, 32), 128, "L")
    (root / "train" / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (root / "test" / "dog" / "notes.txt").write_text("not a picture, not read")
    assert available_datasets()["pets"]

    train, test = load_dataset("pets", "train"), load_dataset("pets", "test")
    assert train.shape == ImageShape(3, 32, 32) and train.images.shape == (5 + 1 + 5 + 1, 32, 32, 3)
    assert train.classes == ("cat", "dog") and test.classes == ("cat", "dog")
    assert train.labels.tolist() == [0] * 6 + [1] * 6 and test.labels.tolist() == [0, 0, 1, 1]
    assert train.images.dtype == np.uint8 and not train.images.flags.writeable
    # a cat picture is red, a dog blue; the grey picture became RGB with three equal channels
    def colour(image):
        return np.median(image.reshape(-1, 3), axis=0).tolist()
    assert colour(train.images[0]) == [200, 30, 10] and colour(train.images[6]) == [10, 30, 200]
    grey = train.images[5]  # cat/grey.png, after cat/0.png ... cat/4.png (broken.png is left out)
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all() and colour(grey) == [128] * 3
    # dog/big.png (64x48, the last dog) was resized to 32x32, and the note says so; the broken one is listed
    assert colour(train.images[-1]) == colour(big) and "1 picture resized to 32x32" in train.notes
    assert any(n.startswith("1 unreadable file skipped: train/cat/broken.png (not a PNG") for n in train.notes)
    assert train.notes == test.notes  # set-level notes: the sidebar shows them whichever split
    everything = load_dataset("pets", "all")
    assert len(everything) == 16 and everything.shape == train.shape
    assert np.shares_memory(everything.images, test.images)  # one decoded array, the splits are views of it
    assert split_size("pets", "test") == 4


def test_the_most_common_size_wins_and_dataset_json_overrides_it(data_dir):
    root = data_dir / "sizes"
    for i in range(3):
        picture(root / "train" / "a" / f"{i}.png", (20, 24))
        picture(root / "test" / "a" / f"{i}.png", (20, 24) if i else (40, 40))
    test = load_dataset("sizes", "test")
    assert test.shape == ImageShape(3, 20, 24) and "1 picture resized to 20x24" in test.notes
    (root / "dataset.json").write_text(json.dumps({"image": [1, 16, 16]}))
    load_dataset.cache_clear()
    test = load_dataset("sizes", "test")
    assert test.shape == ImageShape(1, 16, 16) and "6 pictures resized to 16x16" in test.notes
    (root / "dataset.json").write_text(json.dumps({"image": [3, 200, 16]}))
    load_dataset.cache_clear()
    with pytest.raises(DataError, match=r"dataset.json: images are 200x16 pixels; the explorer takes sides of 8"):
        load_dataset("sizes", "test")


def test_pictures_too_large_for_the_explorer_say_to_write_dataset_json(data_dir):
    for i in range(2):
        picture(data_dir / "photos" / "train" / "a" / f"{i}.png", (8, 300))
        picture(data_dir / "photos" / "test" / "a" / f"{i}.png", (8, 300))
    with pytest.raises(DataError, match=r"most pictures are 8x300; .* write dataset.json \{\"image\": \[3, 64, 64\]\}"):
        load_dataset("photos", "test")


def test_grey_pictures_make_a_grey_set_even_when_saved_as_rgb(data_dir):
    root = data_dir / "digits"
    picture(root / "train" / "0" / "a.png", (28, 28), 90, "L")
    picture(root / "train" / "1" / "b.png", (28, 28), (70, 70, 70))  # RGB file of a grey picture
    picture(root / "test" / "0" / "c.png", (28, 28), 90, "L")
    train = load_dataset("digits", "train")
    assert train.shape == ImageShape(1, 28, 28) and train.images.shape == (2, 28, 28)
    assert train.images[1, 0, 0] == 70


def test_class_folders_alone_give_a_seeded_stratified_sixth_for_test(data_dir):
    counts = {"ant": 12, "bee": 30, "cow": 7, "yak": 1}
    flat_folder(data_dir / "farm", counts)
    train, test = load_dataset("farm", "train"), load_dataset("farm", "test")
    expected = {"ant": 2, "bee": 5, "cow": 1, "yak": 0}  # a sixth, rounded; a class of one stays in train
    assert {c: int((test.labels == i).sum()) for i, c in enumerate(test.classes)} == expected
    assert {c: int((train.labels == i).sum()) for i, c in enumerate(train.classes)} == \
        {c: n - expected[c] for c, n in counts.items()}
    assert folder_module.SPLIT_NOTE in test.notes and folder_module.SPLIT_NOTE in train.notes
    listing = folder_module.list_folder(data_dir / "farm")
    assert not set(listing.files["train"]) & set(listing.files["test"])
    # the same draw every time, and a new picture moves no other picture between the splits
    assert folder_module.list_folder(data_dir / "farm").files == listing.files
    picture(data_dir / "farm" / "bee" / "030.png", (16, 16), 120, "L")
    again = folder_module.list_folder(data_dir / "farm")
    def others(files):
        return [f for f in files if not f.startswith("bee/")]
    assert others(again.files["test"]) == others(listing.files["test"])
    assert len(set(listing.files["test"]) - set(again.files["test"])) <= 1
    # the draw is part of what a model was trained on: it must not change between versions
    assert [f for f in listing.files["test"] if f.startswith("ant/")] == ANT_TEST


def test_a_folder_with_train_but_no_test_is_listed_and_says_what_to_add(data_dir):
    picture(data_dir / "half" / "train" / "a" / "0.png")
    assert "half" in datasets()  # listed, so that picking it says what is wrong
    with pytest.raises(DataError, match=r"half: has train/ but no test/; an image folder holds both"):
        load_dataset("half", "test")


def test_a_folder_without_pictures_is_no_dataset(data_dir):
    (data_dir / "notes" / "drafts").mkdir(parents=True)
    (data_dir / "notes" / "drafts" / "a.txt").write_text("text")
    assert "notes" not in datasets()


def test_the_second_load_reads_the_decoded_cache_and_a_changed_picture_is_decoded_anew(data_dir, monkeypatch):
    root = flat_folder(data_dir / "cached", {"a": 6, "b": 6})
    first = load_dataset("cached", "test").images.copy()
    decoded = []
    real = picture_set._decode
    monkeypatch.setattr(picture_set, "_decode", lambda *a: decoded.append(1) or real(*a))
    load_dataset.cache_clear()
    np.testing.assert_array_equal(load_dataset("cached", "test").images, first)
    assert decoded == []  # from the .npy files, not from the pictures
    stamp = source_stamp("cached")
    picture(root / "b" / "000.png", (16, 16), 250, "L", seed=0)  # rewritten in place: same folder listing
    os.utime(root / "b" / "000.png", ns=(1, 1))
    load_dataset.cache_clear()
    load_dataset("cached", "train")
    assert decoded == [1] and source_stamp("cached") == stamp  # the cache's key saw it; the cheap stamp need not
    picture(root / "b" / "new.png", (16, 16), 5, "L")
    assert source_stamp("cached") != stamp  # a new picture changes its folder's time
    caches = list((data_dir.parent / "cache" / picture_set.CACHE).glob("*/*"))
    assert len(caches) == 1  # older versions of the folder's cache are removed


def test_metadata_csv_of_a_flat_folder_covers_every_picture(data_dir):
    root = flat_folder(data_dir / "zoo", {"ant": 6, "bee": 6})
    rows = ["file,weight,habitat"] + [f"{c}/{i:03d}.png,{i * 1.5},{'hive' if c == 'bee' else 'nest'}"
                                      for c in ("ant", "bee") for i in range(6)]
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")
    listing = folder_module.list_folder(root)
    test = load_dataset("zoo", "test")
    assert test.column_kind("weight") == "number" and test.column_kind("habitat") == "category"
    for path, weight, habitat in zip(listing.files["test"], test.columns["weight"], test.columns["habitat"]):
        assert weight == int(path[-7:-4]) * 1.5 and habitat == ("hive" if path.startswith("bee") else "nest")
    assert len(load_dataset("zoo", "all").columns["weight"]) == 12


def test_an_unreadable_picture_keeps_the_columns_of_the_others_in_step(data_dir):
    root = data_dir / "gaps"
    for i in range(4):
        picture(root / "train" / "a" / f"{i}.png", (16, 16), 10 * i, "L")
        picture(root / "test" / "a" / f"{i}.png", (16, 16), 10 * i, "L")
    (root / "test" / "a" / "1.png").write_bytes(b"GIF89a broken")
    (root / "test" / "metadata.csv").write_text("file,tone\n" + "".join(f"a/{i}.png,{10 * i}\n" for i in range(4)))
    test = load_dataset("gaps", "test")
    assert test.columns["tone"].tolist() == [0, 20, 30] and test.images[:, 0, 0].tolist() == [0, 20, 30]


# ---------------------------------------------------------------- bounds (more in test_hostile_data.py)
def test_more_pictures_than_the_limit_are_refused_before_any_is_read(data_dir, monkeypatch):
    flat_folder(data_dir / "many", {"a": 4, "b": 4})
    monkeypatch.setattr(folder_module, "MAX_FILES", 7)
    monkeypatch.setattr(decode, "probe", lambda *a: pytest.fail("a picture was read"))
    with pytest.raises(DataError, match=r"many: more than 7 pictures; an image folder may hold at most 7"):
        load_dataset("many", "test")


def test_pictures_decoding_past_the_dataset_limit_are_refused_before_decoding(data_dir, monkeypatch):
    flat_folder(data_dir / "heavy", {"a": 6, "b": 6})
    monkeypatch.setattr(decode, "MAX_DATASET_BYTES", 11 * 256)
    monkeypatch.setattr(decode, "decode_into", lambda *a: pytest.fail("a picture was decoded"))
    with pytest.raises(DataError, match=r"heavy: 12 pictures of 16x16 grey take 3,072 bytes, more than the 2,816"):
        load_dataset("heavy", "test")


def test_a_bomb_among_good_pictures_is_listed_and_the_rest_load(data_dir):
    root = flat_folder(data_dir / "mixed", {"a": 6, "b": 6})
    (root / "a" / "bomb.png").write_bytes(png_bytes(30_000, 30_000, rows=bytes(1000)))
    (root / "a" / "wide.png").write_bytes(png_bytes(5000, 4000, rows=bytes(1000)))  # under Pillow's limit, over ours
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 16 16\n(x) show\n"  # Ghostscript must never see this
    (root / "b" / "eps.png").write_bytes(eps)
    os.mkfifo(root / "b" / "pipe.png")
    os.symlink("000.png", root / "b" / "link.png")  # a link inside the folder is a picture like any
    train, test = load_dataset("mixed", "train"), load_dataset("mixed", "test")
    assert len(train) + len(test) == 13
    note = next(n for n in test.notes if "unreadable" in n)
    assert note.startswith("3 unreadable files skipped: a/bomb.png (more than 16,777,216 pixels")
    assert "a/wide.png (5000x4000 pixels, more than 16,777,216)" in note and "b/eps.png (not a PNG" in note


def test_a_picture_linked_out_of_the_folder_is_refused(data_dir, tmp_path):
    root = flat_folder(data_dir / "linked", {"a": 3})
    picture(tmp_path / "outside.png")
    os.symlink(tmp_path / "outside.png", root / "a" / "z.png")
    with pytest.raises(DataError, match=r"z.png: links outside its dataset folder .*linked; put the pictures themselves"):
        load_dataset("linked", "train")


def test_the_decoded_cache_reads_back_uint8_only_and_whole(tmp_path, monkeypatch):
    from aecore.data import buffers
    monkeypatch.setattr(buffers, "SMALL", 0)  # the mapped buffer of a large set, on a small one
    images = np.arange(2 * 9 * 10 * 3, dtype=np.uint8).reshape(2, 9, 10, 3)
    np.save(tmp_path / "ok.npy", images)
    back = buffers.read_uint8_npy(tmp_path / "ok.npy")
    assert np.array_equal(back, images) and back.flags.writeable and back.flags.c_contiguous
    np.save(tmp_path / "floats.npy", images.astype(np.float32))
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "short.npy").write_bytes((tmp_path / "ok.npy").read_bytes()[:-5])
    for bad in ("floats", "objects", "short"):
        with pytest.raises(ValueError, match=f"{bad}.npy"):
            buffers.read_uint8_npy(tmp_path / f"{bad}.npy")
