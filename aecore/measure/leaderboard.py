"""Every checkpoint's metrics in one table, with the in-house baselines (PCA and the median filter,
checkpoints/baselines.json, measured by the same code) and the published anchors each
checkpoint's recipe names. Plain rows, so the app can sort them and a report can print them."""
from __future__ import annotations

from .card import DESCRIPTIONS, images_measured

BASELINE_NAMES = {"pca-2": "PCA, 2 components", "pca-20": "PCA, 20 components",
                  "pca-30": "PCA, 30 components", "median-3x3": "3x3 median filter",
                  "umap-learn-2": "UMAP of the pixels (umap-learn), 2-D"}


INFO = ("name", "row", "kind", "code", "measured on", "source")  # the columns that are not metrics


def _on(measured: dict | None, image=None) -> str:
    """Which images a row was measured on: 'mnist test (10,000 images, 28x28 grey)'."""
    return images_measured(measured, image)


def metric_columns(rows: list[dict]) -> list[str]:
    """The metric names found in `rows`, in the order of card.DESCRIPTIONS, then any others."""
    found = {k for r in rows for k in r if k not in INFO}
    return [m for m in DESCRIPTIONS if m in found] + sorted(found - set(DESCRIPTIONS))


def _metrics(values: dict) -> dict:
    return {k: float(v) for k, v in (values or {}).items() if not k.startswith("n_")}


def leaderboard_rows(checkpoints, baselines: dict | None = None) -> list[dict]:
    """One row per checkpoint [(name, (config.json, metrics.json or None)), ...] that has metrics,
    then one per publication its anchors cite (row "anchor", the source), then the baselines
    (baselines.json: {dataset: {"measured_on", "pca-2", ...}}) of every dataset a checkpoint row
    was measured on. Every row has the INFO columns and its metric values."""
    rows, anchors, datasets = [], [], []
    for name, (config, measured) in checkpoints:
        if not measured:
            continue
        model = config.get("model") or {}
        on = measured.get("measured_on") or {}
        datasets += [on["dataset"]] if on.get("dataset") and on["dataset"] not in datasets else []
        rows.append({"name": name, "row": "checkpoint", "kind": model.get("kind", "?"),
                     "code": model.get("latent_dim"), "measured on": _on(on, model.get("image")),
                     "source": "measured here", **_metrics(measured.get("metrics"))})
        anchors += _anchor_rows(name, model, config)
    return rows + anchors + [row for d in datasets for row in baseline_rows((baselines or {}).get(d) or {})]


def _anchor_rows(name: str, model: dict, config: dict) -> list[dict]:
    """One row per publication the checkpoint's anchors cite, its values side by side."""
    by_source: dict[str, dict] = {}
    for metric, anchor in ((config.get("about") or {}).get("anchors") or {}).items():
        source = str(anchor.get("source", ""))
        row = by_source.setdefault(source, {"name": f"{name} (published)", "row": "anchor",
                                            "kind": model.get("kind", "?"), "code": model.get("latent_dim"),
                                            "measured on": "", "source": source})
        row[metric] = float(anchor["value"])
    return list(by_source.values())


def baseline_rows(base: dict) -> list[dict]:
    """The rows of one dataset's baselines (an entry of baselines.json), in BASELINE_NAMES' order."""
    rows = []
    for key, title in BASELINE_NAMES.items():
        if key in base:
            code = int(key.rsplit("-", 1)[1]) if key.startswith(("pca", "umap")) else None
            rows.append({"name": title, "row": "baseline", "kind": key.rsplit("-", 1)[0], "code": code,
                         "measured on": _on(base.get("measured_on")), "source": "baselines.json (same code)",
                         **_metrics(base[key])})
    return rows
