"""Generate: samples, an interpolation drawn on the map (pick its ends by index or by clicking),
code sliders, and for 1- or 2-D codes the decoded manifold."""
import numpy as np
import streamlit as st

from aecore.latent import code_ranges, decode_codes, fitted_map, interpolation, manifold, sample_images
from aecore.latent.projections import axis_names, default_method, map_caption
from aecore.pictures import plots
from aecore.pictures.images import gif_bytes
from ui import cached
from ui.display import show_digits
from ui.frame import guard
from ui.text import plain, with_article
from ui.widgets import require_context

DIMS = [f"dim_{i}" for i in range(10)]


def take_map_clicks() -> None:
    """Points clicked on the map set A, then B (a selection of two sets both). Runs before the
    number inputs exist, so it may set their values."""
    picked = [int(i) for i in plots.selection_indices(st.session_state.get("interp_map"))[0]]
    if tuple(picked) == st.session_state.get("_picked", ()):
        return
    st.session_state["_picked"] = tuple(picked)
    if len(picked) >= 2:
        st.session_state["interp_a"], st.session_state["interp_b"] = picked[:2]
    elif picked:
        turn = st.session_state.get("_turn", "interp_a")
        st.session_state[turn] = picked[0]
        st.session_state["_turn"] = "interp_b" if turn == "interp_a" else "interp_a"


def start_from(code, low, high) -> None:
    st.session_state["_base"] = code
    for key, value, lo, hi in zip(DIMS, code, low, high):
        st.session_state[key] = float(np.clip(value, lo, hi))


st.title("Generate")
ctx = require_context()

with guard():
    model = cached.load(ctx.path).model
    d = model.latent_dim
    test = cached.dataset(ctx.dataset)
    codes = cached.codes(ctx.path, ctx.dataset)
    if st.session_state.get("_generate_for") != (ctx.path, ctx.dataset):  # ranges changed
        for key in DIMS + ["interp_a", "interp_b", "_base", "_picked"]:
            st.session_state.pop(key, None)
        st.session_state["_generate_for"] = (ctx.path, ctx.dataset)

    st.subheader("Samples")
    n = st.slider("Samples", 4, 64, 16, step=4, key="n_samples")
    train = None if model.has_prior else cached.codes(ctx.path, ctx.dataset, "train")
    prior = "the prior N(0, I)" if model.has_prior else "a Gaussian fitted to the train codes"
    show_digits(sample_images(model, n, ctx.seed, train), ncols=16,
                caption=f"{n} samples from {prior} · seed {ctx.seed} (sidebar)")

    st.subheader("Interpolate")
    take_map_clicks()
    # no value= on widgets that callbacks or map clicks set: their defaults live in session state
    st.session_state.setdefault("interp_b", min(1, len(codes) - 1))
    c = st.columns(4)
    a = c[0].number_input(f"{test.item.capitalize()} A (test index)", 0, len(codes) - 1, key="interp_a")
    b = c[1].number_input(f"{test.item.capitalize()} B (test index)", 0, len(codes) - 1, key="interp_b")
    steps = c[2].slider("Steps", 2, 24, 8, key="interp_steps")
    method = c[3].radio("Path", ["linear", "slerp"], horizontal=True, key="interp_method")
    path, frames = interpolation(model, codes[a], codes[b], steps, method)
    points, projection = fitted_map(codes, ctx.seed)
    fig = plots.latent_scatter(points, np.arange(len(points)), test.labels, test.classes, height=460, label=test.label,
                               axis_names=axis_names(default_method(d), d))
    plots.add_path(fig, projection.transform(path))
    st.caption(f"Click {with_article(test.item)} to make it A, the next click makes it B (or box-select two). "
               f"Map: {map_caption(default_method(d), d, ctx.seed)}.")
    st.plotly_chart(fig, key="interp_map", on_select="rerun", selection_mode=("points", "box"))
    cls = test.classes
    st.caption(f"{steps} frames, {method}, from test {test.item} #{a} ({plain(cls[test.labels[a]])}) "
               f"to #{b} ({plain(cls[test.labels[b]])})")
    show_digits(frames, ncols=steps)
    # made when clicked, not on every rerun: a colour GIF's palettes cost more than the page's pictures
    st.download_button("Download as animated GIF", lambda: gif_bytes(frames, duration_ms=120),
                       file_name=f"interpolation-{a}-{b}.gif", mime="image/gif", key="interp_gif",
                       on_click="ignore")

    st.subheader(f"Move a code (units 0-{min(d, 10) - 1} of {d})")
    low, high, mean = code_ranges(codes)
    st.button(f"Start from {test.item} A", key="dims_from_a", on_click=start_from, args=(codes[a], low, high))
    base = st.session_state.get("_base", codes.mean(axis=0))
    z = np.array(base, np.float32)
    left, right = st.columns([3, 1])
    halves = left.columns(2)
    for i in range(len(low)):
        st.session_state.setdefault(DIMS[i], float(mean[i]))
        z[i] = halves[i % 2].slider(f"unit {i}", float(low[i]), float(high[i]),
                                    step=float(high[i] - low[i]) / 100, key=DIMS[i])
    with right:
        show_digits(decode_codes(model, z), 1, caption="decoded", width=200)

    if d <= 2:  # a code space that is a plane or a line can be decoded all over
        st.subheader("The decoded manifold")
        grid, (x0, x1, y0, y1) = manifold(model, codes, n=15)
        spread = "the prior's 5% to 95% quantiles" if model.has_prior else "the map's range"
        where = (f"a 15 x 15 grid over {spread}: x {x0:.2f} to {x1:.2f}, y {y0:.2f} to {y1:.2f} (top row: largest y)"
                 if d == 2 else f"15 evenly spaced points of the line over {spread}: z1 {x0:.2f} to {x1:.2f}")
        show_digits(grid, ncols=15, width=900, caption=f"codes on {where}")
