"""Latent map: every code of the chosen split as a 2-D scatter (their own plane for 2-D codes,
else PCA, UMAP or t-SNE), selections with their reconstructions, click-to-decode on every map but
t-SNE's, a decoded backdrop, a class filter, finding a point by index, thumbnails, neighbours and
exports (selection as CSV and .npz; the whole map for TensorBoard's projector and as Parquet)."""
import json

import streamlit as st

from aecore.latent.projections import map_caption
from aecore.pictures import plots
from aecore.pictures.columns import describe, first_columns, format_values
from ui import cached, colourings, jobs, maps
from ui.display import show_digits, show_pairs
from ui.exports import map_downloads, selection_downloads
from ui.frame import guard
from ui.map_spec import MapSpec
from ui.text import plain
from ui.widgets import context, projection_controls, select_shown

SPLITS = {"test": "test", "all": "train + test"}


def the_map(spec: MapSpec, data, thumbs: bool, backdrop: bool, shown: list, find) -> None:
    """The map, the decoded spot or the selection beside it, and the whole map's exports."""
    item, method, xy = data.item, spec.projection, spec.xy()
    fig = maps.map_figure(spec, thumbs, maps.BACKDROP if backdrop else 0,
                          tuple(data.classes.index(c) for c in shown) if shown else None,
                          **({} if find is None else {"marked": (int(find),), "marks_name": f"#{find}"}))
    left, right = st.columns([3, 2])
    with left:
        event = st.plotly_chart(fig, on_select="rerun", selection_mode=("points", "box", "lasso"), key="map")
    selected, click = plots.selection_indices(event)
    with right:
        if click is not None:
            st.markdown(f"**Decoded at ({click[0]:.2f}, {click[1]:.2f})**")
            show_digits(maps.decode_at(spec, [click]), 1, width=140)
        elif method in maps.INVERTIBLE:
            st.caption("Click anywhere on the map to decode that spot" +
                       ("." if method == "none" else f" (through the {method} map's inverse)."))
        if len(selected) == 1 and st.session_state.get("clicked") != int(selected[0]):
            st.session_state["clicked"] = st.session_state["point"] = int(selected[0])
        if len(selected):
            st.markdown(f"**{len(selected)} selected**")
            first = selected[:30]
            show_pairs(data.images[first], cached.reconstruct(spec.checkpoint, spec.dataset, first, spec.split), 10,
                       caption=f"{item}s over their reconstructions{' (the first 30)' if len(selected) > 30 else ''}")
            selection_downloads(spec.checkpoint, spec.dataset, spec.split, selected, xy)
        else:
            st.caption(f"Select {item}s with a click, or the box or lasso in the chart's toolbar.")
    with st.expander("Export the whole map"):
        map_downloads(spec.checkpoint, spec.dataset, spec.split, method, spec.seed,
                      json.dumps(spec.options, sort_keys=True))


def neighbour_caption(data, point: int, near, space: str, column: str | None) -> str:
    """What a neighbour strip shows: the point's class and a few of its columns, its neighbours'
    classes, and their values of the coloured column (else the first column)."""
    columns = data.columns
    joiner = " " if max(map(len, data.classes)) == 1 else ", "
    names = joiner.join(plain(data.classes[c]) for c in data.labels[near])
    own = describe(columns, point, column)
    caption = (f"#{point} ({data.label} {plain(data.classes[data.labels[point]])}{'; ' + plain(own) if own else ''}), "
               f"then its {len(near)} nearest in {space} space: {names}")
    for name in first_columns(columns, column, 1):
        caption += f"; {plain(name)}: " + ", ".join(plain(v) for v in format_values(columns[name][near]))
    return caption


with guard():
    ctx = context()
    if ctx:
        st.title("Latent map")
        n_train, n_test = (cached.size(ctx.dataset, s) for s in ("train", "test"))
        sizes = {"test": n_test, "all": n_train + n_test}  # the train split is loaded only when "all" is chosen
        controls = st.columns([1.35, 1, 1, 1, 2])  # the first holds "train + test (70,000)"; the last a
        # colouring's whole name ("neighbour preservation", a column's)
        split = controls[0].selectbox("Points", list(SPLITS), key="split",
                                      format_func=lambda s: f"{SPLITS[s]} ({sizes[s]:,})")
        data, codes = cached.dataset(ctx.dataset, split), cached.codes(ctx.path, ctx.dataset, split)
        item = data.item
        method, params = projection_controls(codes.shape[1], controls[1:])
        colour = select_shown(controls[4], "Colour by", colourings.options(data), key="colour",
                              help=colourings.COLOUR_HELP)
        view = st.columns([2.6, 1, 1.5, 1.2])  # "Decoded backdrop" and "Thumbnails" whole
        plural = "classes" if data.label == "class" else f"{data.label}s"
        shown = view[0].multiselect(f"Show {plural} (the rest greyed)", data.classes, key="filter",
                                    placeholder=f"every {data.label}")
        if (st.session_state.get("find") or 0) >= len(codes):  # fewer points than before
            st.session_state["find"] = None
        find = view[1].number_input(f"Find {item} #", 0, len(codes) - 1, None, key="find",
                                    placeholder="index", help="Ring one point by its index in the points")
        backdrop = view[2].checkbox("Decoded backdrop", key="backdrop", disabled=method not in maps.INVERTIBLE,
                                    help=f"{maps.BACKDROP} x {maps.BACKDROP} images decoded over the map "
                                         "(not for t-SNE, which cannot be inverted)")
        thumbs = view[3].checkbox("Thumbnails", key="thumbs",
                                  help=f"Up to {maps.THUMBS} {item}s drawn on top of the map, one per patch of it, "
                                       "each framed in its class's colour when the map is coloured by class: what each region holds")
        st.caption(f"All {len(codes):,} {item}s of {ctx.dataset} ({'the test split' if split == 'test' else 'train and test'}): "
                   f"{map_caption(method, codes.shape[1], ctx.seed, params)}.")
        spec = MapSpec.of(ctx.path, ctx.dataset, split, method, ctx.seed, params, colour)
        if jobs.ready(maps.needs(spec), "map"):
            the_map(spec, data, thumbs, backdrop, shown, find)

        st.subheader("Nearest neighbours")
        st.session_state["point"] = min(int(st.session_state.get("point", 0)), len(codes) - 1)
        point = st.number_input(f"{item.capitalize()} (index in the points; clicking one on the map picks it)",
                                0, len(codes) - 1, key="point")
        searches = (("code", cached.code_neighbours(ctx.path, ctx.dataset, split, point)),
                    ("pixel", cached.pixel_neighbours(ctx.dataset, split, point)))
        for column, (space, (near, _)) in zip(st.columns(2), searches):
            with column:
                show_digits(data.images[[point, *near]], 9, width=540,
                            caption=neighbour_caption(data, point, near, space, colourings.column_of(colour)))
