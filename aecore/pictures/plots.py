"""Plotly figures for the app and reports: loss curves and latent maps. Each function takes
arrays and returns (or extends) a go.Figure; nothing here knows about Streamlit.

Latent maps carry the dataset index of every point in `customdata`, so a selection maps back to
images; the invisible click grid carries -1 there.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from .pixels import to_uint8

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]  # one per class, as matplotlib's tab10
GRID = -1  # customdata of the click grid's points
FULL_SIZE_POINTS = 10_000  # a map of up to this many points draws them at full size
BACKDROP_PIXELS = 1024  # the widest decoded backdrop picture: wider than any map on a page


_PLOTLY_MARKUP = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "%": "&#37;", "$": "&#36;"}


def plain_text(text: object) -> str:
    """`text` as plotly shows it as those characters, in a trace name, legend, hover or `text`:
    plotly reads <b>, <a href>, <span style> and entities in them, %{...} in a hovertemplate and
    $...$ as LaTeX; here each of & < > % $ is an entity plotly turns back into the character.
    Every class name goes through it (they come from a dataset's files); ui.text.plain is the
    twin for Streamlit's markdown."""
    return "".join(_PLOTLY_MARKUP.get(ch, ch) for ch in str(text))


def point_scale(n: int) -> float:
    """How much smaller each of n points is drawn than on a map of FULL_SIZE_POINTS: dots shrink
    with the fourth root of the count (0.61 at 70,000), so a dense map keeps its clusters apart
    instead of turning into one blot. It is also what keeps a big map quick where WebGL runs in
    software (no GPU, as on CI and most servers): there the time goes to filling each dot's pixels."""
    return float(min(1.0, (FULL_SIZE_POINTS / max(n, 1)) ** 0.25))


def loss_curves(history: list[dict]) -> go.Figure:
    """One line per loss term, solid for train and dashed for validation, against the epoch. A
    term equal to an earlier one at every epoch (a plain autoencoder's loss is its recon) shares
    that term's lines, named "loss = recon", instead of hiding them under its own."""
    fig = go.Figure()
    epochs = [r["epoch"] for r in history]
    terms = list(dict.fromkeys(t for r in history for t in r.get("train", {})))
    names: dict[tuple, list[str]] = {}  # (train values, val values) -> the terms that have them
    for term in terms:
        both = tuple(tuple(r.get(split, {}).get(term) for r in history) for split in ("train", "val"))
        names.setdefault(both, []).append(term)
    for i, (both, same) in enumerate(names.items()):
        for ys, split, dash in zip(both, ("train", "val"), ("solid", "dash")):
            if any(y is not None for y in ys):
                fig.add_trace(go.Scatter(x=epochs, y=list(ys), name=f"{' = '.join(same)} ({split})",
                                         mode="lines+markers", line=dict(color=PALETTE[i % 10], dash=dash)))
    fig.update_layout(xaxis_title="epoch", yaxis_title="loss (per image)", height=340,
                      margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.25))
    if epochs and max(epochs) - min(epochs) < 10:  # whole epochs only (plotly's own ticks of 3 epochs: 1, 1.5, 2, ...)
        fig.update_xaxes(tick0=min(epochs), dtick=1)
    return fig


def class_colours(names) -> list[str]:
    """One colour per class, in order: PALETTE's (tab10), or, when every name is a different
    colour's name ("red", "Cyan": CSS's 148 names), those colours, so that a map coloured by a
    "colour" column shows red points for "red"."""
    from PIL import ImageColor

    keys = [str(name).strip().lower() for name in names]
    if keys and all(k in ImageColor.colormap for k in keys):
        rgbs = [ImageColor.getrgb(k) for k in keys]
        if len(set(rgbs)) == len(rgbs):
            return ["#%02x%02x%02x" % rgb[:3] for rgb in rgbs]
    return [PALETTE[i % len(PALETTE)] for i in range(len(keys))]


def latent_scatter(xy: np.ndarray, index: np.ndarray, labels: np.ndarray, classes, values=None,
                   value_name: str = "", axis_names=("x", "y"), height: int = 620,
                   label: str = "class", shown=None, hover=None, value_format: str = ".3f") -> go.Figure:
    """WebGL scatter of map positions xy (n, 2) with dataset indices `index` (n,). values=None:
    one trace per class (the legend toggles classes); else one trace coloured by values (n,) on a
    colour bar, NaN ones grey in a trace of their own (missing values, said in their hover).
    `label` is what a class is called ("digit", "class"), in the legend title and hover text.
    hover: per point (n,) text added to its hover (aecore.pictures.columns.hover_lines).
    Selected points grow; the rest fade only a little, since a click on the click grid is a
    selection too (and the figure must not depend on the selection: Streamlit would reset it).
    `shown`: the class numbers to draw as usual; the others are greyed (one trace, drawn first).
    Above FULL_SIZE_POINTS points, the dots are drawn smaller (point_scale)."""
    fig, scale = go.Figure(), point_scale(len(xy))
    hover = None if hover is None else np.asarray(hover, dtype=object)
    if shown is not None:
        grey = ~np.isin(labels, list(shown))
        if grey.any():
            fig.add_trace(go.Scattergl(
                x=xy[grey, 0], y=xy[grey, 1], mode="markers", name="other classes", customdata=index[grey],
                marker=dict(size=4 * scale, color="#c8c8c8", opacity=0.35), hovertemplate="#%{customdata}<extra></extra>"))
        xy, index, labels = xy[~grey], index[~grey], labels[~grey]
        hover = None if hover is None else hover[~grey]
        values = None if values is None else np.asarray(values)[~grey]
    names, label = [plain_text(name) for name in classes], plain_text(label)  # shown as text, whatever the files say
    if values is None:
        colours = class_colours(classes)
        for c, name in enumerate(names):
            if shown is not None and c not in shown:
                continue
            m = labels == c
            fig.add_trace(go.Scattergl(
                x=xy[m, 0], y=xy[m, 1], mode="markers", name=name, customdata=index[m],
                text=None if hover is None else hover[m], marker=dict(size=5 * scale, color=colours[c], opacity=0.75),
                hovertemplate=f"{label} {name}<br>#%{{customdata}}{'' if hover is None else '%{text}'}<extra></extra>"))
    else:
        text = np.asarray(names, dtype=object)[labels] + ("" if hover is None else hover)
        _value_traces(fig, xy, index, text, np.asarray(values, np.float64),
                      plain_text(value_name), label, scale, value_format)
    fig.update_traces(selected=dict(marker=dict(size=9, opacity=1.0)), unselected=dict(marker=dict(opacity=0.45)))
    # no dragmode/clickmode: Streamlit then starts in pan mode where a click selects a point
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis_title=axis_names[0], yaxis_title=axis_names[1],
                      legend_title_text=label if values is None else "")  # beside values: "other classes", "no x"
    return fig


def _value_traces(fig: go.Figure, xy, index, text, values, value_name: str, label: str, scale: float,
                  value_format: str) -> None:
    """The points coloured by values on a Viridis scale with a colour bar; those without a value
    (NaN) grey, in a legend entry of their own."""
    missing = ~np.isfinite(values)
    if missing.any():
        fig.add_trace(go.Scattergl(
            x=xy[missing, 0], y=xy[missing, 1], mode="markers", name=f"no {value_name}", customdata=index[missing],
            text=text[missing], marker=dict(size=5 * scale, color="#a0a0a0", opacity=0.6), showlegend=True,
            hovertemplate=f"{label} %{{text}}<br>#%{{customdata}}<br>{value_name} missing<extra></extra>"))
        fig.update_layout(legend=dict(orientation="h", x=0))  # below the map: the colour bar has the right
    ok = ~missing
    fig.add_trace(go.Scattergl(
        x=xy[ok, 0], y=xy[ok, 1], mode="markers", name=value_name, customdata=index[ok],
        text=text[ok], showlegend=False,
        marker=dict(size=5 * scale, color=values[ok], colorscale="Viridis", opacity=0.8,
                    colorbar=dict(title=dict(text=value_name, side="right"))),
        hovertemplate=f"{label} %{{text}}<br>#%{{customdata}}<br>{value_name} %{{marker.color:{value_format}}}<extra></extra>"))


def padded_extent(xy: np.ndarray, pad: float = 0.05) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) of points (n, 2), widened by `pad` of the span on each side."""
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    margin = (hi - lo) * pad + 1e-6
    return float(lo[0] - margin[0]), float(hi[0] + margin[0]), float(lo[1] - margin[1]), float(hi[1] + margin[1])


def add_click_grid(fig: go.Figure, extent: tuple[float, float, float, float], n: int = 60) -> None:
    """Overlay an invisible n x n grid of points over extent (xmin, xmax, ymin, ymax), drawn
    first (under the data), so a click on empty space still selects a point: its position."""
    x0, x1, y0, y1 = extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    grid = go.Scattergl(x=gx.ravel(), y=gy.ravel(), mode="markers", showlegend=False, name="grid",
                        customdata=np.full(gx.size, GRID), hoverinfo="none",
                        marker=dict(size=1, color="rgba(0,0,0,0)"),
                        selected=dict(marker=dict(opacity=0)), unselected=dict(marker=dict(opacity=0)))
    fig.add_trace(grid)
    fig.data = (fig.data[-1], *fig.data[:-1])


def _rgb(hex_color: str) -> tuple[int, int, int]:
    return tuple(int(hex_color[i:i + 2], 16) for i in (1, 3, 5))


def _ink(grey: np.ndarray, color=(0, 0, 0)) -> np.ndarray:
    """A grey picture (H, W) as RGBA (H, W, 4) uint8: `color` ink on a transparent background."""
    rgba = np.zeros((*grey.shape, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = color, to_uint8(grey)
    return rgba


def add_backdrop(fig: go.Figure, decoded: np.ndarray, extent: tuple[float, float, float, float],
                 opacity: float = 0.55) -> None:
    """Decoded images (n * n, H, W) grey or (n * n, H, W, 3) colour of an n x n grid of map
    positions (row-major, top row at ymax: aecore.latent.inverse.backdrop_grid) as one picture
    under the points over `extent`: grey as dark ink on the plot's background, as in the Keras
    VAE example's manifold; colour as the pictures themselves. Images smaller than 28 pixels are
    scaled up crisply first, so the browser's stretching does not blur them; a picture wider
    than BACKDROP_PIXELS (16 x 16 images of 128 x 128) is shrunk to it."""
    from .images import crisp_scale, enlarge, fit_width, png_uri, tile

    n = int(round(np.sqrt(len(decoded))))
    grid = enlarge(tile(decoded, n, pad=0), crisp_scale(max(decoded.shape[1:3]), 28))
    grid = fit_width(to_uint8(grid), BACKDROP_PIXELS)  # the map is narrower: more would only cost time
    x0, x1, y0, y1 = extent
    fig.add_layout_image(source=png_uri(grid if grid.ndim == 3 else _ink(grid, (40, 40, 40))), x=x0, y=y1,
                         xref="x", yref="y", sizex=x1 - x0, sizey=y1 - y0, xanchor="left", yanchor="top",
                         sizing="stretch", opacity=opacity, layer="below")
    fig.update_xaxes(range=[x0, x1])
    fig.update_yaxes(range=[y0, y1])


def add_marks(fig: go.Figure, xy: np.ndarray, index: np.ndarray, name: str, symbol: str = "circle-open",
              size: int = 12, color: str = "black") -> None:
    """Points xy (n, 2) marked on top of a map (e.g. the points selected on another map, or one
    found by its index), with their dataset indices in customdata."""
    fig.add_trace(go.Scattergl(x=xy[:, 0], y=xy[:, 1], mode="markers", name=name, customdata=index,
                               marker=dict(size=size, color=color, symbol=symbol, line=dict(width=2, color=color)),
                               hovertemplate=f"{name}<br>#%{{customdata}}<extra></extra>"))


def selection_indices(event) -> tuple[np.ndarray, tuple[float, float] | None]:
    """From a Streamlit plotly selection event: (dataset indices of the selected data points,
    (x, y) of a click on the grid when that is all that was selected, else None)."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    index, grid = [], []
    for p in points:
        cd = p.get("customdata")
        cd = cd[0] if isinstance(cd, (list, tuple)) else cd
        if cd is None:
            continue
        if int(cd) == GRID:
            grid.append(p)
        else:
            index.append(int(cd))
    click = (float(grid[0]["x"]), float(grid[0]["y"])) if len(grid) == 1 and not index else None
    return np.array(sorted(set(index)), dtype=np.int64), click


# --- the figures beside the map: paths, marks, curves and histograms -----------------------

def add_path(fig: go.Figure, line: np.ndarray) -> None:
    """An interpolation path (steps, 2) on a map, its ends marked A and B. WebGL like the map's
    points, or they would hide the path."""
    fig.add_trace(go.Scattergl(x=line[:, 0], y=line[:, 1], mode="lines+markers", name="path",
                               line={"color": "black", "width": 3}, marker={"size": 7, "color": "black"}))
    fig.add_trace(go.Scattergl(x=line[[0, -1], 0], y=line[[0, -1], 1], mode="markers+text",
                               name="A, B", text=["A", "B"], textposition="top center",
                               marker={"size": 14, "color": "red"}))


def add_clean_and_noisy(fig: go.Figure, marks: np.ndarray) -> None:
    """Two map positions (2, 2), the clean input's (star) and the noisy one's (x), joined."""
    fig.add_trace(go.Scattergl(x=marks[:, 0], y=marks[:, 1], mode="lines+markers+text",
                               name="clean → noisy", text=["clean", "noisy"], textposition="top center",
                               line={"color": "black"},
                               marker={"size": 14, "color": ["black", "red"], "symbol": ["star", "x"]}))


def psnr_curves(curve: dict, kind: str, level: float, item: str = "image") -> go.Figure:
    """One line per output of aecore.measure.denoise.psnr_curve, and the chosen level dotted."""
    fig = go.Figure([go.Scatter(x=curve["levels"], y=v, name=k, mode="lines+markers")
                     for k, v in curve.items() if k != "levels"])
    fig.add_vline(x=level, line_dash="dot")
    fig.update_layout(xaxis_title=f"{kind} level", yaxis_title=f"mean PSNR (dB), first 200 test {item}s",
                      height=420, margin={"t": 10}, legend={"orientation": "h", "y": -0.2})
    return fig


def _bars(hist, name: str) -> go.Bar:
    return go.Bar(x=hist.centres, y=hist.fractions, width=hist.width, name=name, showlegend=False)


def histograms_side_by_side(hists: dict) -> go.Figure:
    """{name: aecore.latent.units.Histogram}, one panel each, as fractions of the code values."""
    from plotly.subplots import make_subplots
    fig = make_subplots(rows=1, cols=len(hists), subplot_titles=list(hists))
    for i, (name, hist) in enumerate(hists.items()):
        fig.add_trace(_bars(hist, name), row=1, col=i + 1)
    fig.update_layout(height=300, margin={"t": 30, "b": 10}, yaxis_title="fraction of code values")
    return fig


def unit_frequency(frequencies: dict, item: str = "image") -> go.Figure:
    """Per unit, the fraction of images (`item`s) on which it is active: {model name: (d,)
    fractions}, one group of bars per unit, one colour per model."""
    fig = go.Figure([go.Bar(x=list(range(len(f))), y=list(f), name=name) for name, f in frequencies.items()])
    fig.update_layout(height=260, margin={"t": 10, "b": 10}, xaxis_title="unit", barmode="group",
                      yaxis_title=f"fraction of {item}s active", showlegend=len(frequencies) > 1,
                      legend={"orientation": "h", "y": 1.12})
    return fig


def unit_histogram(hist, unit: int, item: str = "image") -> go.Figure:
    """One unit's values over the images (`item`s)."""
    fig = go.Figure(_bars(hist, f"unit {unit}"))
    fig.update_layout(height=260, margin={"t": 10, "b": 10}, xaxis_title=f"unit {unit} value",
                      yaxis_title=f"fraction of {item}s")
    return fig
