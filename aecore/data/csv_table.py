"""A bounded CSV file read as columns of text (pyarrow's C++ reader: a metadata file of 100,000
rows takes a fraction of a second and about its own size in memory, where Python's csv module
made an object of every cell).

Every cell is read as text, trimmed, "" where blank; a row whose every cell is blank (as
spreadsheets write below a table) is dropped. Limits: a regular file inside its dataset's folder
(a link out of it is refused: its text would be shown to every visitor) of at most MAX_BYTES,
MAX_CELLS cells, MAX_COLUMNS columns of unique, printable names of at most MAX_NAME characters,
cells of at most MAX_CELL printable characters (tabs and line breaks allowed).
"""
from __future__ import annotations

import csv
import os
import stat
import unicodedata
from pathlib import Path

from .classes import _inside
from .idx import DataError

MAX_BYTES = 16 * 2**20  # 100,000 rows of 10 short columns take 6 MB; read, about 5 x this at most
MAX_CELLS = 2_000_000     # 100,000 images of 20 columns
MAX_COLUMNS = 64          # besides file / index
MAX_CELL = 256            # characters
MAX_NAME = 64             # characters of a column's name: a picker option, a legend title
_UNSHOWABLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def read_table(path: Path, folder: Path) -> tuple[list[str], list]:
    """(column names, columns as pyarrow string arrays of equal length, cells untrimmed: see
    trimmed()) of the CSV at `path`."""
    raw = _bounded_bytes(path, folder)
    text_start = 3 if raw.startswith(b"\xef\xbb\xbf") else 0  # a byte-order mark some editors write
    try:
        first_line = raw[text_start:raw.find(b"\n", text_start) if b"\n" in raw else len(raw)].decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path}: not UTF-8 text (byte {err.start}); save it as UTF-8 CSV.") from None
    header = [c.strip() for c in next(csv.reader([first_line.rstrip("\r")]), [])]
    _check_names(header, path)
    columns = _columns(memoryview(raw)[text_start:], header, path)
    del raw
    for name, column in zip(header, columns):
        _check_cells(column, name, path)
    return header, columns


def _bounded_bytes(path: Path, folder: Path) -> bytes:
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
    return raw


def _columns(raw: bytes, header: list[str], path: Path) -> list:
    """The cells below the header, as trimmed text, rows of blanks dropped."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    names = [f"c{i}" for i in range(len(header))]  # the header's own names were checked above
    try:
        table = pcsv.read_csv(
            pa.BufferReader(pa.py_buffer(raw)),  # no copy, where io.BytesIO of a view would make one
            read_options=pcsv.ReadOptions(skip_rows=1, column_names=names, use_threads=False),
            parse_options=pcsv.ParseOptions(newlines_in_values=True),
            convert_options=pcsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except pa.ArrowInvalid as err:
        if "UTF8" in str(err):
            raise DataError(f"{path}: not UTF-8 text; save it as UTF-8 CSV.") from None
        raise DataError(f"{path}: not CSV of one cell per column ({str(err).removeprefix('CSV parse error: ')}); "
                        "give every row one cell per column.") from None
    if table.num_rows * len(names) > MAX_CELLS:
        raise DataError(f"{path}: {table.num_rows * len(names):,} cells; a metadata file may hold at most {MAX_CELLS:,}.")
    columns = [table[n] for n in names]  # trimmed one at a time where used (trimmed(): no second table)
    del table
    if columns and len(columns[0]):
        filled = None
        for c in columns:
            here = pc.not_equal(trimmed(c), "")
            filled = here if filled is None else pc.or_(filled, here)
        if not pc.all(filled).as_py():
            columns = [c.filter(filled) for c in columns]
    return columns


def trimmed(column):
    """A column's cells without the white space around them."""
    import pyarrow.compute as pc
    return pc.utf8_trim_whitespace(column)


def _check_cells(column, name: str, path: Path) -> None:
    """DataError naming the row and column of a cell too long or holding an unprintable character."""
    import pyarrow.compute as pc

    if not len(column):
        return
    column = trimmed(column).combine_chunks()
    lengths = pc.utf8_length(column)
    if pc.max(lengths).as_py() > MAX_CELL:
        row = pc.index(pc.greater(lengths, MAX_CELL), True).as_py()
        raise DataError(f"{path}: row {row + 1} (below the header), column {name!r}: {lengths[row].as_py():,} "
                        f"characters; a cell may hold at most {MAX_CELL}.")
    odd = pc.invert(pc.utf8_is_printable(column))  # Arrow's rule is wider than ours: tabs, non-ASCII spaces
    for row in pc.indices_nonzero(odd).to_pylist():
        text = column[row].as_py()
        bad = next((ch for ch in text if unicodedata.category(ch) in _UNSHOWABLE and ch not in "\t\n\r"), None)
        if bad is not None:
            raise DataError(f"{path}: row {row + 1} (below the header), column {name!r}: holds the unprintable "
                            f"character U+{ord(bad):04X}; use printable text.")


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
