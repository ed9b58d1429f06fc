"""Traversals: what each code unit encodes. One row per unit, the images decoded as that unit
sweeps from -3 to +3 standard deviations while the others stay at a starting code; units ordered
by how much they matter (a VAE's KL, any other model's code variance), the inactive ones folded
away. The grid downloads as a PNG and as a GIF (one frame per column)."""
import numpy as np
import streamlit as st

from aecore.latent import traversals
from ui import cached
from ui.display import show_digits
from ui.frame import guard
from ui.text import plain
from ui.widgets import require_context

FIRST = 16  # active units shown at once; the rest of them in an expander


@cached.per_checkpoint(st.cache_data(show_spinner="Measuring how much each unit carries…", max_entries=16))
def unit_order(path: str, weights: str, name: str) -> traversals.UnitOrder:
    """traversals.unit_order over the test split of dataset `name` (a VAE's KL needs its images)."""
    return traversals.unit_order(cached.load(path).model, cached.codes(path, name), cached.dataset(name).images)


def show_rows(grid: np.ndarray, units, order: traversals.UnitOrder) -> None:
    """One row of the grid per unit, its caption (unit, KL or variance) beside it."""
    for row, unit in zip(grid, units):
        label, images = st.columns([1, 7], vertical_alignment="center")
        label.markdown(f"**unit {unit}**  \n{order.caption(unit).split(' · ')[1]}")
        with images:
            show_digits(row, ncols=len(row))


st.title("Traversals")
ctx = require_context()

with guard():
    model = cached.load(ctx.path).model
    test = cached.dataset(ctx.dataset)
    codes = cached.codes(ctx.path, ctx.dataset)
    order = unit_order(ctx.path, ctx.dataset)

    c = st.columns([2, 2, 2, 2])
    # a real picture's code by default: a VAE's mean code decodes to a faint average of everything,
    # and a row that starts there shows a unit's reach, not what it changes in a picture
    start_from = c[0].radio("Start from", [f"a test {test.item}", "the mean code"], key="trav_start")
    index = c[1].number_input(f"Test {test.item} (index)", 0, len(codes) - 1, 0, key=f"trav_index_{ctx.dataset}",
                              disabled=start_from == "the mean code")
    steps = c[2].slider("Columns", 3, 15, traversals.STEPS, step=2, key="trav_steps")
    extent = c[3].slider("Range (± standard deviations)", 1.0, 5.0, traversals.EXTENT, step=0.5, key="trav_extent")

    image_start = start_from != "the mean code"
    start = codes[index] if image_start else codes.mean(axis=0)
    values = traversals.sweep(model, codes, steps, extent)
    grid = traversals.traversal(model, start, order.units, values)  # every unit, most important first
    active = len(order.active_units)

    spread = "the prior N(0, 1)" if model.has_prior else f"the unit's codes over the {len(codes):,} test {test.item}s"
    measure = (f"KL to the prior (nats, mean over the test {test.item}s); under {traversals.KL_INACTIVE} is inactive"
               if order.measure == "KL" else
               f"the variance of its codes; under {traversals.VARIANCE_INACTIVE:g} of the largest is inactive")
    source = f"test {test.item} #{index} ({plain(test.classes[test.labels[index]])})" if image_start else "the mean code"
    st.caption(f"Each row moves one unit from −{extent:g} to +{extent:g} standard deviations of {spread} "
               f"({steps} columns) while the others stay at {source}. Units sorted by {measure}.")
    if image_start:
        show_digits(test.images[index:index + 1], ncols=1, width=112, caption=f"the start: {source}")

    shown = order.active_units or order.inactive_units
    downloads = st.columns(2)
    name = f"traversals-{plain(cached.load(ctx.path).name)}"
    downloads[0].download_button("Download the grid (PNG)", traversals.grid_png(grid[:len(shown)]),
                                 file_name=f"{name}.png", mime="image/png", key="trav_png")
    downloads[1].download_button("Download as animated GIF (a frame per column)", traversals.grid_gif(grid[:len(shown)]),
                                 file_name=f"{name}.gif", mime="image/gif", key="trav_gif")

    if active:
        st.subheader(f"{active} active unit{'s' if active != 1 else ''} of {model.latent_dim}")
        show_rows(grid[:FIRST], order.active_units[:FIRST], order)
        if active > FIRST:  # a wide code's long tail: a page of 64 rows hides the ones that matter
            with st.expander(f"{active - FIRST} more active units, carrying less"):
                show_rows(grid[FIRST:active], order.active_units[FIRST:], order)
    else:
        st.info(f"No unit carries anything by this measure ({measure}): all {model.latent_dim} are shown below.")
    if order.inactive_units:
        with st.expander(f"{len(order.inactive_units)} inactive unit{'s' if len(order.inactive_units) != 1 else ''} "
                         "(they change little or nothing)", expanded=not active):
            show_rows(grid[active:], order.inactive_units, order)
