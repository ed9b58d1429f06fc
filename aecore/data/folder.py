"""A folder of pictures as a dataset, in the layout torchvision's ImageFolder and Keras'
image_dataset_from_directory read: <name>/train/<class>/*.png and <name>/test/<class>/*.png, or
<name>/<class>/*.png, whose test split is then a seeded, stratified sixth of each class.

This module finds the pictures (decode.py reads them). Class names are the class folders' names,
sorted; pictures may lie in folders within a class folder. The walk is bounded: at most MAX_FILES
pictures and MAX_ENTRIES entries, MAX_DEPTH folders deep; hidden entries are skipped; a link that
leads out of the dataset's folder is refused (its target would be shown to every visitor), and a
linked folder inside it is not followed (its pictures are in the folder already).
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .classes import check_names
from .idx import DataError

SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
MAX_FILES = 200_000     # pictures in one set
MAX_ENTRIES = 400_000   # directory entries looked at: pictures, other files, folders
MAX_DEPTH = 8           # folders within a class folder
SPLIT_SEED = 0          # which sixth of each class is the test split of a folder without train/ and test/
TEST_SHARE = 6          # one in TEST_SHARE pictures of each class
PEEK = 64               # entries looked at per folder when only asking whether a folder holds pictures
SPLIT_NOTE = (f"test split: a seeded (seed {SPLIT_SEED}), stratified sixth of each class; "
              "put the pictures in train/ and test/ to choose it yourself")


@dataclass(frozen=True)
class Listing:
    """The pictures of an image folder: per split, paths (under the split's folder, "/"-separated)
    sorted by class folder, then by path as text, and their labels. A flat folder's split folder is
    the folder itself."""
    root: Path
    classes: tuple[str, ...]
    files: dict[str, list[str]]           # split -> paths under split_dirs[split]
    labels: dict[str, np.ndarray]         # split -> int64 (n,)
    split_dirs: dict[str, Path]
    flat: bool                            # no train/ and test/: the test split was drawn here
    notes: tuple[str, ...] = ()


def is_picture(name: str) -> bool:
    return name.lower().endswith(SUFFIXES) and not name.startswith(".")


def _holds_pictures(folder: Path) -> bool:
    """Whether `folder` directly holds a picture, looking at PEEK entries at most (a cheap guess)."""
    try:
        with os.scandir(folder) as entries:
            for i, entry in enumerate(entries):
                if i >= PEEK:
                    return False
                if is_picture(entry.name):
                    return True
    except OSError:
        return False
    return False


def looks_like_image_folder(folder: Path) -> bool:
    """Whether `folder` is laid out as an image folder: train/ or test/ (loading says when one is
    missing), or a class folder of pictures among its first PEEK entries. Reads no pictures; cheap
    enough for every listing."""
    if (folder / "train").is_dir() or (folder / "test").is_dir():
        return True
    try:
        with os.scandir(folder) as entries:
            subs = [Path(e.path) for _, e in zip(range(PEEK), entries) if e.is_dir() and not e.name.startswith(".")]
    except OSError:
        return False
    return any(_holds_pictures(sub) for sub in subs)


class _Walk:
    """Bounded walk of class folders: counts entries and pictures across the whole set."""

    def __init__(self, root: Path):
        self.root, self.real_root = root, os.path.realpath(root)
        self.entries = self.pictures = 0
        self.loose: list[str] = []   # pictures outside any class folder: not in the set

    def _inside(self, entry: os.DirEntry) -> bool:
        """Whether a link leads inside the dataset's folder; DataError when it leads out."""
        real = os.path.realpath(entry.path)
        if real != self.real_root and not real.startswith(self.real_root + os.sep):
            raise DataError(f"{entry.path}: links outside its dataset folder {self.root}; put the pictures "
                            "themselves in the folder.")
        return True

    def _count(self, path: str) -> None:
        self.entries += 1
        if self.entries > MAX_ENTRIES:
            raise DataError(f"{self.root}: more than {MAX_ENTRIES:,} files and folders; an image folder may hold "
                            f"at most {MAX_FILES:,} pictures. Move what is not part of the set elsewhere.")

    def _listed(self, folder: Path):
        """The entries of `folder` by name, each counted, hidden ones (".name") left out."""
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as err:
            raise DataError(f"{folder}: cannot be listed ({err.strerror}).") from None
        for entry in entries:
            self._count(entry.path)
            if not entry.name.startswith("."):
                yield entry

    def pictures_in(self, folder: Path, under: str, depth: int = 0) -> list[str]:
        """Paths ("/"-separated, `under` first) of the pictures in `folder` and its subfolders."""
        found = []
        for entry in self._listed(folder):
            if entry.is_symlink():
                self._inside(entry)
                if entry.is_dir():
                    continue  # not followed: a link inside the folder leads to pictures it holds anyway
            if entry.is_dir(follow_symlinks=False):
                if depth + 1 > MAX_DEPTH:
                    raise DataError(f"{entry.path}: folders nested more than {MAX_DEPTH} deep in a class folder; "
                                    "keep each class's pictures within a few folders.")
                found += self.pictures_in(Path(entry.path), f"{under}{entry.name}/", depth + 1)
            elif is_picture(entry.name) and entry.is_file():
                self.pictures += 1
                if self.pictures > MAX_FILES:
                    raise DataError(f"{self.root}: more than {MAX_FILES:,} pictures; an image folder may hold at "
                                    f"most {MAX_FILES:,}. Save a larger set as an .npz (see README).")
                found.append(f"{under}{entry.name}")
        return found

    def classes_in(self, split_dir: Path) -> dict[str, list[str]]:
        """{class folder name: its pictures' paths under split_dir}; pictures lying loose in
        split_dir are noted, not read."""
        out = {}
        for entry in self._listed(split_dir):
            if entry.is_symlink() and self._inside(entry) and entry.is_dir():
                continue
            if entry.is_dir(follow_symlinks=False):
                out[entry.name] = sorted(self.pictures_in(Path(entry.path), f"{entry.name}/"))
            elif is_picture(entry.name):
                self.loose.append(entry.name)
        return out


def list_folder(root: Path) -> Listing:
    """The pictures of the image folder `root`, split and labelled; DataError naming the folder
    when it has no class folder of pictures, only one of train/ and test/, or breaks a limit."""
    walk = _Walk(root)
    has = {s: (root / s).is_dir() for s in ("train", "test")}
    if has["train"] != has["test"]:
        there, missing = ("train", "test") if has["train"] else ("test", "train")
        raise DataError(f"{root}: has {there}/ but no {missing}/; an image folder holds both train/<class>/ and "
                        f"test/<class>/, or only class folders (then a sixth of each class is the test split).")
    if has["train"]:
        per_split = {s: walk.classes_in(root / s) for s in ("train", "test")}
        split_dirs = {s: root / s for s in per_split}
    else:
        per_split = {"all": walk.classes_in(root)}
        split_dirs = {s: root for s in ("train", "test")}
    names = sorted({c for classes in per_split.values() for c, files in classes.items() if files})
    if not names:
        raise DataError(f"{root}: no pictures ({', '.join(SUFFIXES)}) in class folders; lay the set out as "
                        f"{root.name}/train/<class>/*.png and {root.name}/test/<class>/*.png, or "
                        f"{root.name}/<class>/*.png.")
    classes = check_names(names, f"{root}: class folders")
    notes = [f"{count(len(walk.loose), 'picture')} outside class folders left out: {shown(walk.loose)}"] \
        if walk.loose else []
    if has["train"]:
        files, labels = {}, {}
        for split, found in per_split.items():
            files[split], labels[split] = _labelled(found, classes)
    else:
        files, labels = _drawn_test_split(per_split["all"], classes)
        notes.insert(0, SPLIT_NOTE)
    return Listing(root, classes, files, labels, split_dirs, not has["train"], tuple(notes))


def _labelled(found: dict[str, list[str]], classes: tuple[str, ...]) -> tuple[list[str], np.ndarray]:
    index = {c: i for i, c in enumerate(classes)}
    pairs = [(path, index[c]) for c in sorted(found) if c in index for path in found[c]]
    return [p for p, _ in pairs], np.array([lab for _, lab in pairs], np.int64)


def test_count(n: int) -> int:
    """How many of a class's n pictures the drawn test split takes: a sixth, rounded, at least
    one of any class of two or more (so that every class is tested)."""
    return 0 if n < 2 else max(1, (n + TEST_SHARE // 2) // TEST_SHARE)


def _rank(path: str) -> bytes:
    """A picture's place in the draw: the hash of the seed and its path, so that adding or
    removing a picture moves no other picture between the splits beyond its own class's count."""
    return hashlib.sha256(f"{SPLIT_SEED}:{path}".encode()).digest()


def _drawn_test_split(found: dict[str, list[str]], classes: tuple[str, ...]):
    """({split: paths}, {split: labels}) with test_count(n) pictures of each class drawn for test."""
    files = {"train": [], "test": []}
    labels = {"train": [], "test": []}
    for label, c in enumerate(classes):
        paths = found.get(c, [])
        chosen = set(sorted(paths, key=_rank)[:test_count(len(paths))])
        for path in paths:  # in path order within each split
            split = "test" if path in chosen else "train"
            files[split].append(path)
            labels[split].append(label)
    return files, {s: np.array(v, np.int64) for s, v in labels.items()}


def count(n: int, thing: str) -> str:
    """"1 picture", "2 pictures": a count as the notes say it."""
    return f"{n:,} {thing}{'' if n == 1 else 's'}"


def shown(names: list[str], first: int = 5) -> str:
    """The first few names, then how many more."""
    more = len(names) - first
    return ", ".join(names[:first]) + (f" and {more:,} more" if more > 0 else "")


def stamp(root: Path) -> list[str]:
    """What identifies an image folder's contents cheaply: the modification time of every folder
    in it (adding, removing or renaming a picture changes its folder's), and the files at its top
    and in train/ and test/ (dataset.json, metadata files). A picture rewritten in place is seen
    by the decoded cache (cache.py keys it by every picture's size and time), not here. A folder
    whose link count says it has no subfolders (2 on ext4, xfs) is not listed: the app asks this
    on every cached call, and a class folder may hold thousands of pictures."""
    parts, todo, looked = [], [root], 0
    tops = (root, root / "train", root / "test")
    while todo and looked < MAX_ENTRIES:
        folder = todo.pop()
        try:
            st = folder.stat()
            parts.append(f"{folder.relative_to(root)}/:{st.st_mtime_ns}")
            if st.st_nlink == 2 and folder not in tops:
                continue
            with os.scandir(folder) as entries:
                for entry in entries:
                    looked += 1
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        todo.append(Path(entry.path))
                    elif folder in tops and not is_picture(entry.name):
                        st = entry.stat()
                        parts.append(f"{Path(entry.path).relative_to(root)}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{folder}:gone")
    return sorted(parts)
