"""What a checkpoint folder holds: its files' names, the most each may hold (on disk and in an
upload), the format versions, and CheckpointError, raised for any folder or upload that cannot be
loaded. The rest of aecore.checkpoint reads and writes folders of this layout."""
from __future__ import annotations

CONFIG, WEIGHTS, METRICS = "config.json", "model.safetensors", "metrics.json"
ENCODER, DECODER, ONNX_JSON = "encoder.onnx", "decoder.onnx", "onnx.json"  # an ONNX model folder
ONNX_DATA = (f"{ENCODER}.data", f"{DECODER}.data")  # their weights, where torch.onnx.export kept them beside
HISTORY = "history.safetensors"  # optional: the maps and reconstructions after each epoch (aecore.train.history)
CODES = "codes.safetensors"  # optional: the codes of its datasets' test images (codes.py); never uploaded
FORMAT = "aecore-checkpoint/2"  # per-kind model sections; format 1 stored every kind's settings flat
FORMATS = ("aecore-checkpoint/1", FORMAT)  # what load_checkpoint reads
MAX_UPLOAD_BYTES = 16 * 2**20  # what an upload may hold, unpacked, all files together: 4x the largest shipped checkpoint
MAX_JSON_BYTES = 2**20  # config.json, metrics.json, onnx.json: a few KB, ~250 bytes more per epoch of history
UPLOAD_LIMITS = {CONFIG: MAX_JSON_BYTES, METRICS: MAX_JSON_BYTES, WEIGHTS: MAX_UPLOAD_BYTES, HISTORY: MAX_UPLOAD_BYTES,
                 ENCODER: MAX_UPLOAD_BYTES, DECODER: MAX_UPLOAD_BYTES, ONNX_JSON: MAX_JSON_BYTES,
                 **dict.fromkeys(ONNX_DATA, MAX_UPLOAD_BYTES)}


class CheckpointError(ValueError):
    """A checkpoint folder or upload that cannot be loaded; the message says what and where."""
