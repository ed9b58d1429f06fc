"""Attribute vectors: a direction in code space from two groups (two classes, or two selections
made on the map), a test image moved along it, and the same for a drawn digit."""
import numpy as np
import streamlit as st

from aecore.latent import decode_codes, encode_dataset
from aecore.latent.directions import along, attribute_vector
from aecore.latent.projections import default_method, map_caption
from aecore.pictures import plots
from aecore.pictures.inputs import ImageError, canvas_input
from aecore.pictures.pixels import image_stack
from ui import cached, maps
from ui.canvas import drawing
from ui.display import show_digits
from ui.frame import guard
from ui.map_spec import MapSpec
from ui.text import plain, with_article
from ui.widgets import require_context


def take_selection(group: str) -> None:
    """Button callback: the points selected on the map become group A or B."""
    st.session_state[group] = plots.selection_indices(st.session_state.get("steer_map"))[0].tolist()


def groups(data, path: str, name: str, seed: int, d: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(group A, group B as boolean masks over the test split, what they are) from the chosen source."""
    if st.radio("Groups", ["two classes", "two selections"], horizontal=True, key="steer_source") == "two classes":
        c = st.columns(2)
        a = c[0].selectbox(f"From {data.label} (A)", data.classes, index=0, key="steer_class_a")
        b = c[1].selectbox(f"To {data.label} (B)", data.classes, index=min(1, len(data.classes) - 1), key="steer_class_b")
        return data.labels == data.classes.index(a), data.labels == data.classes.index(b), f"{plain(a)} → {plain(b)}"
    method = default_method(d)
    fig = maps.map_figure(MapSpec.of(path, name, projection=method, seed=seed), height=460)
    st.plotly_chart(fig, on_select="rerun", selection_mode=("points", "box", "lasso"), key="steer_map")
    c = st.columns(2)
    c[0].button("Selection → group A", key="steer_take_a", on_click=take_selection, args=("steer_a",))
    c[1].button("Selection → group B", key="steer_take_b", on_click=take_selection, args=("steer_b",))
    masks = []
    for group in ("steer_a", "steer_b"):
        mask = np.zeros(len(data), bool)
        mask[[i for i in st.session_state.get(group, []) if i < len(data)]] = True
        masks.append(mask)
    st.caption(f"Group A: {masks[0].sum()} {data.item}s, group B: {masks[1].sum()} (box or lasso on the map, "
               f"then a button). Map: {map_caption(method, d, seed)}.")
    return masks[0], masks[1], "selection A → selection B"


def drawn_code(model):
    """The code of the digit drawn on the canvas (MNIST-style, at the grey model's own size), or
    None when nothing is drawn."""
    try:
        pixels = drawing("steer_canvas", 200)
        image = None if pixels is None else canvas_input(pixels, model.image_shape)
    except ImageError as err:
        if "empty" not in str(err):  # an empty canvas is no error
            st.error(str(err))
        image = None
    return None if image is None else encode_dataset(model, image[None])[0]


st.title("Attribute vectors")
ctx = require_context()

with guard():
    model, data = cached.load(ctx.path).model, cached.dataset(ctx.dataset)
    codes = cached.codes(ctx.path, ctx.dataset)
    a, b, what = groups(data, ctx.path, ctx.dataset, ctx.seed, codes.shape[1])
    if not a.any() or not b.any():
        st.info("Put some points in both groups to get a direction.")
        st.stop()
    direction = attribute_vector(codes, a, b)
    st.caption(f"Direction {what}: the mean code of B minus that of A ({a.sum()} and {b.sum()} {data.item}s; "
               f"length {np.linalg.norm(direction):.2f}). Amount 1 adds it once.")
    c = st.columns(3)
    index = c[0].number_input(f"Test {data.item}", 0, len(codes) - 1, int(np.flatnonzero(a)[0]), key="steer_index")
    steps = c[1].slider("Steps", 3, 15, 9, 2, key="steer_steps")
    reach = c[2].slider("Amounts up to ±", 0.5, 3.0, 1.5, 0.25, key="steer_reach")
    amounts, path = along(codes[index], direction, steps, reach)
    labels = ", ".join(f"{t:+.2f}" for t in amounts)
    show_digits(np.concatenate([image_stack(data.images[index][None]), decode_codes(model, path)]), steps + 1,
                width=70 * (steps + 1), caption=f"#{index} ({plain(data.classes[data.labels[index]])}), then decoded "
                                                f"at amounts {labels}")
    if model.image_shape.colour:  # a drawing is one channel of ink: nothing to move for a colour model
        st.stop()
    st.subheader(f"Your own {data.item}")
    left, right = st.columns([1, 3])
    with left:
        z = drawn_code(model)
    if z is not None:
        with right:
            show_digits(decode_codes(model, along(z, direction, steps, reach)[1]), steps, width=70 * steps,
                        caption=f"the drawing, decoded at amounts {labels}")
    else:
        right.caption(f"Draw {with_article(data.item)} (white on black, large) to move it along the same direction.")
