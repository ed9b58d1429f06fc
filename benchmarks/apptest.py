"""The app's server work measured in Streamlit's AppTest (no browser): the app with one checkpoint
(app_with), and the Latent map's reruns on a large map (selection_rerun)."""
from __future__ import annotations

import base64
import contextlib
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from aecore.data import load_dataset

REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def app_with(ckpt: str):
    """The app in Streamlit's AppTest (the server's work, no browser) with checkpoint folder `ckpt`
    alone in its picker, a cache folder of its own and no warm-up, after its first run; the
    environment as it was afterwards."""
    from streamlit.testing.v1 import AppTest

    names = ("AECORE_CHECKPOINTS", "AECORE_CACHE_DIR", "AECORE_NO_WARMUP")
    saved = {k: os.environ.get(k) for k in names}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            os.symlink(Path(ckpt).resolve(), Path(tmp) / Path(ckpt).name)
            os.environ.update(AECORE_CHECKPOINTS=tmp, AECORE_CACHE_DIR=str(Path(tmp) / "cache"), AECORE_NO_WARMUP="1")
            at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
            at.session_state["checkpoint"] = str(Path(tmp) / Path(ckpt).name)
            at.run()
            yield at
    finally:
        for k, v in saved.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def selection_rerun(ckpt: str, dataset: str) -> tuple[float, float, float, bool, float]:
    """Seconds of the Latent map page on the train + test map of `dataset` with PCA, in Streamlit's
    AppTest (the server's work, no browser): the first run, a rerun without changes, a rerun
    with 30 points selected; whether that last rerun built the figure again; and its CPU seconds."""
    from aecore.pictures import plots
    built = []
    scatter = plots.latent_scatter
    plots.latent_scatter = lambda *a, **k: built.append(1) or scatter(*a, **k)
    with app_with(ckpt) as at:
        at.switch_page("pages/2_latent_map.py").run()
        at.sidebar.selectbox(key="dataset").set_value(dataset).run()
        start = time.perf_counter()
        at.selectbox(key="split").set_value("all").run()
        first = time.perf_counter() - start
        shown = sum(count_values(t.get("x")) for t in json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
                    if t.get("name") != "grid")
        if shown != len(load_dataset(dataset, "all")):
            raise RuntimeError(f"the map shows {shown} points, not every image of {dataset}")
        start = time.perf_counter()
        at.run()
        again = time.perf_counter() - start
        points = [{"customdata": int(i), "x": 0.0, "y": 0.0} for i in range(0, 30_000, 1000)]
        at.session_state["map"] = {"selection": {"points": points, "point_indices": [], "box": [], "lasso": []}}
        before = len(built)
        start, cpu = time.perf_counter(), time.process_time()
        at.run()
        select, select_cpu = time.perf_counter() - start, time.process_time() - cpu
        if at.exception or at.error:
            raise RuntimeError(f"the latent map failed: {[e.value for e in (*at.exception, *at.error)]}")
    plots.latent_scatter = scatter
    return first, again, select, len(built) > before, select_cpu


def count_values(values) -> int:
    """Entries of a plotly array: a list, or its typed-array form {"dtype", "bdata"}."""
    if isinstance(values, dict):
        return len(base64.b64decode(values["bdata"])) // np.dtype(values["dtype"]).itemsize
    return len(values or [])
