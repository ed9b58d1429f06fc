"""An upload unpacked into a folder: the files of one checkpoint (or one ONNX model), given
loose or in a .zip, each within its limit (layout.UPLOAD_LIMITS), all within MAX_UPLOAD_BYTES.
An upload that is not one says what each of its files is (a PNG image, an empty .zip) and what
was expected. What makes a checkpoint valid is load_checkpoint's to check, next."""
from __future__ import annotations

from pathlib import Path

from .layout import CONFIG, DECODER, ENCODER, MAX_UPLOAD_BYTES, METRICS, ONNX_JSON, UPLOAD_LIMITS, WEIGHTS, \
    CheckpointError
from .unzip import UnzipError, listing, unzip

EXPECTED = f"{CONFIG} and {WEIGHTS} of one checkpoint, or {ENCODER} and {DECODER} (+ {ONNX_JSON}), or a .zip holding them"
SIGNATURES = {  # the first bytes of files a visitor may pick by mistake
    b"\x89PNG\r\n\x1a\n": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF87a": "a GIF image",
    b"GIF89a": "a GIF image", b"%PDF-": "a PDF document", b"PK\x03\x04": "a .zip archive",
    b"PK\x05\x06": "an empty .zip archive", b"\x1f\x8b": "a gzip file", b"\x93NUMPY": "a NumPy .npy array",
    b"\x7fELF": "a program (ELF)", b"RIFF": "a RIFF file (WAV, AVI or WebP)",
    **{bytes([0x80, v]): "a Python pickle (never loaded here)" for v in range(2, 6)},
}
WHAT_EACH_IS = {".json": "JSON", ".safetensors": "a safetensors file", ".onnx": "an ONNX graph"}


class IncompleteUpload(CheckpointError):
    """Some of a checkpoint's files came and others did not: the visitor may add the rest."""


def describe(head: bytes, size: int) -> str:
    """What a file whose first bytes are `head` (16 or more) is, in words."""
    if size == 0:
        return "empty (0 bytes)"
    if len(head) > 8 and head[8:9] == b"{" and 0 < int.from_bytes(head[:8], "little") < size:
        return "a safetensors file"  # first: a header of 640 bytes starts b"\x80\x02", as a pickle does
    if what := next((w for magic, w in SIGNATURES.items() if head.startswith(magic)), None):
        return what
    if head.lstrip()[:1] in (b"{", b"["):
        return "JSON"
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return f"{size:,} bytes of data of no format this app knows"


def unpack_upload(files: dict[str, bytes], dest: str | Path) -> Path:
    """Write uploaded files ({name: bytes}: config.json + model.safetensors (+ metrics.json,
    history.safetensors), or encoder.onnx + decoder.onnx (+ onnx.json), or one .zip holding them,
    possibly inside a folder) into the folder `dest`, and return it; each file within
    UPLOAD_LIMITS, all within MAX_UPLOAD_BYTES. Checks nothing else: call load_checkpoint(dest)
    next. IncompleteUpload when loose files of a checkpoint came without the rest. On an error,
    what it wrote is removed."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        zipped = len(files) == 1 and next(iter(files)).lower().endswith(".zip")
        if zipped:
            (name, data), = files.items()
            written = unzip(data, UPLOAD_LIMITS, MAX_UPLOAD_BYTES, dest)
        else:
            written = _write_uploaded(files, dest)
        _check_kinds(dest, written, f" in {Path(name).name}" if zipped else "")
        _check_complete(files, written, zipped)
    except (CheckpointError, UnzipError) as e:
        for name in UPLOAD_LIMITS:
            (dest / name).unlink(missing_ok=True)
        raise (e if isinstance(e, CheckpointError) else CheckpointError(str(e))) from None
    return dest


def _check_complete(files: dict[str, bytes], written: list[str], zipped: bool) -> None:
    """The files of one checkpoint or of one ONNX model, each there; else what the upload held."""
    onnx = ENCODER in written or DECODER in written
    if onnx and CONFIG in written:
        raise CheckpointError(f"upload: {CONFIG} beside ONNX graphs; name the JSON that describes them {ONNX_JSON}")
    wanted = (ENCODER, DECODER) if onnx else (CONFIG, WEIGHTS)
    missing = [n for n in wanted if n not in written]
    if not missing:
        return
    if written:
        which = "the .zip" if zipped else "the upload"
        error = CheckpointError if zipped else IncompleteUpload
        raise error(f"{which} is missing {' and '.join(missing)} (it holds {', '.join(sorted(written))}): "
                    f"{'zip' if zipped else 'add'} {' and '.join(missing)} of the same model")
    if zipped:
        (name, data), = files.items()
        members = listing(data)
        held = (f"holds {', '.join(members[:5])}{f' and {len(members) - 5} more' if len(members) > 5 else ''} "
                "but no file of a checkpoint") if members else "is an empty .zip archive (it holds no files)"
        raise CheckpointError(f"{Path(name).name} {held}; expected {EXPECTED}")
    what = "; ".join(f"{Path(n).name} is {describe(d[:16], len(d))}" for n, d in list(files.items())[:4])
    raise CheckpointError(f"{what}: none is a file of a checkpoint; expected {EXPECTED}")


def _check_kinds(dest: Path, written: list[str], where: str) -> None:
    """A file named as a checkpoint's that is plainly something else (a PNG image renamed
    encoder.onnx, a torch.save zip named model.safetensors) is refused by name and kind."""
    for name in written:
        with open(dest / name, "rb") as f:
            head, size = f.read(16), (dest / name).stat().st_size
        expected = WHAT_EACH_IS.get(Path(name).suffix)
        what = describe(head, size)
        if expected and (what in SIGNATURES.values() or size == 0):
            hint = " (torch.save writes one: save the weights with safetensors)" if head.startswith(b"PK") else ""
            raise CheckpointError(f"{name}{where} is {what}{hint}, not {expected}; expected {EXPECTED}")


def _write_uploaded(files: dict[str, bytes], dest: Path) -> list[str]:
    names: dict[str, bytes] = {}
    for name, data in files.items():
        if (base := Path(name).name) in names:
            raise CheckpointError(f"the upload holds {base} twice: upload the files of one checkpoint")
        names[base] = data
    if ENCODER in names or DECODER in names:
        if stray := [n for n in names if n.lower().endswith(".json") and n not in (ONNX_JSON, METRICS)]:
            raise CheckpointError(f"upload: {stray[0]} beside ONNX graphs; name the JSON that describes them {ONNX_JSON}")
    names = {n: data for n, data in names.items() if n in UPLOAD_LIMITS}
    for name, data in names.items():
        if len(data) > UPLOAD_LIMITS[name]:
            raise CheckpointError(f"uploaded {name} is {len(data):,} bytes; the limit is {UPLOAD_LIMITS[name]:,}")
    if (total := sum(map(len, names.values()))) > MAX_UPLOAD_BYTES:
        raise CheckpointError(f"the upload is {total:,} bytes; the limit is {MAX_UPLOAD_BYTES:,}")
    for name, data in names.items():
        (dest / name).write_bytes(data)
    return list(names)
