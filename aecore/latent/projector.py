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

from ..pictures.pixels import image_stack, to_uint8

SPRITE_MAX = 8192  # the projector's largest sprite image, in pixels per side


def sprite(images) -> tuple[bytes, tuple[int, int]]:
    """(PNG bytes of every image in a ceil(sqrt(n))-wide square grid, (width, height) of one
    thumbnail in pixels). images: (n, H, W) grey or (n, H, W, 3) colour (a colour sprite for
    colour images), uint8 or float in [0, 1]. Thumbnails keep the images' own size, or are scaled
    down (keeping their aspect) so that the sprite stays within SPRITE_MAX pixels a side."""
    images = to_uint8(image_stack(images)) if np.asarray(images).dtype != np.uint8 else np.asarray(images)
    n, height, width = images.shape[:3]
    per_row = max(1, math.ceil(math.sqrt(n)))
    scale = min(1.0, SPRITE_MAX / (per_row * max(height, width)))
    w, h = int(width * scale), int(height * scale)
    if min(w, h) < 1:
        raise ValueError(f"{n:,} images do not fit one projector sprite of {SPRITE_MAX} pixels a side")
    if (w, h) != (width, height):
        images = np.stack([np.asarray(Image.fromarray(im).resize((w, h), Image.BILINEAR)) for im in images])
    grid = np.zeros((per_row * per_row, h, w, *images.shape[3:]), np.uint8)
    grid[:n] = images
    grid = grid.reshape(per_row, per_row, h, w, *images.shape[3:]).swapaxes(1, 2)
    out = io.BytesIO()
    Image.fromarray(grid.reshape(per_row * h, per_row * w, *images.shape[3:])).save(out, format="PNG", optimize=False)
    return out.getvalue(), (w, h)


def _cell(text) -> str:
    """A metadata cell: tabs and line breaks would split the row, so they become spaces; an empty
    one is "_" (the projector would read it as no value)."""
    return " ".join(str(text).split()) or "_"


def _cells(values) -> list[str]:
    """A metadata column's cells: a missing number (NaN) is empty, so that the projector still
    reads the column as numbers (it colours those by a gradient) and the point as without one."""
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.floating):
        return ["" if not math.isfinite(v) else repr(v) for v in values.tolist()]
    return [_cell(v) for v in values.tolist()]


def projector_files(codes, index, labels, images, classes=None, name: str = "codes",
                    extra: dict | None = None) -> dict[str, bytes]:
    """{file name: contents} of the bundle (see the module docstring) for codes (n, d) with their
    dataset indices (n,), labels (n,), images (n, H, W) or (n, H, W, 3) and per-point columns
    `extra` {name: (n,)} (more columns of metadata.tsv: numbers, NaN for none, or text)."""
    codes = np.asarray(codes, np.float32)
    index, labels = np.asarray(index, np.int64), np.asarray(labels, np.int64)
    if not len(codes) == len(index) == len(labels) == len(images):
        raise ValueError(f"need one index, label and image per code, got {len(codes)} codes, "
                         f"{len(index)} indices, {len(labels)} labels and {len(images)} images")
    vectors = io.StringIO()
    np.savetxt(vectors, codes, fmt="%.9g", delimiter="\t")
    extra = {k: _cells(v) for k, v in (extra or {}).items()}
    if wrong := {k: len(v) for k, v in extra.items() if len(v) != len(codes)}:
        raise ValueError(f"every metadata column needs one value per code ({len(codes)}), got {wrong}")
    rows = ["\t".join(["index", "label", "class", *map(_cell, extra)])] + [
        "\t".join([str(i), str(c), _cell(classes[c] if classes is not None else c), *(v[r] for v in extra.values())])
        for r, (i, c) in enumerate(zip(index.tolist(), labels.tolist()))]
    png, (width, height) = sprite(images)
    config = (f'embeddings {{\n  tensor_name: "{_cell(name)}"\n  tensor_shape: {len(codes)}\n'
              f'  tensor_shape: {codes.shape[1]}\n  tensor_path: "vectors.tsv"\n'
              f'  metadata_path: "metadata.tsv"\n  sprite {{\n    image_path: "sprite.png"\n'
              f'    single_image_dim: {width}\n    single_image_dim: {height}\n  }}\n}}\n')  # [width, height]
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
