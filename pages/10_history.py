"""History: how the picked checkpoint's code space organised itself while it trained, replayed
from its recorded history (the map of 1,000 test images and a dozen reconstructions after each
epoch it kept: every one of a short training, 40 of a long one): a slider and a play button in
the chart, and the animation as a GIF."""
import streamlit as st

from aecore.checkpoint import is_onnx_folder
from aecore.data import DataError
from aecore.latent.projections import axis_names, default_method, map_caption
from aecore.pictures.replay import history_gif
from ui import cached
from ui.frame import guard
from ui.text import plain
from ui.widgets import require_context

st.title("History")
ctx = require_context()

with guard():
    ckpt = cached.load(ctx.path)
    history = cached.recorded(ctx.path)
    if history is None:
        st.info(f"{plain(ckpt.name)} is an ONNX model trained elsewhere: aecore records a training history "
                "(history.safetensors) only when it trains a model, on the Train page or with `python -m aecore "
                "train`." if is_onnx_folder(ckpt.path) else
                f"{plain(ckpt.name)} has no recorded history (history.safetensors): it was trained before "
                "training recorded one. Train a model on the Train page, or retrain it with "
                "`python -m aecore train`, which records it.")
        st.stop()
    name = ckpt.dataset or ctx.dataset  # the subset is the first test images of the training dataset
    try:
        labels = cached.dataset(name).labels[history["index"]]
    except DataError:
        name, labels = None, None
    d, frames, n = ckpt.model.latent_dim, history["epochs"], len(history["index"])
    method = default_method(d)  # what training recorded (aecore.train.history.align)
    axes = axis_names(method, d)
    st.plotly_chart(cached.history_figure(ctx.path, name, axes), key="replay")
    how = map_caption(method, d, 0) + (", turned to match the frame before" if method == "pca" else "")
    kept = f"{len(frames)} epochs" if len(frames) == frames[-1] else f"{len(frames)} of {frames[-1]} epochs (dense at the start)"
    st.caption(f"{kept} of {ckpt.name}: the first {n:,} {name or ckpt.dataset or ''} test images, {how}; "
               "each epoch framed around its points (the outermost 1% may fall outside). Press ▶ Play, or drag the slider."
               + ("" if name else " Colours need that dataset's labels, which this machine does not have."))
    st.download_button("Download the animation (GIF)", lambda: history_gif(history["maps"], labels,
                                                                           history["reconstructions"], frames),
                       file_name=f"{ckpt.name}-history.gif", mime="image/gif", key="replay_gif",
                       on_click="ignore")
