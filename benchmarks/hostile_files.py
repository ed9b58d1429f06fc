"""The files benchmarks/hostile_data.py's cases are made of: a small good IDX set to spoil,
.npy/.npz members, PNGs, picture folders, links, and bombs (gzip and zip members that inflate far
past their size). tests/test_hostile_data.py and the image-folder tests make their files with them."""
from __future__ import annotations

import io
import os
import struct
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

NAME = "hostile"  # the dataset every case makes
IDX = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
       "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def idx_header(dims) -> bytes:
    return bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims)


def idx_folder(root: Path) -> Path:
    """A small good IDX set (3 train, 2 test images) named NAME in `root`; cases spoil one file."""
    folder = root / NAME
    folder.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", 3), ("test", 2)):
        images, labels = IDX[split]
        (folder / images).write_bytes(zlib_gzip(idx_header((n, 28, 28)) + bytes(n * 784)))
        (folder / labels).write_bytes(zlib_gzip(idx_header((n,)) + bytes(range(n))))
    return folder


def zlib_gzip(data: bytes, level: int = 6) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


def npy_bytes(array: np.ndarray | None = None, header: dict | None = None, data: bytes = b"") -> bytes:
    """An .npy file: of `array`, or a bare `header` (descr, fortran_order, shape) then `data`."""
    buf = io.BytesIO()
    if array is not None:
        np.lib.format.write_array(buf, array, allow_pickle=True)
    else:
        np.lib.format.write_array_header_2_0(buf, header)
        buf.write(data)
    return buf.getvalue()


def npz(root: Path, members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> Path:
    """NAME.npz in `root` holding these members (.npy bytes); good ones fill what is not given."""
    good = {"x_train": np.zeros((3, 28, 28), np.uint8), "y_train": np.arange(3),
            "x_test": np.zeros((2, 28, 28), np.uint8), "y_test": np.arange(2)}
    path = root / f"{NAME}.npz"
    with zipfile.ZipFile(path, "w", compression) as z:
        for key, value in {**{k: npy_bytes(v) for k, v in good.items()}, **members}.items():
            z.writestr(f"{key}.npy", value)
    return path


def classes_txt(root: Path, content: bytes) -> Path:
    path = idx_folder(root) / "classes.txt"
    path.write_bytes(content)
    return path


def classes_link(root: Path, target: str) -> Path:
    path = idx_folder(root) / "classes.txt"
    os.symlink(target, path)
    return path


def deflated_zeros(n: int, head: bytes) -> tuple[bytes, int]:  # for a gzip bomb
    """(raw deflate stream of `head` then n zero bytes, its crc32), made 1 MB at a time."""
    packer, crc, zeros, out = zlib.compressobj(1, zlib.DEFLATED, -15), zlib.crc32(head), bytes(2**20), [b""]
    out.append(packer.compress(head))
    for start in range(0, n, len(zeros)):
        chunk = zeros[:min(len(zeros), n - start)]
        out.append(packer.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    return b"".join(out) + packer.flush(), crc


def npz_bomb(root: Path, images: int = 2_500_000) -> None:
    """A real zip bomb: x_train of `images` 28 x 28 zero images, deflated (1.96 GB in ~9 MB)."""
    npz(root, {"x_train": b""})  # replaced: a zip may hold a name twice, and the later one is read
    zeros = bytes(2**20)
    with warnings.catch_warnings(), zipfile.ZipFile(root / f"{NAME}.npz", "a", zipfile.ZIP_DEFLATED,
                                                    compresslevel=1) as z:
        warnings.simplefilter("ignore")  # zipfile warns of the name written twice: that is the point
        with z.open("x_train.npy", "w", force_zip64=True) as f:
            f.write(npy_bytes(header={"descr": "|u1", "fortran_order": False, "shape": (images, 28, 28)}))
            for start in range(0, images * 784, len(zeros)):
                f.write(zeros[:min(len(zeros), images * 784 - start)])


def png_bytes(width: int, height: int, rows: bytes | None = None, mode: int = 0) -> bytes:
    """A PNG of `width` x `height` grey pixels (colour type `mode`), whose IDAT holds `rows`
    (default: all black, deflated); a bomb when the header claims far more than the data hold."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    if rows is None:
        rows = bytes(height * (width + 1))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, mode, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def picture_folder(root: Path, pictures: dict[str, bytes] | None = None) -> Path:
    """An image folder NAME in `root`: train/a/0.png and test/a/0.png (16 x 16 grey), then
    `pictures` {path under the folder: bytes}."""
    folder = root / NAME
    for split in ("train", "test"):
        (folder / split / "a").mkdir(parents=True, exist_ok=True)
        (folder / split / "a" / "0.png").write_bytes(png_bytes(16, 16))
    for path, data in (pictures or {}).items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    return folder


def only_bombs(root: Path) -> None:
    """An image folder whose every picture claims 30,000 x 30,000 pixels (900 MB) in 1 KB."""
    folder = picture_folder(root)
    bomb = png_bytes(30_000, 30_000, rows=bytes(1000))
    for split in ("train", "test"):
        (folder / split / "a" / "0.png").write_bytes(bomb)


def picture_link(root: Path, target: str) -> None:
    folder = picture_folder(root)
    os.symlink(target, folder / "test" / "a" / "1.png")


def metadata(root: Path, content: bytes, name: str = "metadata-test.csv") -> None:
    (idx_folder(root) / name).write_bytes(content)


def gzip_of_zeros(head: bytes, n: int) -> bytes:
    body, crc = deflated_zeros(n, head)
    return (b"\x1f\x8b\x08\0\0\0\0\0\0\xff" + body
            + struct.pack("<II", crc, (len(head) + n) & 0xFFFFFFFF))
