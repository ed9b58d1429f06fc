"""Units: how the code units are used (activation histograms against a twin, activation
frequency, dead units), what the first layer looks at, what each unit draws, and one unit up close."""
import streamlit as st

from aecore.latent import units
from aecore.pictures import plots
from ui import cached
from ui.display import show_digits
from ui.frame import guard
from ui.text import with_article
from ui.widgets import companion, pick_other_checkpoint, require_context

st.title("Units")
ctx = require_context()

with guard():
    ckpt = cached.load(ctx.path)
    model, d = ckpt.model, ckpt.model.latent_dim
    test = cached.dataset(ctx.dataset)
    codes = cached.codes(ctx.path, ctx.dataset)
    default = companion(ctx.path, (ckpt.config.get("about") or {}).get("twin"))
    twin = pick_other_checkpoint("Compare with", key="twin", path=ctx.path, default=default)
    if default is None:
        st.caption(f"No other checkpoint here was trained on {cached.trained_on(ctx.path) or 'the same data'}; "
                   "pick one above to compare its units.")
    runs = {f"{ckpt.name} ({model.kind})": units.code_activity(codes)}
    if twin and twin != ctx.path:
        other = cached.load(twin)
        runs[f"{other.name} ({other.model.kind})"] = units.code_activity(cached.codes(twin, ctx.dataset))

    cols = st.columns(2 * len(runs))
    for i, (name, (stats, _)) in enumerate(runs.items()):
        cols[2 * i].metric(f"Dead units · {name}", f"{stats['dead_units']} of {len(stats['unit_frequency'])}")
        cols[2 * i + 1].metric(f"Active per {test.item}", f"{stats['active_fraction']:.0%}")
    st.plotly_chart(plots.histograms_side_by_side({name: hist for name, (_, hist) in runs.items()}), key="units_hist")
    st.plotly_chart(plots.unit_frequency({name: s["unit_frequency"] for name, (s, _) in runs.items()}, test.item),
                    key="units_freq")
    st.caption(f"All code values of the {len(codes):,} test {test.item}s. A unit is active on {with_article(test.item)} when "
               f"|z| > {units.ACTIVE_THRESHOLD}; dead units are active on none.")

    filters, note = units.first_layer_filters(model)
    if len(filters):
        show_digits(filters, ncols=16, caption=note)
    else:
        st.info(note)
    show_digits(units.unit_drawings(model, codes), ncols=min(d, 16),
                caption=f"What each code unit draws: the decoder's image of {units.drawing_rule(model, test.item)}")

    st.subheader("One unit")
    unit = st.selectbox("Unit", list(range(d)), format_func=lambda u: f"unit {u}", key="unit")
    view = units.unit_view(model, codes, test.images, unit)
    left, mid, right = st.columns([2, 1, 1])
    left.plotly_chart(plots.unit_histogram(view.hist, unit, test.item), key="unit_hist")
    with mid:
        if view.weight is None:
            st.info(view.weight_note)
        else:
            show_digits(view.weight[None], 1, width=170, caption=view.weight_note)
    with right:
        show_digits(view.drawing[None], 1, width=170, caption="what it draws")
    st.caption(f"Unit {unit} (active on {view.frequency:.0%} of {test.item}s): the {len(view.top)} test {test.item}s "
               f"that excite it most, activations {view.top_values[0]:.2f} down to {view.top_values[-1]:.2f}")
    show_digits(test.images[view.top], ncols=12)
