"""Per-image columns from a metadata CSV beside a dataset's files: metadata-train.csv and
metadata-test.csv (an IDX folder, an .npz folder, an image folder), <split>/metadata.csv (an image
folder with train/ and test/) or metadata.csv (an image folder of class folders: every picture).

Rows are matched to images by a `file` column (the picture's path under its split's folder; only
where the images are files), else by an `index` column (0, 1, ... in the set's order), else by
row order (then there must be one row per image). Every other column is a column of the dataset:
numbers when every filled cell is one (int64 when all are whole and none is blank, else float64
with NaN for blanks), else categories (text, "" for blanks). Cells are text and stay text: a cell
"=cmd()" is the string "=cmd()".

Bounded like every input: a file inside the dataset's folder of at most MAX_BYTES, MAX_CELLS
cells, MAX_COLUMNS columns of unique, printable names, cells of at most MAX_CELL characters.
"""
from __future__ import annotations

import csv
import io
import math
import os
import stat
import unicodedata
from pathlib import Path

import numpy as np

from .classes import _inside
from .dataset import frozen
from .folder import count, shown
from .idx import DataError

MAX_BYTES = 32 * 2**20
MAX_CELLS = 2_000_000     # 100,000 images of 20 columns
MAX_COLUMNS = 64          # besides file / index
MAX_CELL = 256            # characters
MAX_NAME = 64             # characters of a column's name: a picker option, a legend title
_UNSHOWABLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_INT64 = (-2**63, 2**63 - 1)


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
    header, rows = read_table(path, folder)
    row_of, notes, key = _match(header, rows, n, files, str(path), path.relative_to(folder).as_posix())
    columns = {}
    for j, name in enumerate(header):
        if name == key:
            continue
        cells = [rows[r][j] if r >= 0 else "" for r in row_of.tolist()]
        columns[name] = _typed(cells)
    return frozen(columns), notes


def read_table(path: Path, folder: Path) -> tuple[list[str], list[list[str]]]:
    """(column names, rows of stripped cells) of a bounded CSV file inside `folder`."""
    inside, real = _inside(folder, path)
    if not inside:
        raise DataError(f"{path}: links outside its dataset folder; put the file itself in {folder.name}/.")
    try:
        st = os.stat(real)
        if not stat.S_ISREG(st.st_mode):
            raise DataError(f"{path}: not a regular file; a metadata file is a CSV text file.")
        if st.st_size > MAX_BYTES:
            raise DataError(f"{path}: {st.st_size:,} bytes; a metadata file may hold at most {MAX_BYTES:,}.")
        with open(real, "rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror}).") from None
    if len(raw) > MAX_BYTES:
        raise DataError(f"{path}: more than {MAX_BYTES:,} bytes; a metadata file may hold at most that.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (byte {err.start} is 0x{raw[err.start]:02X}); save it as UTF-8 "
                        "CSV.") from None
    return _parse(text, path)


def _parse(text: str, path: Path) -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [c.strip() for c in next(reader, [])]
        _check_names(header, path)
        rows, cells = [], 0
        for row in reader:
            if not any(c.strip() for c in row):
                continue  # a blank line
            if len(row) != len(header):
                raise DataError(f"{path}: line {reader.line_num} has {len(row)} cells for {len(header)} columns; "
                                "give every row one cell per column.")
            cells += len(row)
            if cells > MAX_CELLS:
                raise DataError(f"{path}: more than {MAX_CELLS:,} cells; a metadata file may hold at most that.")
            rows.append([_cell(c, path, reader.line_num, header[j]) for j, c in enumerate(row)])
    except csv.Error as err:
        raise DataError(f"{path}: line {reader.line_num}: not CSV ({err}).") from None
    return header, rows


def _cell(text: str, path: Path, line: int, column: str) -> str:
    text = text.strip()
    if len(text) > MAX_CELL:
        raise DataError(f"{path}: line {line}, column {column!r}: {len(text):,} characters; a cell may hold at "
                        f"most {MAX_CELL}.")
    bad = next((ch for ch in text if unicodedata.category(ch) in _UNSHOWABLE and ch not in "\t\n\r"), None)
    if bad is not None:
        raise DataError(f"{path}: line {line}, column {column!r}: holds the unprintable character "
                        f"U+{ord(bad):04X}; use printable text.")
    return text


def _check_names(header: list[str], path: Path) -> None:
    if not header or header == [""]:
        raise DataError(f"{path}: empty; a metadata file starts with a row of column names, such as file,colour,size.")
    if len(header) > MAX_COLUMNS + 2:
        raise DataError(f"{path}: {len(header)} columns; at most {MAX_COLUMNS} (besides file and index).")
    seen = set()
    for i, name in enumerate(header):
        if not name:
            raise DataError(f"{path}: column {i + 1} has no name; name every column in the first row.")
        if len(name) > MAX_NAME:
            raise DataError(f"{path}: column {i + 1}'s name has {len(name):,} characters; at most {MAX_NAME}.")
        bad = next((ch for ch in name if unicodedata.category(ch) in _UNSHOWABLE), None)
        if bad is not None:
            raise DataError(f"{path}: column {i + 1}'s name holds the unprintable character U+{ord(bad):04X}.")
        if name in seen:
            raise DataError(f"{path}: two columns are named {name!r}; names must differ.")
        seen.add(name)


def _match(header: list[str], rows: list[list[str]], n: int, files: list[str] | None, where: str, name: str):
    """(row of each image (n,), -1 where none; notes; the key column or None). Errors name the
    file `where`; notes its `name` in the dataset's folder."""
    if files is not None and "file" in header:
        row_of, unknown = _by_file(header.index("file"), rows, files, where)
        return row_of, _gaps(name, row_of, unknown), "file"
    if "index" in header:
        row_of = _by_index(header.index("index"), rows, n, where)
        return row_of, _gaps(name, row_of, []), "index"
    if len(rows) != n:
        raise DataError(f"{where}: {len(rows):,} rows for {n:,} images; give one row per image in the set's order, "
                        "or match rows to images by a file or an index column.")
    return np.arange(n), (), None


def _by_file(j: int, rows: list[list[str]], files: list[str], where: str):
    position = {f: i for i, f in enumerate(files)}
    row_of, unknown = np.full(len(files), -1, np.int64), []
    for r, row in enumerate(rows):
        name = row[j].replace("\\", "/").removeprefix("./")
        i = position.get(name)
        if i is None:
            unknown.append(name or "(blank)")
        elif row_of[i] >= 0:
            raise DataError(f"{where}: rows {row_of[i] + 1} and {r + 1} (below the header) are both for {name}; give "
                            "each picture one row.")
        else:
            row_of[i] = r
    return row_of, unknown


def _by_index(j: int, rows: list[list[str]], n: int, where: str):
    row_of = np.full(n, -1, np.int64)
    for r, row in enumerate(rows):
        try:
            i = int(row[j])
        except ValueError:
            raise DataError(f"{where}: row {r + 1} (below the header): index {row[j]!r} is not a whole number; an index column "
                            f"numbers the images 0 to {n - 1}.") from None
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


def _typed(cells: list[str]) -> np.ndarray:
    """Numbers (int64 when whole and complete, else float64 with NaN blanks) or text."""
    if not any(cells):
        return np.array(cells, dtype=str)
    if all(cells):
        try:
            ints = [int(c) for c in cells]
            if all(_INT64[0] <= v <= _INT64[1] for v in ints):
                return np.array(ints, np.int64)
        except ValueError:
            pass
    try:
        values = np.array([float(c) if c else math.nan for c in cells], np.float64)
    except ValueError:
        return np.array(cells, dtype=str)
    return values
