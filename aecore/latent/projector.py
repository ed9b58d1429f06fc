"""The whole map as a TensorBoard projector bundle: a folder TensorBoard opens as it is
(`tensorboard --logdir FOLDER`, then the Projector tab), as a zip of

  vectors.tsv             one code per line, tab-separated floats, no header
  metadata.tsv            a header line (index, label, class, split, ...), then one line per code
  sprite.png              every image in one square grid, row-major, as the projector expects
  projector_config.pbtxt  the ProjectorConfig (text protobuf) naming the three files

Written without TensorBoard: the config is four fields of its ProjectorConfig proto.
"""
from __future__ import annotations

import io
import math
import zipfile

import numpy as np
from PIL import Image

from ..pictures.pixels import SIDE, to_uint8

SPRITE_MAX = 8192  # the projector's largest sprite image, in pixels per side


def sprite(images) -> tuple[bytes, int]:
    """(PNG bytes of every image (n, 28, 28) in a ceil(sqrt(n))-wide grid, the side of one
    thumbnail in pixels): 28, or less when 28 would make the sprite wider than SPRITE_MAX."""
    images = to_uint8(np.asarray(images))
    per_row = max(1, math.ceil(math.sqrt(len(images))))
    side = min(SIDE, SPRITE_MAX // per_row)
    if side < 1:
        raise ValueError(f"{len(images):,} images do not fit one projector sprite of {SPRITE_MAX} pixels a side")
    if side != SIDE:
        images = np.stack([np.asarray(Image.fromarray(im).resize((side, side), Image.BILINEAR)) for im in images])
    grid = np.zeros((per_row * per_row, side, side), np.uint8)
    grid[:len(images)] = images
    grid = grid.reshape(per_row, per_row, side, side).transpose(0, 2, 1, 3).reshape(per_row * side, per_row * side)
    out = io.BytesIO()
    Image.fromarray(grid, "L").save(out, format="PNG", optimize=False)
    return out.getvalue(), side


def _cell(text) -> str:
    """A metadata cell: tabs and line breaks would split the row, so they become spaces."""
    return " ".join(str(text).split()) or "_"


def projector_files(codes, index, labels, images, classes=None, name: str = "codes",
                    extra: dict | None = None) -> dict[str, bytes]:
    """{file name: contents} of the bundle (see the module docstring) for codes (n, d) with their
    dataset indices (n,), labels (n,), images (n, 28, 28) and per-point columns `extra` {name: (n,)}
    (more columns of metadata.tsv)."""
    codes = np.asarray(codes, np.float32)
    index, labels = np.asarray(index, np.int64), np.asarray(labels, np.int64)
    if not len(codes) == len(index) == len(labels) == len(images):
        raise ValueError(f"need one index, label and image per code, got {len(codes)} codes, "
                         f"{len(index)} indices, {len(labels)} labels and {len(images)} images")
    vectors = io.StringIO()
    np.savetxt(vectors, codes, fmt="%.9g", delimiter="\t")
    extra = {k: np.asarray(v).tolist() for k, v in (extra or {}).items()}
    if wrong := {k: len(v) for k, v in extra.items() if len(v) != len(codes)}:
        raise ValueError(f"every metadata column needs one value per code ({len(codes)}), got {wrong}")
    rows = ["\t".join(["index", "label", "class", *map(_cell, extra)])] + [
        "\t".join([str(i), str(c), _cell(classes[c] if classes is not None else c), *(_cell(v[r]) for v in extra.values())])
        for r, (i, c) in enumerate(zip(index.tolist(), labels.tolist()))]
    png, side = sprite(images)
    config = (f'embeddings {{\n  tensor_name: "{_cell(name)}"\n  tensor_shape: {len(codes)}\n'
              f'  tensor_shape: {codes.shape[1]}\n  tensor_path: "vectors.tsv"\n'
              f'  metadata_path: "metadata.tsv"\n  sprite {{\n    image_path: "sprite.png"\n'
              f'    single_image_dim: {side}\n    single_image_dim: {side}\n  }}\n}}\n')
    return {"vectors.tsv": vectors.getvalue().encode(), "metadata.tsv": ("\n".join(rows) + "\n").encode(),
            "sprite.png": png, "projector_config.pbtxt": config.encode()}


def projector_zip(codes, index, labels, images, classes=None, name: str = "codes",
                  folder: str = "projector", extra: dict | None = None) -> bytes:
    """The bundle as a zip whose files sit in `folder`/: unzip it, then
    `tensorboard --logdir <folder>`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for file, data in projector_files(codes, index, labels, images, classes, name, extra).items():
            z.writestr(f"{folder}/{file}", data)
    return out.getvalue()
