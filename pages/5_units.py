"""Units: how the code units are used (activation histograms against a twin, activation
frequency, dead units), what the first layer looks at, what each unit draws, and one unit up close."""
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

import ui
from aecore import explore


def bars(hist, name):
    return go.Bar(x=hist.centres, y=hist.fractions, width=hist.width, name=name, showlegend=False)


st.title("Units")
ctx = ui.context()
if ctx is None:
    st.stop()

with ui.guard():
    ckpt = ui.load(ctx.path)
    model, d = ckpt.model, ckpt.model.config.latent_dim
    test = ui.dataset(ctx.dataset, ui.test_split())
    codes = ui.codes(ctx.path, ctx.dataset, ui.test_split())
    twin = ui.pick_other_checkpoint("Compare with", key="twin",
                                    default_name=ckpt.config.get("about", {}).get("twin"))
    runs = {f"{ckpt.name} ({model.config.kind})": explore.code_activity(codes)}
    if twin and twin != ctx.path:
        other = ui.load(twin)
        runs[f"{other.name} ({other.model.config.kind})"] = \
            explore.code_activity(ui.codes(twin, ctx.dataset, ui.test_split()))

    cols = st.columns(2 * len(runs))
    for i, (name, (stats, _)) in enumerate(runs.items()):
        dead = f"{stats['dead_units']} of {len(stats['unit_frequency'])}"
        cols[2 * i].metric(f"Dead units · {name}", dead)
        cols[2 * i + 1].metric("Active per digit", f"{stats['active_fraction']:.0%}")
    fig = make_subplots(rows=1, cols=len(runs), subplot_titles=list(runs))
    for i, (name, (_, hist)) in enumerate(runs.items()):
        fig.add_trace(bars(hist, name), row=1, col=i + 1)
    fig.update_layout(height=300, margin={"t": 30, "b": 10}, yaxis_title="fraction of code values")
    st.plotly_chart(fig, key="units_hist")
    stats = runs[next(iter(runs))][0]
    fig = go.Figure(go.Bar(x=list(range(d)), y=stats["unit_frequency"]))
    fig.update_layout(height=260, margin={"t": 10, "b": 10}, xaxis_title="unit",
                      yaxis_title="fraction of digits active")
    st.plotly_chart(fig, key="units_freq")
    st.caption(f"All code values of the {len(codes):,} test digits. A unit is active on a digit when "
               f"|z| > {explore.ACTIVE_THRESHOLD}; dead units are active on none.")

    filters, note = explore.first_layer_filters(model)
    ui.show_digits(filters, ncols=16, caption=note)
    ui.show_digits(explore.unit_drawings(model, codes), ncols=min(d, 16),
                   caption=f"What each code unit draws: the decoder's image of {explore.drawing_rule(model)}")

    st.subheader("One unit")
    unit = st.selectbox("Unit", list(range(d)), format_func=lambda u: f"unit {u}",
                        key="unit")
    view = explore.unit_view(model, codes, test.images, unit)
    left, mid, right = st.columns([2, 1, 1])
    fig = go.Figure(bars(view.hist, f"unit {unit}"))
    fig.update_layout(height=260, margin={"t": 10, "b": 10}, xaxis_title=f"unit {unit} value",
                      yaxis_title="fraction of digits")
    left.plotly_chart(fig, key="unit_hist")
    with mid:
        ui.show_digits(view.weight[None], 1, width=170, caption="input gradient (weight image)")
    with right:
        ui.show_digits(view.drawing[None], 1, width=170, caption="what it draws")
    st.caption(f"Unit {unit} (active on {view.frequency:.0%} of digits): the {len(view.top)} test digits "
               f"that excite it most, activations {view.top_values[0]:.2f} down to {view.top_values[-1]:.2f}")
    ui.show_digits(test.images[view.top], ncols=12)
