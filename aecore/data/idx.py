"""The IDX file format of MNIST and Fashion-MNIST: read and write, gzip or raw.

Header: 00 00 <dtype code> <ndim>, then ndim big-endian uint32 sizes, then the raw values. The
image count always comes from the header (the shared training files hold 22,699, not 60,000).
"""
from __future__ import annotations

import gzip
import itertools
import math
import os
import stat
import struct
import zlib
from pathlib import Path
from typing import Iterator

import numpy as np


class DataError(ValueError):
    """A data file is missing, truncated or malformed; the message names the file and the fix."""


# Header: 00 00 <dtype code> <ndim>, then ndim big-endian uint32 sizes, then the raw values.
_DTYPE_NAMES = {0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32",
                0x0D: "float32", 0x0E: "float64"}


CHUNK = 1 << 20  # bytes inflated at a time
MAX_BYTES = 2**30  # the largest IDX file read (MNIST's train images are 47 MB): a header past it is refused
RESERVE_RATIO = 16  # allocated ahead of a gzip's data, x its size: MNIST's files inflate 2-8 x
INFLATE_RATIO = 1032  # deflate's most: 258 bytes from one 2-bit code, so a gzip file holds at most 1032 x its size


def _chunks(raw: bytes, path: Path) -> Iterator[bytes]:
    """The file's data: `raw` itself, or, when it starts with the gzip magic 1f 8b, its members
    inflated back to back in chunks of at most CHUNK bytes, so a reader can stop at any point.
    A stream that ends before its end marker raises _Cut after its last chunk."""
    if raw[:2] != b"\x1f\x8b":
        yield raw
        return
    view, pos = memoryview(raw), 0
    while raw[pos:pos + 2] == b"\x1f\x8b":  # a gzip file may hold several members back to back
        inflater, data = zlib.decompressobj(wbits=31), b""
        while not inflater.eof:
            if not data:  # fed CHUNK bytes at a time: what zlib keeps unconsumed stays small
                data, pos = view[pos:pos + CHUNK], min(pos + CHUNK, len(raw))
            try:
                out = inflater.decompress(data, CHUNK)
            except zlib.error as err:
                raise DataError(f"{path}: corrupt gzip data ({err}).") from None
            data = inflater.unconsumed_tail
            if out:
                yield out
            elif not data and pos >= len(raw):
                raise _Cut
        pos -= len(inflater.unused_data)


class _Cut(Exception):
    """The gzip stream ended before its end marker."""


def _describe(dims: tuple[int, ...]) -> str:
    if len(dims) == 3:
        return f"{dims[0]} images of {dims[1]}x{dims[2]}"
    if len(dims) == 1:
        return f"{dims[0]} labels"
    return f"an array of shape {dims}"


def _parse_header(data: bytes, path: Path) -> tuple[int, ...]:
    """Check magic and dtype, return the dimension sizes."""
    if len(data) < 4:
        raise DataError(f"{path}: truncated: {len(data)} bytes, too short for an IDX header.")
    code, ndim = data[2], data[3]
    if data[:2] != b"\0\0" or ndim == 0:
        raise DataError(f"{path}: wrong magic number 0x{data[:4].hex().upper()}: an IDX file starts "
                        "00 00 08 <ndim> (0x00000803 for images, 0x00000801 for labels). "
                        "Is this really an MNIST file?")
    if code != 0x08:
        raise DataError(f"{path}: unsupported IDX data type 0x{code:02X} "
                        f"({_DTYPE_NAMES.get(code, 'unknown')}); only unsigned bytes (0x08) are "
                        "supported, as in MNIST.")
    if len(data) < 4 + 4 * ndim:
        raise DataError(f"{path}: truncated: the header announces {ndim} dimensions but the file "
                        f"holds only {len(data)} bytes.")
    return struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])


def _fill(chunks: Iterator[bytes], path: Path, what: str, most: int,
          reserve: int) -> tuple[tuple[int, ...], bytearray]:
    """Read the header from the first chunks, then the data into one buffer, up to the size the
    header announces: (dims, buffer; shorter when the data end early). DataError as soon as there
    is more (`what` says how sure that count is), or before any allocation when the header
    announces more than MAX_BYTES or more than `most`, the most the file can hold. At most
    `reserve` bytes are allocated ahead of the data."""
    head = b""
    for chunk in chunks:
        head = head + chunk if head else chunk  # a raw file is one chunk: no copy
        if len(head) >= 4 and len(head) >= 4 + 4 * head[3]:
            break
    dims = _parse_header(head, path)
    offset, need = 4 + 4 * len(dims), math.prod(dims)
    if need > MAX_BYTES:
        raise DataError(f"{path}: the header announces {_describe(dims)} ({need:,} bytes), more than the "
                        f"{MAX_BYTES:,} bytes an IDX file may hold here; the file is corrupt.")
    if offset + need > most:
        raise DataError(f"{path}: truncated: header says {_describe(dims)} ({need} bytes) but the file "
                        f"can hold at most {max(most - offset, 0)} bytes.")
    # reserved up to `reserve` only (a header may lie), then grown by appending if the data go on
    out, have = bytearray(min(offset + need, reserve)), 0
    for chunk in itertools.chain([head], chunks):
        if have + len(chunk) > offset + need:
            raise DataError(f"{path}: {what}{have + len(chunk) - offset - need} unexpected bytes after the "
                            f"{need} bytes that the header describes ({_describe(dims)}); the file is corrupt.")
        out[have:have + len(chunk)] = chunk  # past the end of `out`, this appends
        have += len(chunk)
    del out[have:]
    return dims, out


def _read_bounded(path: Path) -> bytes:
    """The file's bytes; DataError when it is not a regular file or larger than any IDX file read
    here can be, before reading it."""
    most = MAX_BYTES + MAX_BYTES // 64 + 4096  # the data, a header, gzip's worst-case growth
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise DataError(f"{path}: not a regular file; an IDX file is expected.")
            if st.st_size > most:
                raise DataError(f"{path}: {st.st_size:,} bytes, larger than an IDX file of at most {MAX_BYTES:,} "
                                "bytes of data; the file is corrupt or not an IDX file.")
            return f.read(st.st_size or 1 << 20)  # procfs files report size 0
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror}).") from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip detected by its magic bytes, not its name) -> uint8, shape from header.

    Raises DataError naming the file when it is truncated, has trailing bytes, a wrong magic
    number or a dtype other than unsigned byte. Inflating stops as soon as the data exceed what
    the header announces, so a small file that inflates to gigabytes costs no more than that.
    """
    path = Path(path)
    raw = _read_bounded(path)
    chunks, complete, gz = _chunks(raw, path), [True], raw[:2] == b"\x1f\x8b"

    def until_cut() -> Iterator[bytes]:
        try:
            yield from chunks
        except _Cut:
            complete[0] = False
    most = len(raw) * INFLATE_RATIO if gz else len(raw)
    dims, out = _fill(until_cut(), path, "at least " if gz else "", most, len(raw) * RESERVE_RATIO)
    offset, need = 4 + 4 * len(dims), math.prod(dims)
    have = len(out)
    if have < offset + need:
        raise DataError(f"{path}: truncated: header says {_describe(dims)} ({need} bytes) but the "
                        f"file holds {have - offset} bytes.")
    if not complete[0]:
        raise DataError(f"{path}: truncated: the gzip stream ends before its end marker.")
    # a view of the one buffer: frombuffer over a bytearray is writable, and the header is 16 bytes
    return np.frombuffer(out, np.uint8, count=need, offset=offset).reshape(dims)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write `array` (uint8, or integers in 0..255) as an IDX file; gzip when `path` ends in .gz."""
    arr = np.asarray(array)
    if arr.dtype != np.uint8:
        ok = arr.dtype.kind in "iu" and (arr.size == 0 or (arr.min() >= 0 and arr.max() <= 255))
        if not ok:
            raise ValueError(f"write_idx: expected uint8 values 0..255, got dtype {arr.dtype}.")
        arr = arr.astype(np.uint8)
    if arr.ndim == 0:
        raise ValueError("write_idx: expected an array with at least one dimension, got a scalar.")
    header = bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    payload = header + np.ascontiguousarray(arr).tobytes()
    if str(path).endswith(".gz"):
        payload = gzip.compress(payload, compresslevel=6, mtime=0)  # mtime=0: same bytes every time
    Path(path).write_bytes(payload)


def read_images_and_labels(images_path: str | os.PathLike,
                           labels_path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Read an image file and its label file -> (uint8 (N, H, W), int64 (N,)); counts must agree."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise DataError(f"{images_path}: expected images (3 dimensions: count, rows, cols) but the "
                        f"header has {images.ndim}. Are the image and label files swapped?")
    if labels.ndim != 1:
        raise DataError(f"{labels_path}: expected labels (1 dimension) but the header has "
                        f"{labels.ndim}. Are the image and label files swapped?")
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                        f"{len(labels)} labels; both files must come from the same set.")
    return images, labels.astype(np.int64)
