"""`python -m benchmarks.hostile_data`: hostile dataset files, each refused with a DataError that
names the file and the limit, printed with the time and memory the refusal cost beside the goals.

Each case writes a user's dataset into a data folder (the way $AECORE_DATA_DIR holds one) and
says which dataset to load and what the error must say; tests/test_hostile_data.py runs the same
cases (the quick ones in the fast tier). Here each is loaded in a fresh process, so its peak
resident memory is its own: its peak (VmHWM, reset just before the load) over its size then. The
libraries a load may need (pyarrow's CSV reader, and pandas, which pyarrow imports) are started
before, as the app's server has them: a process pays for them once (~1 s, ~80 MB), whatever
file it reads.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from benchmarks.hostile_files import (IDX, NAME, classes_link, classes_txt, gzip_of_zeros, idx_folder, idx_header,
                                      metadata, npy_bytes, npz, npz_bomb, only_bombs, picture_folder, picture_link,
                                      png_bytes, zlib_gzip)

GOALS = {"seconds": 1.0, "peak_mb": 64.0}  # the most one refused file may cost
TIMEOUT_S = 60


# ---------------------------------------------------------------- the cases
# name -> (split to load, quick enough for the fast tier, what the error must say, maker(root))
CASES = {
    "classes.txt not UTF-8": ("test", True, r"classes.txt: not UTF-8",
                              lambda r: classes_txt(r, "café\n".encode("latin-1") * 10)),
    "classes.txt of 20 MB": ("test", True, r"classes.txt: 20,971,520 bytes; a classes.txt may hold at most 65,536",
                             lambda r: classes_txt(r, b"x\n" * (10 * 2**20))),
    "classes.txt of 10,000 names": ("test", True, r"classes.txt: 10,000 class names; at most 256",
                                    lambda r: classes_txt(r, "\n".join(f"c{i}" for i in range(10_000)).encode())),
    "a class name of 1 MB": ("test", True, r"classes.txt: 1,048,577 bytes; .* at most 65,536",
                             lambda r: classes_txt(r, b"a" * 2**20 + b"\n")),
    "a class name of 65 characters": ("test", True, r"classes.txt: class 1's name has 65 characters; at most 64",
                                      lambda r: classes_txt(r, b"ok\n" + b"n" * 65 + b"\n")),
    "classes.txt linked to /proc/self/environ": ("test", True, r"classes.txt: links outside its dataset folder",
                                                 lambda r: classes_link(r, "/proc/self/environ")),
    "classes.txt linked to a file beside the folder": ("test", True, r"classes.txt: links outside its dataset folder",
                                                       lambda r: classes_link(r, "../secret.txt")),
    "classes.txt that is a pipe": ("test", True, r"classes.txt: not a regular file",
                                   lambda r: os.mkfifo(idx_folder(r) / "classes.txt")),
    "class names with terminal escapes": ("test", True, r"unprintable character U\+001B",
                                          lambda r: classes_txt(r, b"\x1b[31mred\n")),
    "a class name reversed by U+202E": ("test", True, r"unprintable character U\+202E",
                                        lambda r: classes_txt(r, "cat\u202egnp.exe\n".encode())),
    "two classes of one name": ("test", True, r"classes 0 and 1 are both named 'cat'",
                                lambda r: classes_txt(r, b"cat\ncat\n")),
    "a blank line between class names": ("test", True, r"class 1 has an empty name",
                                         lambda r: classes_txt(r, b"a\n\nb\n")),
    "npz claiming 784 GB": ("test", True, r"hostile.npz: x_train's header announces shape \(1000000000, 28, 28\)",
                            lambda r: npz(r, {"x_train": npy_bytes(header={
                                "descr": "<f8", "fortran_order": False, "shape": (10**9, 28, 28)}, data=bytes(784))})),
    "npz that inflates to 2,500,000 images": ("test", False, r"hostile.npz: its arrays hold 1,960,00\d,\d+ bytes, "
                                              r"more than the 1,610,612,736", npz_bomb),
    "npz with 30,000 zip entries": ("test", True, r"hostile.npz: its zip directory is over 1,048,576 bytes",
                                     lambda r: npz(r, {f"e{i}": b"" for i in range(30_000)})),
    "npz holding a pickle": ("test", True, r"hostile.npz: x_test holds object values",
                             lambda r: npz(r, {"x_test": npy_bytes(np.array([{"a": 1}] * 2, dtype=object))})),
    "npz labels up to 10**9": ("test", True, r"hostile.npz: y_test holds labels up to 1,000,000,000; .* 0..255",
                               lambda r: npz(r, {"y_test": npy_bytes(np.array([0, 10**9]))})),
    "npz labels past 2**63": ("test", True, r"hostile.npz: y_test holds labels up to 9,223,372,036,854,775,808",
                              lambda r: npz(r, {"y_test": npy_bytes(np.array([0, 2**63], np.uint64))})),
    "npz of 10,000 class names": ("test", True, r"hostile.npz: classes has shape \(10000,\)",
                                  lambda r: npz(r, {"classes": npy_bytes(np.array([f"c{i}" for i in range(10_000)]))})),
    "npz class name of a million characters": ("test", True, r"hostile.npz: classes has shape \(1,\) of <U1000000",
                                               lambda r: npz(r, {"classes": npy_bytes(np.array(["a" * 10**6]))})),
    "npz of bzip2 members": ("test", True, r"hostile.npz: x_train is encrypted or compressed in a way",
                             lambda r: npz(r, {}, zipfile.ZIP_BZIP2)),
    "npz of zero-size items, 10**12 of them": ("test", True, r"hostile.npz: x_train holds \|V0 values",
                                               lambda r: npz(r, {"x_train": npy_bytes(header={
                                                   "descr": "|V0", "fortran_order": False, "shape": (10**12, 28, 28)})})),
    "npz that is not a zip": ("test", True, r"hostile.npz: not a readable .npz",
                              lambda r: (r / f"{NAME}.npz").write_bytes(os.urandom(5000))),
    "npz cut in half": ("test", True, r"hostile.npz: not a readable .npz",
                        lambda r: (r / f"{NAME}.npz").write_bytes(npz(r, {}).read_bytes()[:1500])),
    "IDX header of 1 GB over 784 bytes": ("test", True, r"t10k-images-idx3-ubyte.gz: truncated: header says "
                                          r"1369000 images of 28x28 .* can hold at most 784 bytes",
                                          lambda r: (idx_folder(r) / IDX["test"][0]).write_bytes(
                                              idx_header((1_369_000, 28, 28)) + bytes(784))),
    "IDX gzip of 1 KB claiming 1 GB": ("test", True, r"t10k-images-idx3-ubyte.gz: truncated: header says 1369000 "
                                       r"images .* can hold at most",
                                       lambda r: (idx_folder(r) / IDX["test"][0]).write_bytes(
                                           zlib_gzip(idx_header((1_369_000, 28, 28)) + bytes(784)))),
    "IDX gzip of 1 MB claiming 1 GB": ("test", True, r"t10k-images-idx3-ubyte.gz: truncated: header says 1369000 "
                                       r"images of 28x28 \(1073296000 bytes\) but the file holds 1048576 bytes",
                                       lambda r: (idx_folder(r) / IDX["test"][0]).write_bytes(
                                           zlib_gzip(idx_header((1_369_000, 28, 28)) + os.urandom(2**20), 1))),
    "IDX file of 2 GB (sparse)": ("test", True, r"t10k-images-idx3-ubyte.gz: 2,147,483,664 bytes, larger than",
                                  lambda r: os.truncate(idx_folder(r) / IDX["test"][0], 2**31 + 16)),
    "image folder of PNGs claiming 30,000 x 30,000 pixels": (
        "test", True, r"hostile: none of its 2 pictures can be read: train/a/0.png \(more than 16,777,216 pixels: "
                      r"a decompression bomb", only_bombs),
    "image folder with a picture linked to /proc/self/environ": (
        "test", True, r"1.png: links outside its dataset folder", lambda r: picture_link(r, "/proc/self/environ")),
    "image folder with a picture linked beside the folder": (
        "test", True, r"1.png: links outside its dataset folder", lambda r: picture_link(r, "../../../secret.txt")),
    "image folder with a class folder linked to /": (
        "test", True, r"etc: links outside its dataset folder",
        lambda r: os.symlink("/etc", picture_folder(r) / "test" / "etc")),
    "image folder of class folders 20 deep": (
        "test", True, r"folders nested more than 8 deep",
        lambda r: picture_folder(r, {"test/a/" + "d/" * 20 + "0.png": png_bytes(16, 16)})),
    "image folder with dataset.json of 1 MB": (
        "test", True, r"dataset.json: more than 4,096 bytes",
        lambda r: picture_folder(r, {"dataset.json": b" " * 2**20})),
    "metadata CSV with a row too few": ("test", True, r"metadata-test.csv: 1 row for 2 images; give one row per image",
                                        lambda r: metadata(r, b"colour\nred\n")),
    "metadata CSV of 40 MB": ("test", True, r"metadata-test.csv: 41,943,040 bytes; a metadata file may hold at most",
                              lambda r: metadata(r, b"a\n" + b"1\n" * (20 * 2**20 - 1))),
    "metadata CSV of 16 MB, over 2,000,000 cells": (
        "test", False, r"metadata-test.csv: 2,097,150 cells; a metadata file may hold at most 2,000,000",
        lambda r: metadata(r, b"a,b\n" + b"1234567,1234567\n" * 1_048_575)),
    "metadata CSV linked to /proc/self/environ": (
        "test", True, r"metadata-test.csv: links outside its dataset folder",
        lambda r: os.symlink("/proc/self/environ", idx_folder(r) / "metadata-test.csv")),
    "metadata CSV of 100 columns": ("test", True, r"metadata-test.csv: 100 columns; at most 64",
                                    lambda r: metadata(r, ",".join(f"c{i}" for i in range(100)).encode() + b"\n")),
    "metadata CSV with two columns of one name": ("test", True, r"two columns are named 'size'",
                                                  lambda r: metadata(r, b"size,size\n1,2\n3,4\n")),
    "metadata CSV with a cell of 100,000 characters": ("test", True, r"row 1 \(below the header\), column 'note': 100,000 characters",
                                                       lambda r: metadata(r, b"note\n" + b"x" * 100_000 + b"\nok\n")),
    "metadata CSV with a cell of terminal escapes": ("test", True, r"row 1 \(below the header\), column 'note': holds the unprintable character U\+001B",
                                                     lambda r: metadata(r, b"note\n\x1b[31mred\nok\n")),
    "metadata CSV with two rows for one index": ("test", True, r"rows 1 and 2 \(below the header\) are both for index 0",
                                                 lambda r: metadata(r, b"index,size\n0,1\n0,2\n")),
    "metadata CSV with an index past the images": ("test", True, r"index 5 is outside 0..1",
                                                   lambda r: metadata(r, b"index,size\n5,1\n")),
    "metadata CSV beside another for the same split": (
        "test", True, r"both metadata-test.csv and test/metadata.csv give this split's columns",
        lambda r: picture_folder(r, {"metadata-test.csv": b"size\n1\n", "test/metadata.csv": b"size\n1\n"})),
    "IDX gzip inflating to 512 MB": ("test", False, r"t10k-labels-idx1-ubyte.gz: at least \d+ unexpected bytes",
                                     lambda r: (idx_folder(r) / IDX["test"][1]).write_bytes(
                                         gzip_of_zeros(idx_header((2,)), 512 * 2**20))),
}


def make(name: str, root: Path) -> tuple[str, str]:
    """Write case `name` into the data folder `root`; (split to load, what the error must say)."""
    split, _, pattern, maker = CASES[name]
    root.mkdir(parents=True, exist_ok=True)
    (root / "secret.txt").write_text("API_KEY=not-for-visitors\n")  # what a link out of the folder would show
    maker(root)
    return split, pattern


# ---------------------------------------------------------------- measuring
_CHILD = """
import json, sys, time
from aecore.data import DataError, load_dataset
import io, pandas, pyarrow as pa, pyarrow.csv as pcsv, pyarrow.compute as pc  # read metadata files; the app's
pc.not_equal(pc.utf8_trim_whitespace(pcsv.read_csv(io.BytesIO(b"a\\nx\\n"))["a"]), "")  # server has them

def status(field):  # kB, from /proc/self/status
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(field + ":"))

with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # resets the peak (VmHWM) to what the process holds now
before = status("VmRSS")
start = time.perf_counter()
try:
    load_dataset("hostile", sys.argv[1])
    outcome = "loaded"
except DataError as err:
    outcome = "DataError: " + str(err)
except BaseException as err:
    outcome = type(err).__name__ + ": " + str(err)
seconds = time.perf_counter() - start
print(json.dumps({"outcome": outcome, "seconds": seconds, "peak_mb": (status("VmHWM") - before) / 1024}))
"""


def measure(name: str) -> dict:
    """Load case `name` from a fresh data folder in a fresh process: its outcome, time, memory."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "data"
        split, pattern = make(name, root)
        env = {**os.environ, "AECORE_DATA_DIR": str(root), "AECORE_CACHE_DIR": str(Path(tmp) / "cache")}
        try:
            done = subprocess.run([sys.executable, "-c", _CHILD, split], env=env, capture_output=True, text=True,
                                  timeout=TIMEOUT_S, cwd=Path(__file__).resolve().parent.parent)
        except subprocess.TimeoutExpired:
            return {"outcome": f"still loading after {TIMEOUT_S} s", "seconds": TIMEOUT_S, "peak_mb": float("nan")}
        if done.returncode:
            return {"outcome": f"crashed: {done.stderr.strip()[-300:]}", "seconds": float("nan"), "peak_mb": float("nan")}
        return {**json.loads(done.stdout), "pattern": pattern}


def main(argv=None) -> int:
    import re
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the cases whose name holds this text")
    args = parser.parse_args(argv)
    worst = {"seconds": 0.0, "peak_mb": 0.0}
    failed = 0
    for name in CASES:
        if args.only and args.only not in name:
            continue
        row = measure(name)
        ok = row["outcome"].startswith("DataError: ") and re.search(row.get("pattern", "^$"), row["outcome"])
        failed += not ok
        for key in worst:
            worst[key] = max(worst[key], row[key])
        print(f"{'refused' if ok else 'WRONG  '}  {row['seconds']:6.3f} s  {row['peak_mb']:7.1f} MB  {name}: "
              f"{row['outcome'][:150]}")
    print(f"worst: {worst['seconds']:.3f} s (goal <= {GOALS['seconds']:g} s), {worst['peak_mb']:.1f} MB above the "
          f"process before the load (goal <= {GOALS['peak_mb']:g} MB); {failed} case(s) not refused as expected")
    return int(failed > 0 or worst["seconds"] > GOALS["seconds"] or worst["peak_mb"] > GOALS["peak_mb"])


if __name__ == "__main__":
    sys.exit(main())
