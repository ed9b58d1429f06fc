"""The colour rows of `python -m benchmarks.app` (a checkpoint on the 64x64 colour sprites):
encoding 10,000 pictures, the Latent map's first run from the codes stored beside the weights,
and decoding one code. Each is printed beside its goal by the caller's row()."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from aecore.checkpoint import load_checkpoint
from aecore.data import available_datasets, load_dataset
from aecore.latent import decode_codes, encode_dataset

REPO = Path(__file__).resolve().parent.parent
N_IMAGES = 10_000
GOALS = {"encode": 2.0, "first_map": 3.0, "decode": 0.010}


def colour_images(dataset: str) -> tuple[np.ndarray, str]:
    """10,000 test pictures of `dataset` (repeated to 10,000 when it has fewer) and a note saying which."""
    images = load_dataset(dataset, "test").images
    if len(images) >= N_IMAGES:
        return images[:N_IMAGES], f"{dataset} test, {N_IMAGES:,} pictures"
    return np.resize(images, (N_IMAGES, *images.shape[1:])), f"{dataset} test ({len(images):,}) repeated to {N_IMAGES:,}"


def bench_colour(ckpt: str, row: Callable, median_time: Callable, report: Callable[[str], None],
                 repeats: int = 5) -> None:
    """The three colour rows for checkpoint folder `ckpt`, measured on the dataset it was trained on
    (none, and a line saying why, when that dataset is not on this machine)."""
    loaded = load_checkpoint(ckpt)
    model, dataset = loaded.model, loaded.dataset
    if not available_datasets().get(dataset):
        report(f"colour rows skipped: {ckpt} was trained on {dataset}, which is not here "
               f"(`python -m aecore download {dataset}` makes it)")
        return
    images, note = colour_images(dataset)
    shape = "x".join(map(str, images.shape[1:]))
    report(f"colour: {ckpt} ({model.config.kind} / {model.config.body}, d={model.latent_dim}); data: {note}")
    row(f"encode {N_IMAGES:,} {shape} pictures (colour)", median_time(lambda: encode_dataset(model, images),
                                                                      max(1, repeats // 2)), GOALS["encode"])
    first, encoded = first_map_seconds(ckpt, dataset)
    row("  Latent map's first run from stored codes", first, GOALS["first_map"],
        f"(AppTest, server side; {'encoded the pictures: no stored codes used' if encoded else 'no encoding'})")
    z = np.zeros((1, model.latent_dim), np.float32)
    row("  decode one code to a colour picture", median_time(lambda: decode_codes(model, z), repeats * 20),
        GOALS["decode"])


def first_map_seconds(ckpt: str, dataset: str) -> tuple[float, bool]:
    """(seconds of the Latent map page's first run on `dataset` with checkpoint `ckpt`, in
    Streamlit's AppTest: reading the pictures, the stored codes, PCA and the figure; whether the
    model had to encode the pictures, which stored codes spare it)."""
    from aecore.latent import codec
    from benchmarks.apptest import app_with
    encoded = []
    encode = codec.encode_dataset
    codec.encode_dataset = lambda *a, **k: encoded.append(1) or encode(*a, **k)
    try:
        with app_with(ckpt) as at:
            start = time.perf_counter()
            at.switch_page("pages/2_latent_map.py").run()
            if at.sidebar.selectbox(key="dataset").value != dataset:
                at.sidebar.selectbox(key="dataset").set_value(dataset).run()
            seconds = time.perf_counter() - start
            if at.exception or at.error:
                raise RuntimeError(f"the latent map failed: {[e.value for e in (*at.exception, *at.error)]}")
            if not at.get("plotly_chart"):
                raise RuntimeError("the latent map page drew no map")
    finally:
        codec.encode_dataset = encode
    return seconds, bool(encoded)
