"""Every checkpoint's metrics in one table, with the in-house baselines (PCA and the median filter,
checkpoints/baselines.json, measured by the same code) and the published anchors each
checkpoint's recipe names. Plain rows, so the app can sort them and a report can print them."""
from __future__ import annotations

from .card import DESCRIPTIONS

BASELINE_NAMES = {"pca-2": "PCA, 2 components", "pca-20": "PCA, 20 components",
                  "pca-30": "PCA, 30 components", "median-3x3": "3x3 median filter"}


INFO = ("name", "row", "kind", "code", "measured on", "source")  # the columns that are not metrics


def _on(measured: dict | None) -> str:
    m = measured or {}
    return f"{m.get('dataset', '?')} {m.get('split', '?')} ({m.get('size', '?')})" if m else ""


def metric_columns(rows: list[dict]) -> list[str]:
    """The metric names found in `rows`, in the order of card.DESCRIPTIONS, then any others."""
    found = {k for r in rows for k in r if k not in INFO}
    return [m for m in DESCRIPTIONS if m in found] + sorted(found - set(DESCRIPTIONS))


def _metrics(values: dict) -> dict:
    return {k: float(v) for k, v in (values or {}).items() if not k.startswith("n_")}


def leaderboard_rows(checkpoints: dict[str, tuple[dict, dict | None]], baselines: dict | None = None) -> list[dict]:
    """One row per checkpoint {name: (config.json, metrics.json or None)} that has metrics, then one
    per publication its anchors cite (row "anchor", the source), then one per baseline in
    `baselines` (baselines.json). Every row has the INFO columns and its metric values."""
    rows, anchors = [], []
    for name, (config, measured) in checkpoints.items():
        if not measured:
            continue
        model = config.get("model") or {}
        rows.append({"name": name, "row": "checkpoint", "kind": model.get("kind", "?"),
                     "code": model.get("latent_dim"), "measured on": _on(measured.get("measured_on")),
                     "source": "measured here", **_metrics(measured.get("metrics"))})
        by_source: dict[str, dict] = {}  # one row per publication: its values side by side
        for metric, anchor in ((config.get("about") or {}).get("anchors") or {}).items():
            source = str(anchor.get("source", ""))
            row = by_source.setdefault(source, {"name": f"{name} (published)", "row": "anchor",
                                                "kind": model.get("kind", "?"), "code": model.get("latent_dim"),
                                                "measured on": "", "source": source})
            row[metric] = float(anchor["value"])
        anchors += by_source.values()
    base = baselines or {}
    for key, title in BASELINE_NAMES.items():
        if key in base:
            code = int(key.split("-")[1]) if key.startswith("pca") else None
            rows_for = {"name": title, "row": "baseline", "kind": key.split("-")[0], "code": code,
                        "measured on": _on(base.get("measured_on")), "source": "baselines.json (same code)"}
            anchors.append({**rows_for, **_metrics(base[key])})
    return rows + anchors
