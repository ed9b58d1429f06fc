"""Denoise: corrupt a test image, a drawing (grey models) or an uploaded picture (for colour
models a photo, centre-cropped and resized to the model's shape); compare the denoising model, a
plain model and the median filter (PSNR, SSIM, a PSNR curve, the codes on the map)."""
from pathlib import Path

import numpy as np
import streamlit as st

from aecore.latent import fitted_map
from aecore.latent.codec import image_shape_of
from aecore.latent.projections import axis_names, default_method, map_caption
from aecore.measure.denoise import denoise
from aecore.pictures import plots
from aecore.pictures.inputs import ImageError, canvas_input, photo_input, picture_input
from aecore.pictures.noise import NOISES
from aecore.pictures.pixels import ImageShape, unit_float
from ui import cached
from ui.canvas import drawing
from ui.display import show_digits
from ui.frame import guard
from ui.text import plain, with_article
from ui.widgets import companion, pick_other_checkpoint, require_context


def random_digit(count: int, seed: int) -> None:
    clicks = st.session_state["_random_clicks"] = st.session_state.get("_random_clicks", 0) + 1
    st.session_state["digit_index"] = int(np.random.default_rng([seed, clicks]).integers(count))


def uploaded(test, shape: ImageShape) -> np.ndarray | None:
    """An uploaded picture as the model's input: MNIST-style for a grey model, a photo fitted to
    a colour model's shape (with a caption saying how); None before an upload."""
    what = f"A picture of one {test.item}" if not shape.colour else "A photo or picture (any size)"
    file = st.file_uploader(what, key="picture", type=["png", "jpg", "jpeg", "bmp", "gif", "webp"])
    if file is None:
        return None
    if not shape.colour:
        return picture_input(file.getvalue(), name=file.name, shape=shape)
    photo = photo_input(file.getvalue(), shape, name=file.name)
    st.caption(f"Your picture: {photo.note}.")
    return photo.image


def pick_input(test, seed: int, shape: ImageShape) -> np.ndarray:
    """The clean input (the model's shape, in [0, 1]) from the chosen source; stops the page
    when none yet. A colour model has no canvas: one draws white strokes on black."""
    test_item = f"Test {test.item}"
    sources = [test_item, "Upload"] if shape.colour else [test_item, "Draw", "Upload"]
    source = st.radio("Input", sources, horizontal=True, key="source_colour" if shape.colour else "source")
    if source == test_item:
        c = st.columns([1, 1, 1])
        cls = c[0].selectbox(test.label.capitalize(), ["any", *test.classes], key="digit_class")
        pool = np.arange(len(test)) if cls == "any" else \
            np.flatnonzero(test.labels == test.classes.index(cls))
        if st.session_state.get("digit_index", 0) >= len(pool):  # the pool shrank with the class
            st.session_state["digit_index"] = 0
        i = c[1].number_input(f"Index among {len(pool)}", 0, len(pool) - 1, key="digit_index")
        c[2].button(f"Random {test.item}", key="random_digit", on_click=random_digit, args=(len(pool), seed))
        st.caption(f"Test {test.item} #{pool[i]} ({plain(test.classes[test.labels[pool[i]]])}); "
                   f"random picks use seed {seed}")
        return unit_float(test.images[pool[i]])
    try:
        if source == "Draw":
            if (pixels := drawing("canvas", 280)) is not None:
                return canvas_input(pixels, shape)
        elif (picture := uploaded(test, shape)) is not None:
            return picture
    except ImageError as err:
        if source != "Draw" or "empty" not in str(err):  # a blank canvas is no error
            st.error(str(err))
            st.stop()
    st.info(f"Draw {with_article(test.item)}: white on black, large." if source == "Draw" else
            f"Upload a picture of one {test.item} (dark on light or light on dark)." if not shape.colour else
            f"Upload a photo or picture of any size: its centre is cropped to the model's proportions and "
            f"resized to its {shape.height}x{shape.width} pixels.")
    st.stop()


def scores_table(result) -> str:
    """The PSNR / SSIM table as markdown; SSIM is '—' where it is not measured (under 11 x 11)."""
    def ssim(v):
        return "—" if v is None else f"{v:.3f}"
    rows = [f"| {name} | {result.psnr[name]:.1f} | {ssim(result.ssim[name])} |" for name in result.outputs]
    return "| output | PSNR (dB) | SSIM |\n|---|---|---|\n" + "\n".join(rows)


st.title("Denoise")
ctx = require_context()

with guard():
    ckpt = cached.load(ctx.path)
    test = cached.dataset(ctx.dataset)
    shape = image_shape_of(ckpt.model)
    source, settings = st.columns(2)
    with settings:
        kind = st.selectbox("Noise", list(NOISES), key="noise_kind")
        level = st.slider("Level (sigma, or fraction of pixels)", 0.0, 1.0, 0.5, 0.05, key="noise_level")
        default = companion(ctx.path, (ckpt.config.get("about") or {}).get("twin"))
        other = pick_other_checkpoint("Compare with", key="twin_denoise", path=ctx.path, default=default)
        if default is None:
            st.caption(f"No other checkpoint here was trained on {cached.trained_on(ctx.path) or 'the same data'}; "
                       "pick one above to compare with, or see the median filter alone.")
    with source:
        clean = pick_input(test, ctx.seed, shape)
    models = {f"{ckpt.model.kind} model ({ckpt.name})": ctx.path}
    if other and other != ctx.path:
        models[f"{cached.load(other).model.kind} model ({Path(other).name})"] = other
    result = denoise(clean, kind, level, ctx.seed, {k: cached.load(p).model for k, p in models.items()})

    seen = f"{shape.height}x{shape.width}" + (" colour" if shape.colour else "")
    shown = {f"input (the {seen} the model sees)": clean, **result.outputs}
    for col, (name, img) in zip(st.columns(len(shown)), shown.items()):
        with col:
            show_digits(img[None], 1, width=150)
            st.caption(name)
    st.markdown(scores_table(result))
    ssim_note = ("SSIM 1 = identical structure" + ("; for colour, the mean of the three channels' SSIMs" if shape.colour else "")
                 if min(shape.height, shape.width) >= 11 else "no SSIM: its 11x11 window needs images of 11 pixels a side")
    st.caption(f"{kind} noise at level {level:.2f}, seed {ctx.seed}"
               + (", on each colour channel on its own" if shape.colour else "")
               + f"; PSNR is capped at 100 dB (a perfect copy); {ssim_note}.")

    left, right = st.columns(2)
    curve = cached.psnr_curve(models, ctx.dataset, kind, ctx.seed)
    left.plotly_chart(plots.psnr_curves(curve, kind, level, test.item), key="psnr_curve")

    codes = cached.codes(ctx.path, ctx.dataset)
    points, projection = fitted_map(codes, ctx.seed)
    fig = plots.latent_scatter(points, np.arange(len(points)), test.labels, test.classes, height=420, label=test.label,
                               axis_names=axis_names(default_method(codes.shape[1]), codes.shape[1]))
    plots.add_clean_and_noisy(fig, projection.transform(result.codes))
    right.plotly_chart(fig, key="denoise_map")
    right.caption(f"Codes of {ckpt.name}: the clean input (star) and the noisy one (x) on the test map"
                  + f" ({map_caption(default_method(codes.shape[1]), codes.shape[1], ctx.seed)})")
