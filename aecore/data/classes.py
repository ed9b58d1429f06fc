"""Class names: the ones a user's set brings (classes.txt beside its IDX files, or the `classes`
array of its .npz) and the names made up from its labels when it brings none.

Class names reach every page (legends, hovers, captions, pickers), so they are bounded here, once,
for every source: at most MAX_CLASSES names of at most MAX_NAME printable characters, unique, and a
classes.txt of at most MAX_FILE_BYTES of UTF-8 that lies inside its dataset's folder (a link out of
it is refused: the file's text is shown to every visitor). Escaping them for display is the
renderers' job (aecore.pictures.plots.plain_text, ui.text.plain).
"""
from __future__ import annotations

import functools
import os
import stat
import unicodedata
from pathlib import Path

import numpy as np

from .idx import DataError

MAX_CLASSES = 256  # IDX labels are one byte; an .npz is held to the same (one map trace per class)
MAX_NAME = 64  # characters: a legend entry, a hover line, a picker option
MAX_FILE_BYTES = 64 * 1024  # 256 names of 64 characters, with room for multi-byte letters
FILE = "classes.txt"
_UNSHOWABLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # controls, format (bidi overrides), unassigned


def check_names(names: list[str], where: str) -> tuple[str, ...]:
    """`names` as a tuple, or DataError naming `where` and the limit a name breaks."""
    if len(names) > MAX_CLASSES:
        raise DataError(f"{where}: {len(names):,} class names; at most {MAX_CLASSES} are supported.")
    for i, name in enumerate(names):
        shown = repr(name[:MAX_NAME]) + ("..." if len(name) > MAX_NAME else "")
        if not name.strip():
            raise DataError(f"{where}: class {i} has an empty name; give every class 0..{len(names) - 1} a name.")
        if len(name) > MAX_NAME:
            raise DataError(f"{where}: class {i}'s name has {len(name):,} characters; at most {MAX_NAME} are "
                            f"allowed ({shown}).")
        bad = next((ch for ch in name if unicodedata.category(ch) in _UNSHOWABLE), None)
        if bad is not None:
            raise DataError(f"{where}: class {i}'s name {shown} holds the unprintable character "
                            f"U+{ord(bad):04X}; use printable text.")
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in seen:
            raise DataError(f"{where}: classes {seen[name]} and {i} are both named {name!r}; names must differ.")
        seen[name] = i
    return tuple(names)


def names_for(labels: np.ndarray, given: tuple[str, ...] | None, where: str) -> tuple[str, ...]:
    """The class names of a split with these labels: `given` (checked to cover every label), else
    "0", "1", ... up to the largest label. DataError naming `where` when a label is past the
    names, or past MAX_CLASSES - 1 (a label of 10**9 would otherwise make 10**9 names)."""
    top = int(labels.max()) if len(labels) else -1
    if top >= MAX_CLASSES:
        raise DataError(f"{where}: labels go up to {top:,}; labels must lie in 0..{MAX_CLASSES - 1} "
                        f"(at most {MAX_CLASSES} classes).")
    if given is None:
        return tuple(str(c) for c in range(top + 1))
    if top >= len(given):
        raise DataError(f"{where}: labels go up to {top} but {len(given)} class names are given; "
                        f"they must lie in 0..{len(given) - 1}.")
    return given


def read_classes_file(folder: Path) -> tuple[str, ...] | None:
    """The names in `folder`/classes.txt (one per line, label 0 first), or None when there is no
    such file. Read once per version of the file (its size and modification time)."""
    path = Path(folder) / FILE
    if not os.path.lexists(path):
        return None
    inside, real = _inside(folder, path)
    if not inside:
        raise DataError(f"{path}: links outside its dataset folder; put the file itself in "
                        f"{Path(folder).name}/.")
    try:
        st = os.stat(real)
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror}).") from None
    if not stat.S_ISREG(st.st_mode):
        raise DataError(f"{path}: not a regular file; classes.txt is a text file, one class name per line.")
    return _read(str(real), st.st_size, st.st_mtime_ns, str(path))


def _inside(folder: Path, path: Path) -> tuple[bool, Path]:
    """(whether `path`, links followed, lies in `folder`, links followed; where it leads)."""
    real = Path(os.path.realpath(path))
    return real.is_relative_to(os.path.realpath(folder)), real


@functools.lru_cache(maxsize=32)
def _read(real: str, size: int, mtime_ns: int, shown: str) -> tuple[str, ...]:
    """The checked names of one version of a classes.txt (size and mtime_ns key the cache)."""
    if size > MAX_FILE_BYTES:
        raise DataError(f"{shown}: {size:,} bytes; a classes.txt may hold at most {MAX_FILE_BYTES:,} "
                        f"(at most {MAX_CLASSES} names of at most {MAX_NAME} characters).")
    with open(real, "rb") as f:
        raw = f.read(MAX_FILE_BYTES + 1)  # the size was checked, but the file may grow meanwhile
    if len(raw) > MAX_FILE_BYTES:
        raise DataError(f"{shown}: more than {MAX_FILE_BYTES:,} bytes; a classes.txt may hold at most that.")
    try:
        text = raw.decode("utf-8-sig")  # -sig: a byte-order mark some editors write is not a name
    except UnicodeDecodeError as err:
        raise DataError(f"{shown}: not UTF-8 text (byte {err.start} is 0x{raw[err.start]:02X}); save it as "
                        "UTF-8, one class name per line.") from None
    lines = [line.strip() for line in text.split("\n")]  # not splitlines: it also splits at \x1c, \x85 ...
    while lines and not lines[-1]:
        lines.pop()  # trailing blank lines; a blank line between names would shift every label after it
    return check_names(lines, shown)


def clear_cache() -> None:
    _read.cache_clear()
