"""What the fuzz suite (test_fuzz.py) mutates: valid seed files made here, and hypothesis
strategies that damage them as an attacker would, bytes at random or structure on purpose."""
from __future__ import annotations

import collections
import contextlib
import functools
import io
import json
import signal
import struct
import zipfile

import numpy as np
from hypothesis import strategies as st
from PIL import Image

CASES: collections.Counter = collections.Counter()  # cases run per property, for the summary line


def counted(test):
    """Count each case hypothesis runs of `test` (put it under @given)."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        CASES[test.__name__] += 1
        return test(*args, **kwargs)
    return run


# --- damage to any file ---------------------------------------------------------------------
EDITS = ("flip", "set", "cut", "insert", "delete", "repeat")


@st.composite
def damaged(draw, seed: bytes, hot: tuple[int, ...] = ()) -> bytes:
    """`seed` with 1 to 8 edits; an edit lands near a position in `hot` (a header, an index)
    half of the time, anywhere otherwise."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 8))):
        edit = draw(st.sampled_from(EDITS))
        if hot and draw(st.booleans()):
            at = draw(st.sampled_from(hot)) + draw(st.integers(-8, 64))
        else:
            at = draw(st.integers(0, max(len(data) - 1, 0)))
        at = min(max(at, 0), len(data))
        if edit == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "set" and at < len(data):
            data[at] = draw(st.sampled_from([0, 1, 0x7F, 0x80, 0xFF, draw(st.integers(0, 255))]))
        elif edit == "cut":
            del data[at:]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif edit == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        elif edit == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 64))] * draw(st.integers(1, 4))
    return bytes(data)


# --- JSON -----------------------------------------------------------------------------------
NASTY_NUMBERS = [0, -1, 1, 2**31, 2**63, 10**8, 200_000, -0.0, 0.5, 1e308, float("nan"), float("inf"),
                 float("-inf"), True, False, None]
leaves = (st.sampled_from(NASTY_NUMBERS) | st.integers() | st.floats() | st.text(max_size=12)
          | st.sampled_from(["", "relu", "conv", "vae", "mnist", "mnist-sample", "x" * 300]))
json_values = st.recursive(leaves, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.text(max_size=8), kids, max_size=4), max_leaves=8)


def _paths(value, prefix=()) -> list[tuple]:
    """Every path (keys and indices) into a JSON value, the value itself first."""
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, prefix + (i,))
    return out


@st.composite
def mutated_json(draw, seed):
    """A deep copy of `seed` with 1 to 4 edits at random paths: a value replaced, a key dropped,
    a key added, a list grown."""
    value = json.loads(json.dumps(seed))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(value)))
        if not path:
            continue
        parent = value
        for key in path[:-1]:
            parent = parent[key]
        edit = draw(st.sampled_from(["replace", "replace", "drop", "add"]))
        if edit == "replace":
            parent[path[-1]] = draw(json_values)
        elif edit == "drop":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=8))] = draw(json_values)
        else:
            parent.append(draw(json_values))
    return value


# --- zips -----------------------------------------------------------------------------------
def zip_of(members: list[tuple[str, bytes, int]]) -> bytes:
    """A zip of (name, data, compression) members, duplicates allowed."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z, _quiet():
        for name, data, method in members:
            z.writestr(zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), data, compress_type=method)
    return buf.getvalue()


@contextlib.contextmanager
def _quiet():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": on purpose
        yield


MEMBER_NAMES = ["config.json", "model.safetensors", "metrics.json", "history.safetensors", "a/config.json",
                "a/model.safetensors", "../config.json", "/model.safetensors", "a\\config.json",
                "c:model.safetensors", "a/../model.safetensors", "a/", "config.json\0", "README.md"]
METHODS = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]


def zip_hot_spots(data: bytes) -> tuple[int, ...]:
    """Where a zip's headers are: each local header, each central directory entry, the end record."""
    return tuple(i for sig in (b"PK\x03\x04", b"PK\x01\x02", b"PK\x05\x06")
                 for i in range(len(data)) if data.startswith(sig, i))[:64]


# --- pictures and IDX files -----------------------------------------------------------------
def picture_seeds() -> dict[str, bytes]:
    """A drawn digit saved in each format and mode PIL writes that an upload might be."""
    digit = np.zeros((32, 24), np.uint8)
    digit[6:26, 10:14] = 255
    gray = Image.fromarray(255 - digit)
    out = {}
    for fmt, mode in [("PNG", "L"), ("PNG", "RGBA"), ("PNG", "P"), ("PNG", "I;16"), ("JPEG", "L"),
                      ("JPEG", "RGB"), ("GIF", "P"), ("BMP", "RGB"), ("TIFF", "F"), ("WEBP", "RGB"), ("PNG", "1")]:
        buf = io.BytesIO()
        image = gray.convert("F").point(lambda v: v / 255) if mode == "F" else gray.convert(mode)
        image.save(buf, format=fmt)
        out[f"{fmt}-{mode}"] = buf.getvalue()
    return out


def idx_seed(dims: tuple[int, ...]) -> bytes:
    data = np.arange(int(np.prod(dims)), dtype=np.int64).astype(np.uint8).tobytes()
    return bytes([0, 0, 8, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + data


# --- a bound against hangs ------------------------------------------------------------------
class Hang(Exception):
    """A fuzz case ran past its time bound."""


@contextlib.contextmanager
def within(seconds: float):
    """Raise Hang in the running code if it takes longer than `seconds` (SIGALRM, main thread)."""
    def stop(signum, frame):
        raise Hang(f"a case ran past its bound of {seconds:g} s")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
