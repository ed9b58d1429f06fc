"""An uploaded .zip, unpacked as if an attacker had made it: only the wanted members are read, in
bounded chunks and straight to disk, never trusting the sizes its headers state; every way the
archive can be broken ends in UnzipError (aecore.checkpoint turns it into a CheckpointError)."""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from pathlib import Path, PurePosixPath

CHUNK = 1 << 16
MAX_ENTRIES = 1000  # a checkpoint folder holds a handful of files; the zip's index is read whole
METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)  # what every zip tool writes by default
AGAIN = "zip the checkpoint folder again with a standard zip tool"


DAMAGED = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError,
           NotImplementedError, struct.error, OverflowError)  # what a broken archive raises in zipfile


class UnzipError(ValueError):
    """A .zip that cannot be unpacked safely; the message says what is wrong with it."""


def base_name(name: str) -> str:
    """The member's file name without its folders; UnzipError for a name that would leave the
    folder it is unpacked into (absolute, '..', a drive letter, a backslash, a NUL)."""
    parts = PurePosixPath(name).parts
    if name.startswith("/") or "\\" in name or "\0" in name or ".." in parts or name[1:2] == ":":
        raise UnzipError(f"the .zip holds a member named {name[:80]!r}, a path that leaves its folder; {AGAIN}")
    return PurePosixPath(name).name


def _choose(infos: list[zipfile.ZipInfo], wanted: set[str]) -> dict[str, zipfile.ZipInfo]:
    """{base name: member} of the wanted members; refuses unsafe and duplicate names, and
    wanted members that are encrypted or compressed by a method other than stored/deflate."""
    seen, chosen = set(), {}
    for info in infos:
        if info.filename in seen:
            raise UnzipError(f"the .zip holds {info.filename[:80]!r} twice; {AGAIN}")
        seen.add(info.filename)
        base = base_name(info.filename)
        if base not in wanted or info.is_dir():
            continue
        if base in chosen:
            raise UnzipError(f"the .zip holds {base} twice ({chosen[base].filename[:80]!r} and "
                             f"{info.filename[:80]!r}): zip one checkpoint folder")
        if info.flag_bits & 0x1:
            raise UnzipError(f"{info.filename[:80]!r} in the .zip is encrypted: zip it without a password")
        if info.compress_type not in METHODS:
            raise UnzipError(f"{info.filename[:80]!r} in the .zip uses compression method {info.compress_type}; "
                             "only stored and deflate (every zip tool's default) are read")
        chosen[base] = info
    return chosen


def _copy(z: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int) -> int:
    """Inflate one member into `target` chunk by chunk; UnzipError past `limit` bytes."""
    size = 0
    with z.open(info) as src, open(target, "wb") as out:
        while block := src.read(CHUNK):
            size += len(block)
            if size > limit:
                raise UnzipError(f"{info.filename[:80]!r} in the .zip unpacks to more than {limit:,} bytes, "
                                 "the limit for an uploaded checkpoint")
            out.write(block)
    return size


def listing(data: bytes) -> list[str]:
    """The names of the files (not folders) in the zip `data`, for a message; UnzipError as unzip's."""
    _check_entries(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return [i.filename[:80] for i in z.infolist() if i.filename and not i.filename.endswith("/")]
    except DAMAGED as e:
        raise UnzipError(f"the uploaded .zip is damaged ({str(e)[:120]}); {AGAIN}") from None


def _check_entries(data: bytes) -> None:
    if data.count(b"PK\x01\x02") > MAX_ENTRIES:  # an upper bound on the index's entries
        raise UnzipError(f"the .zip holds more than {MAX_ENTRIES:,} entries; zip only the checkpoint folder")


def unzip(data: bytes, limits: dict[str, int], total: int, dest: Path) -> list[str]:
    """Write each member of the zip `data` whose base name is a key of `limits` into the folder
    `dest` (which must exist) under that base name, each at most limits[name] bytes and all
    together at most `total`. Returns the names written; members of other names are not read."""
    _check_entries(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            chosen = _choose(z.infolist(), set(limits))
            left = total
            for base, info in chosen.items():
                left -= _copy(z, info, dest / base, min(limits[base], left))
            return list(chosen)
    except UnzipError:
        raise
    except DAMAGED as e:
        raise UnzipError(f"the uploaded .zip is damaged ({str(e)[:120]}); {AGAIN}") from None
