"""Taking a selection elsewhere: the selected points of a map as files other tools read."""
from __future__ import annotations

import csv
import io

import numpy as np


def selection_csv(index, labels, xy, classes=None) -> str:
    """The selected points as CSV text: a header `index,label,class,x,y`, then one row per point
    (dataset index, label, its class name, map coordinates in float32's shortest exact form).
    Without `classes` the class name is the label itself."""
    index, labels, xy = np.asarray(index), np.asarray(labels), np.asarray(xy, np.float32)
    if not len(index) == len(labels) == len(xy):
        raise ValueError(f"need as many labels and map positions as indices, got {len(index)}, "
                         f"{len(labels)} and {len(xy)}")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")  # quotes names with commas ("T-shirt, top")
    writer.writerow(["index", "label", "class", "x", "y"])
    for i, c, (x, y) in zip(index, labels, xy):
        writer.writerow([int(i), int(c), classes[int(c)] if classes is not None else int(c), str(x), str(y)])
    return out.getvalue()
