"""Verified download of the four official IDX files of MNIST / Fashion-MNIST into the cache folder.

Each file is streamed into a temporary file next to its final name, checked against the official
md5 sum, then renamed into place, so a file under its final name is always complete and verified.
Mirrors are tried in order; a file already present with the right md5 is not downloaded again.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from ..checks import lookup

from .. import __version__
from .registry import DATASETS, IDX_FILES, cache_root

MIRRORS: dict[str, tuple[str, ...]] = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    "fashion-mnist": ("https://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                      "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
}
MD5S: dict[str, dict[str, str]] = {
    "mnist": {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
              "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
              "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
              "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"},
    "fashion-mnist": {"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
                      "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
                      "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
                      "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"},
}
_CHUNK = 1 << 16  # bytes per read


class DownloadError(RuntimeError):
    """No mirror delivered a file with the right md5. The message is one line with what to do."""


class _ChecksumMismatch(Exception):
    pass


def md5sum(path: str | os.PathLike) -> str:
    """Hex md5 of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _fetch(url: str, out, label: str, progress: bool, timeout: float) -> str:
    """Stream `url` into the open binary file `out`; return the md5 of what was written."""
    request = urllib.request.Request(url, headers={"User-Agent": f"aecore/{__version__}"})
    digest = hashlib.md5()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024,
                  disable=not progress, leave=False) as bar:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                out.write(chunk)
                digest.update(chunk)
                bar.update(len(chunk))
    return digest.hexdigest()


def _download_file(filename: str, dest: Path, mirrors: tuple[str, ...], md5: str, title: str,
                   progress: bool, timeout: float) -> None:
    """Try each mirror until one delivers `filename` with the right md5; rename it into place."""
    last_error: BaseException | None = None
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        fd, tmp_name = tempfile.mkstemp(dir=dest, prefix=f".{filename}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                got = _fetch(url, out, filename, progress, timeout)
            if got != md5:
                raise _ChecksumMismatch(f"md5 mismatch for {url}: got {got}, expected {md5}")
            os.replace(tmp_name, dest / filename)
            return
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError,
                _ChecksumMismatch) as err:  # ValueError: a malformed mirror URL
            last_error = err
        finally:  # also on KeyboardInterrupt: never leave a partial file behind
            if os.path.exists(tmp_name):
                os.remove(tmp_name)
    raise DownloadError(
        f"could not download {filename} from any of {len(mirrors)} mirror(s) (last error: "
        f"{_one_line(last_error) if last_error else 'no mirrors given'}): check your network, "
        f"or copy the four {title} files into {_pretty(dest)}/ or set AECORE_DATA_DIR")


def _pretty(path: Path) -> str:
    """The path with the home folder written as ~, as a user would type it."""
    try:
        return "~/" + str(path.resolve().relative_to(Path.home().resolve()))
    except ValueError:
        return str(path)


def download(name: str, dest: str | os.PathLike | None = None, mirrors=None, md5s=None,
             progress: bool = True, timeout: float = 30.0) -> Path:
    """Download and md5-verify the four IDX files of `name` into `dest`; return that folder.

    dest: default <cache_root()>/<name> (~/.cache/aecore/<name>). mirrors: base URLs tried in
    order (default MIRRORS[name]). md5s: {file name: hex md5} (default MD5S[name]). timeout:
    seconds per network operation. Raises DownloadError (one line) when a file can't be had.
    """
    lookup(MIRRORS, name, "downloadable dataset")
    folder = Path(dest).expanduser() if dest is not None else cache_root() / name
    mirrors = tuple(mirrors) if mirrors is not None else MIRRORS[name]
    md5s = dict(md5s) if md5s is not None else MD5S[name]
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DownloadError(f"cannot create {folder} ({_one_line(err)}): pass another dest or "
                            "set AECORE_CACHE_DIR to a writable folder") from None
    for filename in (f for pair in IDX_FILES.values() for f in pair):
        target = folder / filename
        if target.is_file() and md5sum(target) == md5s[filename]:
            continue  # already there and verified
        _download_file(filename, folder, mirrors, md5s[filename], DATASETS[name].title,
                       progress, timeout)
    return folder


def cli_download(name: str, dest: str | os.PathLike | None = None) -> int:
    """Entry point for `python -m aecore download <name> [--to DIR]`: 0 on success, 1 when download failed."""
    try:
        folder = download(name, dest)
    except DownloadError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except ValueError as err:  # unknown dataset name
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"{DATASETS[name].title}: the four files are in {folder} (md5 verified).")
    return 0
