"""Taking a selection elsewhere: the selected points of a map as files other tools read."""
from __future__ import annotations

import numpy as np


def selection_csv(index, labels, xy) -> str:
    """The selected points as CSV text: a header `index,label,x,y`, then one row per point
    (dataset index, label, map coordinates in float32's shortest exact form)."""
    index, labels, xy = np.asarray(index), np.asarray(labels), np.asarray(xy, np.float32)
    if not len(index) == len(labels) == len(xy):
        raise ValueError(f"need as many labels and map positions as indices, got {len(index)}, "
                         f"{len(labels)} and {len(xy)}")
    rows = (f"{int(i)},{int(c)},{str(x)},{str(y)}" for i, c, (x, y) in zip(index, labels, xy))
    return "\n".join(["index,label,x,y", *rows]) + "\n"
