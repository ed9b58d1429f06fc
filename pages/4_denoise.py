"""Denoise: corrupt a test digit, a drawing or an uploaded picture; compare the denoising model,
a plain model and the median filter (PSNR, SSIM, a PSNR curve, the codes on the map)."""
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import streamlit as st

import ui
from aecore import explore, plots
from aecore.images import ImageError

try:
    from streamlit_drawable_canvas import st_canvas
except Exception:  # noqa: BLE001 -- the page still works with uploads
    st_canvas = None


@st.cache_data(show_spinner="Measuring PSNR at 7 noise levels on 200 test digits…", max_entries=32)
def psnr_curve(models: tuple, stamps: tuple, dataset: str, kind: str, seed: int) -> dict:
    clean = ui.dataset(dataset, ui.test_split()).images[:200]
    return explore.psnr_curve(clean, kind, {label: ui.load(p).model for label, p in models}, seed)


def random_digit(count: int, seed: int) -> None:
    clicks = st.session_state["_random_clicks"] = st.session_state.get("_random_clicks", 0) + 1
    st.session_state["digit_index"] = int(np.random.default_rng([seed, clicks]).integers(count))


def pick_input(test, seed: int) -> np.ndarray:
    """The clean (28, 28) input in [0, 1] from the chosen source; stops the page when none yet."""
    source = st.radio("Input", ["Test digit", "Draw", "Upload"], horizontal=True, key="source")
    if source == "Draw" and st_canvas is None:
        st.info("The drawing canvas could not be loaded here; upload a picture of a digit instead.")
        source = "Upload"
    if source == "Test digit":
        c = st.columns([1, 1, 1])
        cls = c[0].selectbox("Class", ["any", *test.classes], key="digit_class")
        pool = np.arange(len(test)) if cls == "any" else \
            np.flatnonzero(test.labels == test.classes.index(cls))
        if st.session_state.get("digit_index", 0) >= len(pool):  # the pool shrank with the class
            st.session_state["digit_index"] = 0
        i = c[1].number_input(f"Index among {len(pool)}", 0, len(pool) - 1, key="digit_index")
        c[2].button("Random digit", key="random_digit", on_click=random_digit, args=(len(pool), seed))
        st.caption(f"Test digit #{pool[i]} ({test.classes[test.labels[pool[i]]]}); "
                   f"random picks use seed {seed}")
        return test.images[pool[i]] / 255.0
    try:
        if source == "Draw":
            st.space("small")  # room for the canvas toolbar, which floats above it
            drawn = st_canvas(stroke_width=18, stroke_color="#ffffff", background_color="#000000",
                              height=280, width=280, drawing_mode="freedraw", return_image_data=True,
                              key="canvas")
            if drawn is not None and drawn.image_data is not None:
                return explore.canvas_input(drawn.image_data)
        elif (file := st.file_uploader("A picture of one digit", key="picture",
                                       type=["png", "jpg", "jpeg", "bmp", "gif", "webp"])) is not None:
            return explore.picture_input(file.getvalue(), name=file.name)
    except ImageError as err:
        if source != "Draw" or "empty" not in str(err):  # a blank canvas is no error
            st.error(str(err))
            st.stop()
    st.info("Draw a digit: white on black, large." if source == "Draw" else
            "Upload a picture of one digit (dark on light or light on dark).")
    st.stop()


st.title("Denoise")
ctx = ui.context()
if ctx is None:
    st.stop()

with ui.guard():
    ckpt = ui.load(ctx.path)
    test = ui.dataset(ctx.dataset, ui.test_split())
    source, settings = st.columns(2)
    with settings:
        kind = st.selectbox("Noise", ["gaussian", "salt_pepper", "masking"], key="noise_kind")
        level = st.slider("Level (sigma, or fraction of pixels)", 0.0, 1.0, 0.5, 0.05, key="noise_level")
        other = ui.pick_other_checkpoint("Plain model", key="twin_denoise",
                                         default_name=ckpt.config.get("about", {}).get("twin"))
    with source:
        clean = pick_input(test, ctx.seed)
    models = {f"{ckpt.model.config.kind} model ({ckpt.name})": ctx.path}
    if other and other != ctx.path:
        models[f"{ui.load(other).model.config.kind} model ({Path(other).name})"] = other
    result = explore.denoise(clean, kind, level, ctx.seed, {k: ui.load(p).model for k, p in models.items()})

    shown = {"input (the 28x28 the model sees)": clean, **result.outputs}
    for col, (name, img) in zip(st.columns(len(shown)), shown.items()):
        with col:
            ui.show_digits(img[None], 1, width=150)
            st.caption(name)
    rows = [f"| {name} | {result.psnr[name]:.1f} | {result.ssim[name]:.3f} |" for name in result.outputs]
    st.markdown("| output | PSNR (dB) | SSIM |\n|---|---|---|\n" + "\n".join(rows))
    st.caption(f"{kind} noise at level {level:.2f}, seed {ctx.seed}; PSNR is capped at 100 dB "
               "(a perfect copy); SSIM 1 = identical structure.")

    left, right = st.columns(2)
    stamps = tuple(ui.load(p).path.joinpath("model.safetensors").stat().st_mtime_ns for p in models.values())
    curve = psnr_curve(tuple(models.items()), stamps, ctx.dataset, kind, ctx.seed)
    fig = go.Figure([go.Scatter(x=curve["levels"], y=v, name=k, mode="lines+markers")
                     for k, v in curve.items() if k != "levels"])
    fig.add_vline(x=level, line_dash="dot")
    fig.update_layout(xaxis_title=f"{kind} level", yaxis_title="mean PSNR (dB), first 200 test digits",
                      height=420, margin={"t": 10}, legend={"orientation": "h", "y": -0.2})
    left.plotly_chart(fig, key="psnr_curve")

    codes = ui.codes(ctx.path, ctx.dataset, ui.test_split())
    points, place = explore.pca_map(codes, ctx.seed)
    fig = plots.latent_scatter(points, np.arange(len(points)), test.labels, test.classes, height=420)
    marks = place(result.codes)  # WebGL like the map's points, or they would hide the marks
    fig.add_trace(go.Scattergl(x=marks[:, 0], y=marks[:, 1], mode="lines+markers+text",
                               name="clean → noisy", text=["clean", "noisy"], textposition="top center",
                               line={"color": "black"},
                               marker={"size": 14, "color": ["black", "red"], "symbol": ["star", "x"]}))
    right.plotly_chart(fig, key="denoise_map")
    right.caption(f"Codes of {ckpt.name}: the clean input (star) and the noisy one (x) on the test map"
                  + ("" if codes.shape[1] <= 2 else f" (PCA, seed {ctx.seed})"))
