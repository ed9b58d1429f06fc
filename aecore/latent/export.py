"""Taking a selection elsewhere: the selected points of a map as files other tools read."""
from __future__ import annotations

import csv
import io

import numpy as np


def split_columns(split: str, index, n_train: int) -> dict[str, np.ndarray]:
    """Per point of a map of `split` ("train", "test", or "all": train then test, n_train of them
    train), which split it is from and its index there: {"split": (n,) str, "index_in_split": (n,)}."""
    index = np.asarray(index, np.int64)
    if split != "all":
        return {"split": np.full(len(index), split), "index_in_split": index}
    train = index < n_train
    return {"split": np.where(train, "train", "test"), "index_in_split": np.where(train, index, index - n_train)}


RESERVED = ("index", "label", "class", "x", "y", "indices", "labels", "codes", "images", "reconstructions",
            "classes")  # the columns and arrays every export starts with


def with_metadata(extra: dict, columns: dict) -> dict[str, np.ndarray]:
    """`extra` (per-point columns such as split_columns) followed by a dataset's metadata columns
    {name: (n,)}; a metadata column whose name is taken (index, class, split, code_0, ...) is
    written as "metadata_NAME"."""
    out = dict(extra)
    for name, values in columns.items():
        taken = set(RESERVED) | set(out)
        key = name if name not in taken and not name.startswith("code_") else f"metadata_{name}"
        while key in taken:
            key = f"metadata_{key}"
        out[key] = np.asarray(values)
    return out


def _checked(extra: dict | None, n: int) -> dict[str, np.ndarray]:
    """Per-point columns {name: (n,)}, each checked for one value per point."""
    extra = {k: np.asarray(v) for k, v in (extra or {}).items()}
    if wrong := {k: len(v) for k, v in extra.items() if len(v) != n}:
        raise ValueError(f"every column needs one value per point ({n}), got {wrong}")
    return extra


def _text_cell(value):
    """A text cell as spreadsheets will read it as text: one starting with = + - @ or a tab would
    run as a formula in Excel or LibreOffice (class names come from the dataset's files), so it
    gets a leading apostrophe, as OWASP advises. Numbers are written as they are."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def selection_csv(index, labels, xy, classes=None, extra: dict | None = None) -> str:
    """The selected points as CSV text: a header `index,label,class,x,y` and the names of `extra`
    (per-point columns, e.g. split_columns), then one row per point (index in the map's points,
    label, its class name, map coordinates in float32's shortest exact form, the extra values).
    Without `classes` the class name is the label itself."""
    index, labels, xy = np.asarray(index), np.asarray(labels), np.asarray(xy, np.float32)
    if not len(index) == len(labels) == len(xy):
        raise ValueError(f"need as many labels and map positions as indices, got {len(index)}, "
                         f"{len(labels)} and {len(xy)}")
    extra = _checked(extra, len(index))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # quotes names with commas ("T-shirt, top")
    writer.writerow(["index", "label", "class", "x", "y", *extra])
    for row, (i, c, (x, y)) in enumerate(zip(index, labels, xy)):
        writer.writerow([int(i), int(c), _text_cell(str(classes[int(c)])) if classes is not None else int(c),
                         str(x), str(y), *(_text_cell(v[row].item()) for v in extra.values())])
    return out.getvalue()


def selection_npz(index, labels, codes, images, reconstructions, classes=None, extra: dict | None = None) -> bytes:
    """The selected points as one .npz (numpy's zip of arrays, read with np.load, no pickle):
    indices (n,) int64, labels (n,) int64, codes (n, d) float32, images (n, 28, 28) uint8 as the
    dataset has them, reconstructions (n, 28, 28) float32 in [0, 1], classes (the class names
    of labels 0, 1, ..., as unicode strings), and one array per column of `extra`."""
    arrays = {"indices": np.asarray(index, np.int64), "labels": np.asarray(labels, np.int64),
              "codes": np.asarray(codes, np.float32), "images": np.asarray(images),
              "reconstructions": np.asarray(reconstructions, np.float32), **_checked(extra, len(index))}
    sizes = {name: len(a) for name, a in arrays.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"every array of a selection needs one row per point, got {sizes}")
    names = [str(c) for c in classes] if classes is not None else [str(c) for c in range(int(arrays["labels"].max(initial=-1)) + 1)]
    out = io.BytesIO()
    np.savez_compressed(out, **arrays, classes=np.array(names, dtype=str))
    return out.getvalue()


def map_table(index, labels, xy, codes, classes=None, extra: dict | None = None):
    """The whole map as a pandas DataFrame: index, label, class, x, y (map position), the columns
    of `extra`, and one float32 column per code unit, code_0 ... code_{d-1}."""
    import pandas as pd

    index, labels = np.asarray(index, np.int64), np.asarray(labels, np.int64)
    xy, codes = np.asarray(xy, np.float32), np.asarray(codes, np.float32)
    if not len(index) == len(labels) == len(xy) == len(codes):
        raise ValueError(f"need one label, map position and code per index, got {len(index)}, "
                         f"{len(labels)}, {len(xy)} and {len(codes)}")
    names = np.array([str(c) for c in classes], dtype=object)[labels] if classes is not None else labels.astype(str)
    table = pd.DataFrame({"index": index, "label": labels, "class": names, "x": xy[:, 0], "y": xy[:, 1],
                          **_checked(extra, len(index))})
    units = pd.DataFrame(codes, columns=[f"code_{i}" for i in range(codes.shape[1])])
    return pd.concat([table, units], axis=1)


def map_parquet(index, labels, xy, codes, classes=None, extra: dict | None = None) -> bytes:
    """map_table(...) as Parquet bytes (pyarrow), the table Embedding Atlas and pandas open."""
    out = io.BytesIO()
    map_table(index, labels, xy, codes, classes, extra).to_parquet(out, engine="pyarrow", index=False)
    return out.getvalue()
