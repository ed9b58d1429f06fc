"""An upload unpacked into a folder: the files of one checkpoint (or one ONNX model), given
loose or in a .zip, each within its limit (layout.UPLOAD_LIMITS), all within MAX_UPLOAD_BYTES.
What makes a checkpoint valid is load_checkpoint's to check, next."""
from __future__ import annotations

from pathlib import Path

from .layout import CONFIG, DECODER, ENCODER, MAX_UPLOAD_BYTES, METRICS, ONNX_JSON, UPLOAD_LIMITS, WEIGHTS, \
    CheckpointError
from .unzip import UnzipError, unzip


def unpack_upload(files: dict[str, bytes], dest: str | Path) -> Path:
    """Write uploaded files ({name: bytes}: config.json + model.safetensors (+ metrics.json,
    history.safetensors), or encoder.onnx + decoder.onnx (+ onnx.json), or one .zip holding them,
    possibly inside a folder) into the folder `dest`, and return it; each file within
    UPLOAD_LIMITS, all within MAX_UPLOAD_BYTES. Checks nothing else: call load_checkpoint(dest)
    next. On an error, what it wrote is removed."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if len(files) == 1 and next(iter(files)).lower().endswith(".zip"):
            written = unzip(next(iter(files.values())), UPLOAD_LIMITS, MAX_UPLOAD_BYTES, dest)
        else:
            written = _write_uploaded(files, dest)
        onnx = ENCODER in written or DECODER in written
        wanted = (ENCODER, DECODER) if onnx else (CONFIG, WEIGHTS)
        if missing := [n for n in wanted if n not in written]:
            raise CheckpointError(f"upload is missing {' and '.join(missing)}: upload {CONFIG} and {WEIGHTS} of one "
                                  f"checkpoint, or {ENCODER} and {DECODER} (+ {ONNX_JSON}), or a .zip holding them")
        if onnx and CONFIG in written:
            raise CheckpointError(f"upload: {CONFIG} beside ONNX graphs; name the JSON that describes them {ONNX_JSON}")
    except (CheckpointError, UnzipError) as e:
        for name in UPLOAD_LIMITS:
            (dest / name).unlink(missing_ok=True)
        raise CheckpointError(str(e)) from None
    return dest


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
