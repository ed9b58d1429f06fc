"""Overview: the model card of the picked checkpoint, its loss curves, its metrics beside the
published anchors, test digits over their reconstructions, and its latent traversals."""
import pandas as pd
import streamlit as st

from aecore.checkpoint import is_onnx_folder
from aecore.latent import traversals
from aecore.measure.card import model_card
from aecore.pictures.plots import loss_curves
from ui import cached
from ui.display import show_pairs
from ui.frame import guard
from ui.text import plain
from ui.tables import metrics_table
from ui.widgets import context

N_DIGITS = 12  # test images shown; the sample's test split is interleaved by class, so 0-9 first
CARD_ROWS = 8  # the card's traversal rows at most; the Traversals page has them all


@cached.per_checkpoint(st.cache_data(show_spinner="Decoding the traversals…", max_entries=16))
def card_traversals(path: str, weights: str, name: str) -> tuple[bytes, int, int, str]:
    """(the PNG of up to CARD_ROWS active units' rows from the first test image, active units,
    rows shown, the measure that ordered them): traversals.card_grid, as in the zoo's report."""
    test, codes = cached.dataset(name), cached.codes(path, name)
    n = min(len(test), traversals.CARD_IMAGES)  # as the report's grids
    grid, order = traversals.card_grid(cached.load(path).model, codes[:n], test.images[:n])
    side = max(grid.shape[2:4])
    return (traversals.grid_png(grid[:CARD_ROWS], scale=max(1, 64 // side)), len(order.active_units),
            min(len(grid), CARD_ROWS), order.measure)

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

        st.subheader("Traversals")
        png, active, rows, measure = card_traversals(ctx.path, ctx.dataset)
        how = "most KL to the prior first" if measure == "KL" else "largest code variance first"
        which = (f"The {rows} of its {active} active units that carry the most, a row each ({how})" if active > rows else
                 f"Its {active} active unit{'s' if active != 1 else ''}, a row each ({how})" if active else
                 "Its first unit (no unit is active)")
        st.caption(f"{which}: the unit sweeps from −3 to +3 standard deviations while the others stay at the code "
                   f"of test {test.item} #0, the first above. The Traversals page has every unit, from any start.")
        st.image(png, output_format="PNG")
