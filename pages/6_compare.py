"""Compare: two checkpoints, or one at two settings, on the same data. The maps side by side; a
selection on one rings the same points on the other; the selection's reconstructions by both;
both metrics tables; and where the two maps disagree most (neighbours that differ)."""
from pathlib import Path

import numpy as np
import streamlit as st

from aecore.latent.projections import map_caption
from aecore.measure.disagreement import most_disagreeing
from aecore.pictures import plots
from aecore.pictures.pixels import image_stack
from ui import cached, colourings, jobs, maps
from ui.display import show_digits
from ui.cached import TEST
from ui.frame import guard
from ui.map_spec import MapSpec
from ui.tables import metrics_table
from ui.widgets import companion, pick_other_checkpoint, projection_controls, require_context, select_shown

SIDES = {"a": "A", "b": "B"}
SHOWN = 12  # selected points whose reconstructions are shown

st.title("Compare")
ctx = require_context()

with guard():
    data = cached.dataset(ctx.dataset)
    top = st.columns([2, 1, 1])  # the first holds "disagreement (neighbours that differ)" whole
    colour = select_shown(top[0], "Colour by",
                          colourings.options(data, {"disagreement": "disagreement (neighbours that differ)"}),
                          key="cmp_colour")
    source = top[1].radio("Select on", list(SIDES), format_func=lambda s: f"map {SIDES[s]}", horizontal=True,
                          key="cmp_source", help="Select points on this map; the other map rings the same points.")
    specs, ready, columns = {}, {}, st.columns(2)
    twin = companion(ctx.path, (cached.summary(ctx.path)[0].get("about") or {}).get("twin"))
    for side, column in zip(SIDES, columns):
        with column:
            path = pick_other_checkpoint(f"Model {SIDES[side]}", f"cmp_{side}_ckpt", ctx.path,
                                         ctx.path if side == "a" else twin or ctx.path, none=False)
            method, params = projection_controls(cached.codes(path, ctx.dataset).shape[1], st.columns(3), f"cmp_{side}_")
            specs[side] = MapSpec.of(path, ctx.dataset, TEST, method, ctx.seed, params, colour)
            ready[side] = jobs.ready(maps.needs(specs[side]), f"cmp_{side}_job")
    if not all(ready.values()):
        st.stop()  # the rest compares the two maps: it follows once both are made
    if specs["a"] == specs["b"]:
        st.info("Both sides show the same map: pick another checkpoint or projection for one of them.")
    other = "b" if source == "a" else "a"
    event = columns[list(SIDES).index(source)].plotly_chart(
        maps.map_figure(specs[source], against=specs[other], height=520),
        on_select="rerun", selection_mode=("points", "box", "lasso"), key=f"cmp_{source}_map")
    selected = plots.selection_indices(event)[0]
    columns[list(SIDES).index(other)].plotly_chart(
        maps.map_figure(specs[other], marked=tuple(selected.tolist()), marks_name=f"selected on {SIDES[source]}",
                        against=specs[source], height=520),
        key=f"cmp_{other}_view")
    for side, column in zip(SIDES, columns):
        spec = specs[side]
        column.caption(f"{Path(spec.checkpoint).name}: "
                       f"{map_caption(spec.projection, spec.codes().shape[1], spec.seed, spec.options)}"
                       + (" · select here" if side == source else f" · rings: selected on {SIDES[source]}"))

    if len(selected):
        first = selected[:SHOWN]
        st.subheader(f"{len(selected)} selected: {data.item}s, then their reconstructions by A and by B")
        rows = [image_stack(data.images[first]), *(cached.reconstruct(specs[s].checkpoint, ctx.dataset, first)
                                                     for s in SIDES)]
        show_digits(np.concatenate(rows), len(first), width=60 * len(first),
                    caption=f"top: #{', #'.join(map(str, first))}; middle: A ({Path(specs['a'].checkpoint).name}); "
                            f"bottom: B ({Path(specs['b'].checkpoint).name})")
    else:
        st.caption(f"Select {data.item}s on map {SIDES[source]} (click, box or lasso) to see them on the other map.")

    st.subheader("Where the maps disagree most")
    gap = maps.disagreement(specs["a"], specs["b"])
    worst = most_disagreeing(gap, 20, ctx.seed)
    rule = (f"Per {data.item}: the fraction of its 10 nearest neighbours on map A that are not among its 10 "
            f"nearest on map B")
    if not len(worst):
        st.caption(f"{rule}. The two maps agree on every {data.item}'s neighbours.")
    else:
        tied = int((gap == gap[worst[0]]).sum())
        st.caption(f"{rule}. Mean {gap.mean():.2f}; {(gap > 0).sum():,} of {len(gap):,} disagree at all. "
                   + (f"{tied:,} share the largest value ({gap[worst[0]]:.1f}): {len(worst)} of them, picked "
                      f"with seed {ctx.seed}: " if tied > len(worst) else f"The {len(worst)} most disagreeing, most first: ")
                   + ", ".join(f"#{i} ({gap[i]:.1f})" for i in worst))
        show_digits(data.images[worst], 10, width=870)

    st.subheader("Metrics")
    for side, column in zip(SIDES, st.columns(2)):
        with column:
            ckpt = cached.load(specs[side].checkpoint)
            st.markdown(f"**{SIDES[side]}: {ckpt.name}**")
            metrics_table(ckpt, key=f"cmp_{side}_metrics")
