"""Per-image columns from a metadata CSV beside a dataset's files: metadata-train.csv and
metadata-test.csv (an IDX folder, an .npz folder, an image folder), <split>/metadata.csv (an image
folder with train/ and test/) or metadata.csv (an image folder of class folders: every picture).

Rows are matched to images by a `file` column (the picture's path under its split's folder; only
where the images are files), else by an `index` column (0, 1, ... in the set's order), else by
row order (then there must be one row per image). Every other column is a column of the dataset:
numbers when every filled cell is one (int64 when all are whole and none is blank, else float64
with NaN for blanks), else categories (text, "" for blanks). Cells are text and stay text: a cell
"=cmd()" is the string "=cmd()".

Bounded like every input (csv_table.py reads the file): a file inside the dataset's folder of at
most 16 MB, 2,000,000 cells, 64 columns of unique, printable names, cells of 256 characters.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .csv_table import read_table, trimmed
from .dataset import frozen
from .folder import count, shown
from .idx import DataError



def find(folder: Path, names: list[str]) -> Path | None:
    """The one metadata file of `names` (paths under `folder`) that exists, or None; DataError
    when two do (which would win is not for us to guess)."""
    found = [folder / n for n in names if os.path.lexists(folder / n)]
    if len(found) > 1:
        raise DataError(f"{folder}: both {found[0].relative_to(folder)} and {found[1].relative_to(folder)} give "
                        "this split's columns; keep one.")
    return found[0] if found else None


def read_metadata(path: Path, folder: Path, n: int, files: list[str] | None = None
                  ) -> tuple[dict[str, np.ndarray], tuple[str, ...]]:
    """({column: values (n,)}, notes) from the CSV at `path` for n images, which are `files`
    (paths) when they are files. DataError naming the file, row and column of any problem."""
    header, cells = read_table(path, folder)
    import pyarrow as pa  # after read_table: a file refused by its size or header costs no import
    key_of = dict(zip(header, cells))
    row_of, notes, key = _match(header, key_of, n, files, str(path), path.relative_to(folder).as_posix())
    take = pa.array(row_of, mask=row_of < 0)  # an image without a row takes a blank
    columns = {name: _typed(trimmed(key_of[name].take(take))) for name in header if name != key}
    return frozen(columns), notes


def _match(header: list[str], columns: dict, n: int, files: list[str] | None, where: str, name: str):
    """(row of each image (n,), -1 where none; notes; the key column or None). Errors name the
    file `where`; notes its `name` in the dataset's folder."""
    if files is not None and "file" in header:
        row_of, unknown = _by_file(trimmed(columns["file"]).to_pylist(), files, where)
        return row_of, _gaps(name, row_of, unknown), "file"
    if "index" in header:
        row_of = _by_index(trimmed(columns["index"]).to_pylist(), n, where)
        return row_of, _gaps(name, row_of, []), "index"
    rows = len(columns[header[0]])
    if rows != n:
        raise DataError(f"{where}: {count(rows, 'row')} for {count(n, 'image')}; give one row per image in the set's "
                        "order, or match rows to images by a file or an index column.")
    return np.arange(n), (), None


def _by_file(keys: list[str], files: list[str], where: str):
    position = {f: i for i, f in enumerate(files)}
    row_of, unknown = np.full(len(files), -1, np.int64), []
    for r, key in enumerate(keys):
        name = key.replace("\\", "/").removeprefix("./")
        i = position.get(name)
        if i is None:
            unknown.append(name or "(blank)")
        elif row_of[i] >= 0:
            raise DataError(f"{where}: rows {row_of[i] + 1} and {r + 1} (below the header) are both for {name}; give "
                            "each picture one row.")
        else:
            row_of[i] = r
    return row_of, unknown


def _by_index(keys: list[str], n: int, where: str):
    row_of = np.full(n, -1, np.int64)
    for r, key in enumerate(keys):
        try:
            i = int(key)
        except ValueError:
            raise DataError(f"{where}: row {r + 1} (below the header): index {key!r} is not a whole number; an "
                            f"index column numbers the images 0 to {n - 1}.") from None
        if not 0 <= i < n:
            raise DataError(f"{where}: row {r + 1} (below the header): index {i:,} is outside 0..{n - 1:,} ({n:,} images).")
        if row_of[i] >= 0:
            raise DataError(f"{where}: rows {row_of[i] + 1} and {r + 1} (below the header) are both for index {i}; "
                            "give each image one row.")
        row_of[i] = r
    return row_of


def _gaps(name: str, row_of: np.ndarray, unknown: list[str]) -> tuple[str, ...]:
    """Notes on rows for no picture here and images without a row."""
    notes = []
    if unknown:
        notes.append(f"{name}: {count(len(unknown), 'row')} for no picture here, left out: {shown(unknown, 3)}")
    missing = int((row_of < 0).sum())
    if missing:
        notes.append(f"{name}: {count(missing, 'image')} without a row: their columns are blank")
    return tuple(notes)


def _typed(column) -> np.ndarray:
    """A pyarrow text column (null where an image has no row) as numbers (int64 when whole and
    complete, else float64 with NaN for blanks) or text ("" for blanks)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = pc.if_else(pc.equal(column, ""), None, column)  # blank cells and missing rows alike
    blanks = column.null_count
    sample = column.drop_null().slice(0, 64)  # a failing cast of 100,000 cells is slow: try a few first
    kinds = () if blanks == len(column) else (pa.float64(),) if blanks else (pa.int64(), pa.float64())
    for kind in kinds:
        try:
            pc.cast(sample, kind)
            return pc.cast(column, kind).to_numpy(zero_copy_only=False)  # float nulls become NaN
        except pa.ArrowInvalid:  # not whole numbers (or past int64), not numbers
            continue
    return np.array(column.fill_null("").to_pylist(), dtype=str)
