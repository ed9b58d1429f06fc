"""Overview: the model card of the picked checkpoint, its loss curves, its metrics beside the
published anchors, and test digits over their reconstructions."""
import pandas as pd
import streamlit as st

from aecore.checkpoint import is_onnx_folder
from aecore.measure.card import model_card
from aecore.pictures.plots import loss_curves
from ui import cached
from ui.display import show_pairs
from ui.frame import guard
from ui.text import plain
from ui.tables import metrics_table
from ui.widgets import context

N_DIGITS = 12  # test images shown; the sample's test split is interleaved by class, so 0-9 first

with guard():
    ctx = context()
    if ctx:
        ckpt = cached.load(ctx.path)
        about = ckpt.config.get("about") or {}
        st.title(about.get("title") or ckpt.name)
        if about.get("purpose"):
            st.caption(about["purpose"])

        card, curves = st.columns([2, 3])
        with card:
            st.subheader("Model card")
            st.table(pd.DataFrame(model_card(ckpt).items(), columns=["field", "value"]).set_index("field"),
                     hide_header=True, border="horizontal")
        with curves:
            st.subheader("Loss curves")
            history = ckpt.config.get("history") or []
            if history:
                st.plotly_chart(loss_curves(history), key="losses")
            elif is_onnx_folder(ckpt.path):
                st.info(f"{plain(ckpt.name)} is an ONNX model trained elsewhere: it carries no training history "
                        "(aecore records one when it trains a model).")
            else:
                st.info("This checkpoint has no training history in its config.json.")

        st.subheader("Metrics")
        metrics_table(ckpt, key="metrics")

        test = cached.dataset(ctx.dataset)
        st.subheader(f"Test {test.item}s (top) and their reconstructions (bottom)")
        shown = range(min(N_DIGITS, len(test)))
        show_pairs(test.images[:N_DIGITS], cached.reconstruct(ctx.path, ctx.dataset, shown), N_DIGITS,
                   caption=f"the first {N_DIGITS} {test.item}s of {ctx.dataset} test")
