"""Latent map: the test codes as a 2-D scatter (their own plane for 2-D codes, else PCA, UMAP or
t-SNE), selections with their reconstructions, click-to-decode, thumbnails and neighbours."""
import numpy as np
import streamlit as st

from aecore.latent import decode_codes, nearest_neighbours
from aecore.latent.export import selection_csv
from aecore.pictures import plots
from ui import cached
from ui.display import show_digits, show_pairs
from ui.frame import guard
from ui.widgets import context, projection_controls

MAX_POINTS, THUMBS = 5000, 150

with guard():
    ctx = context()
    if ctx:
        st.title("Latent map")
        split = cached.TEST
        data, codes = cached.dataset(ctx.dataset, split), cached.codes(ctx.path, ctx.dataset, split)
        controls = st.columns([1, 1, 1, 1, 1])
        method, params = projection_controls(codes.shape[1], controls)
        colour = controls[3].selectbox("Colour by", list(cached.COLOURS), key="colour")
        thumbs = controls[4].checkbox(f"Thumbnails ({THUMBS} digits)", key="thumbs")
        xy = cached.projection(ctx.path, ctx.dataset, split, method, ctx.seed, **params)
        settings = f"({', '.join(f'{k}={v}' for k, v in params.items())})" if params else ""
        st.caption(f"{codes.shape[1]}-D codes of the {len(codes):,} {ctx.dataset} {split} digits" +
                   (" shown as they are." if method == "none" else f", mapped by {method}{settings} with seed {ctx.seed}."))

        rng = np.random.default_rng(ctx.seed)
        shown = np.sort(rng.choice(len(xy), MAX_POINTS, replace=False)) if len(xy) > MAX_POINTS else np.arange(len(xy))
        values = cached.colour_values(ctx.path, ctx.dataset, split, colour, method, ctx.seed, **params)
        fig = plots.latent_scatter(xy[shown], shown, data.labels[shown], data.classes,
                                   None if values is None else values[shown], cached.COLOURS[colour],
                                   ("z1", "z2") if method == "none" else (f"{method} 1", f"{method} 2"))
        if method == "none":
            plots.add_click_grid(fig, plots.padded_extent(xy[shown]))
        if thumbs:
            t = np.sort(rng.choice(shown, min(THUMBS, len(shown)), replace=False))
            plots.add_thumbnails(fig, xy[t], data.images[t], data.labels[t])

        left, right = st.columns([3, 2])
        with left:
            if len(shown) < len(xy):
                st.caption(f"Showing {len(shown):,} of {len(xy):,} {ctx.dataset} {split} digits, "
                           f"drawn with seed {ctx.seed}.")
            event = st.plotly_chart(fig, on_select="rerun", selection_mode=("points", "box", "lasso"), key="map")
        selected, click = plots.selection_indices(event)
        with right:
            if click is not None:
                st.markdown(f"**Decoded at ({click[0]:.2f}, {click[1]:.2f})**")
                show_digits(decode_codes(cached.load(ctx.path).model, [click]), 1, width=140)
            elif method == "none":
                st.caption("Click anywhere on the map to decode that spot.")
            if len(selected) == 1 and st.session_state.get("clicked") != int(selected[0]):
                st.session_state["clicked"] = st.session_state["point"] = int(selected[0])
            if len(selected):
                st.markdown(f"**{len(selected)} selected**")
                first = selected[:30]
                show_pairs(data.images[first], cached.reconstructions(ctx.path, ctx.dataset, split)[first], 10,
                           caption=f"digits over their reconstructions{' (the first 30)' if len(selected) > 30 else ''}")
                st.download_button("Download selection (CSV)",
                                   selection_csv(selected, data.labels[selected], xy[selected]), "selection.csv",
                                   "text/csv", key="download")
            else:
                st.caption("Select digits with a click, or the box or lasso in the chart's toolbar.")

        st.subheader("Nearest neighbours")
        st.session_state["point"] = min(int(st.session_state.get("point", 0)), len(codes) - 1)
        point = st.number_input("Digit (index in the split; clicking a digit on the map picks it)",
                                0, len(codes) - 1, key="point")
        for column, (space, points) in zip(st.columns(2), (("code", codes), ("pixel", data.images))):
            near, dist = nearest_neighbours(points, point, k=8)
            with column:
                show_digits(data.images[[point, *near]], 9, width=540,
                            caption=f"#{point} (digit {data.labels[point]}), then its 8 nearest in "
                                    f"{space} space: digits {' '.join(map(str, data.labels[near]))}")
