"""The checkpoint zoo: every shipped checkpoint is trained from checkpoints/recipe.json, measured on
its dataset's test split, and held against the goals, published anchors and in-house baselines
that its recipe entry states (data, not code: a renamed entry keeps its numbers)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from ..config import ModelConfig, TrainConfig
from ..launch import zoo_dir
from ..pictures.pixels import ImageShape

ZOO_DIR = zoo_dir()  # the app's checkpoints/: the clone's, or the installed package's
RECIPE = ZOO_DIR / "recipe.json"
BASELINES = ZOO_DIR / "baselines.json"  # {dataset: {"measured_on", "pca-2", ..., "median-3x3"}}


def load_recipe(path: Path = RECIPE) -> dict[str, dict]:
    """{name: {"about": {..., "anchors"}, "model": ..., "training": ..., "goals": [...]}}, checked."""
    recipe = json.loads(Path(path).read_text())
    for entry in recipe.values():
        ModelConfig.from_dict(entry["model"])
        TrainConfig.from_dict(entry["training"])
    return recipe


def train_entry(name: str, entry: dict, folder: Path = ZOO_DIR, on_epoch: Callable | None = None) -> Path:
    """Train one recipe entry, measure it on its own dataset and write its checkpoint folder."""
    # imported here, as in compute_baselines: `python -m aecore report` needs no torch
    from ..train import save_result, train
    from .evaluate import evaluate

    training = TrainConfig.from_dict(entry["training"])
    result = train(ModelConfig.from_dict(entry["model"]), training, on_epoch=on_epoch)
    metrics = evaluate(result.model, training.dataset)
    path = save_result(folder / name, result, training, metrics, about=entry.get("about"))
    if "factors" in metrics:  # a dataset with known factors: show what each unit does
        write_traversals(path)
    return path


TRAVERSALS = "traversals.png"


def write_traversals(path: Path) -> Path:
    """The checkpoint's latent traversals as `path`/traversals.png, for the report: a row per active
    unit (most KL, or code variance, first), 7 steps over -3..+3 sd, from the code of its dataset's
    first test image (traversals.card_grid); 64-pixel tiles are kept at their size."""
    from ..checkpoint import load_checkpoint
    from ..data import load_dataset
    from ..latent import traversals
    from ..latent.codec import encode_all

    ckpt = load_checkpoint(path)
    images = load_dataset(ckpt.dataset, "test").images[:traversals.CARD_IMAGES]
    codes = encode_all(ckpt.model, images)
    grid, _ = traversals.card_grid(ckpt.model, codes, images)
    out = Path(path) / TRAVERSALS
    out.write_bytes(traversals.grid_png(grid, scale=1 if max(grid.shape[2:4]) >= 56 else None))
    return out


def load_baselines(folder: Path = ZOO_DIR) -> dict:
    """baselines.json of a checkpoint folder ({dataset: {...}}), or {} when it has none."""
    path = Path(folder) / BASELINES.name
    return json.loads(path.read_text()) if path.is_file() else {}


def recipe_datasets(recipe: dict) -> list[str]:
    """The datasets the recipe's checkpoints are trained and measured on, in recipe order."""
    return list(dict.fromkeys(entry["training"]["dataset"] for entry in recipe.values()))


def compute_baselines(dataset: str) -> dict:
    """PCA at 2, 20 and 30 components and the 3x3 median filter, by the code that measures the
    checkpoints, on the same data."""
    from ..data import load_dataset
    from ..pictures.pixels import unit_float
    from . import metrics
    from .denoise import standard_scores
    from .disentangle import factor_report

    from ..checkpoint.fit import data_shape

    train, test = load_dataset(dataset, "train"), load_dataset(dataset, "test")
    train_px, test_px = unit_float(train.images), unit_float(test.images)
    true = metrics.nearest_pixel_distances(test.images, train.images)
    out = {"measured_on": {"dataset": dataset, "split": "test", "size": len(test_px),
                           "train_split_size": len(train_px), "image": data_shape(test).to_list()}}
    for n in (2, 20, 30):
        pca = metrics.pca_baseline(train_px, test_px, n)
        row = metrics.reconstruction_errors(test_px, pca.test_reconstructions)
        for k in (1, 5):
            row[f"knn{k}"] = metrics.knn_accuracy(pca.train_codes, train.labels, pca.test_codes, test.labels, k)
        row.update(metrics.approximation_factors(test.images, train.images, pca.test_codes, pca.train_codes,
                                                 true_distances=true))
        if test.columns:  # a dataset with factors: how well PCA's own units capture them
            found = factor_report(pca.test_codes, test.columns)
            row.update(found["scores"] if found else {})
        out[f"pca-{n}"] = {k: float(v) for k, v in row.items()}
    scores = standard_scores(test_px)
    out["median-3x3"] = {"denoise_psnr": scores["median_psnr"], "noisy_psnr": scores["noisy_psnr"]}
    out["umap-learn-2"] = umap_learn_baseline(train_px, train.labels, test_px, test.labels)
    return out


def umap_learn_baseline(train_px, train_labels, test_px, test_labels, seed: int = 0) -> dict:
    """umap-learn's own 2-D map as a model would be measured: fitted on the train pixels, the
    test images placed by its transform (pynndescent's search; n_neighbors 15, min_dist 0.1):
    k-NN accuracies and trustworthiness (k=5) of the test map."""
    from ..latent.projections import umap_reducer
    from . import metrics
    reducer = umap_reducer(seed)
    train_map = reducer.fit_transform(train_px.reshape(len(train_px), -1))
    test_map = reducer.transform(test_px.reshape(len(test_px), -1))
    row = {f"knn{k}": metrics.knn_accuracy(train_map, train_labels, test_map, test_labels, k) for k in (1, 5)}
    row["trustworthiness"] = metrics.trustworthiness(test_px, test_map, k=5)
    return {k: float(v) for k, v in row.items()}


# --- goals: data in the recipe ---------------------------------------------------------------

def _show(value: float, fmt: str) -> str:
    return f"{100 * value:.1f}%" if fmt == "%" else f"{value:{fmt}}"


def _reference(ref: str, metric: str, checkpoints: dict, baselines: dict) -> tuple[str, float]:
    """("PCA-20", value) for "baseline pca-20" (of the dataset's baselines), (name, value) for
    another checkpoint's name."""
    if ref.startswith("baseline "):
        key = ref.split(" ", 1)[1]
        return key.upper() if key.startswith("pca") else key, baselines[key][metric]
    return ref, checkpoints[ref]["metrics"][metric]


def measure_goal(name: str, goal: dict, checkpoints: dict, baselines: dict) -> tuple[str, bool | None]:
    """(what was measured, as text; whether the goal is met, None for a number only reported) for
    one goal of entry `name`.

    A goal bounds a metric by "at_most" or "at_least" a number, or, with "over": <a checkpoint or
    "baseline <key>">, that reference plus ("by": "plus") or times ("by": "times") the number;
    "beside" names a reference only shown for context; "tried" (reported under the table) says
    what was tried for a goal not met. KeyError when a number is missing."""
    metric, fmt = goal["metric"], goal.get("format", ".4f")
    value = checkpoints[name]["metrics"][metric]
    text = _show(value, fmt)
    if "at_most" not in goal and "at_least" not in goal:  # reported beside a reference, no bound
        label, ref = _reference(goal["beside"], metric, checkpoints, baselines)
        return f"{text} ({label} {_show(ref, fmt)})", None
    limit = goal["at_most"] if "at_most" in goal else goal["at_least"]
    if "over" in goal:
        _, ref = _reference(goal["over"], metric, checkpoints, baselines)
        limit = ref + limit if goal["by"] == "plus" else ref * limit
        text = f"{text} vs {_show(ref, fmt)}" + (f" (x{value / ref:.2f})" if goal["by"] == "times" else "")
    if "beside" in goal:
        label, ref = _reference(goal["beside"], metric, checkpoints, baselines)
        text = f"{text} ({label} {_show(ref, fmt)})"
    return text, value <= limit if "at_most" in goal else value >= limit


# --- the report ------------------------------------------------------------------------------

COLUMNS = [("sse_per_image", "SSE/img", 2), ("mse_per_pixel", "MSE/px", 4), ("knn1", "1-NN", 4),
           ("knn5", "5-NN", 4), ("trustworthiness", "trust.", 4), ("aaf", "AAF", 3), ("maf", "MAF", 2)]
FACTOR_COLUMNS = [("mig", "MIG", 3), ("dci_disentanglement", "DCI-D", 3), ("dci_completeness", "DCI-C", 3),
                  ("dci_informativeness", "DCI-I", 3)]  # shown for a dataset with factor columns


def collect(folder: Path = ZOO_DIR) -> dict[str, dict]:
    """{name: {"config": config.json, "metrics": flat metrics, "measured_on": ...}} for each entry."""
    out = {}
    for name in load_recipe(folder / "recipe.json"):
        path = folder / name
        if (path / "metrics.json").is_file():
            m = json.loads((path / "metrics.json").read_text())
            config = json.loads((path / "config.json").read_text())
            out[name] = {"config": config, "metrics": m["metrics"], "measured_on": m["measured_on"]}
    return out


def _anchor_note(name: str, entry: dict) -> str:
    anchors = entry.get("about", {}).get("anchors", {})
    return f"{name}: " + ", ".join(f"{m} {a['value']} ({a['source']})" for m, a in anchors.items())


def _table(ckpts: dict, base: dict) -> list[str]:
    factors = any("mig" in c["metrics"] for c in ckpts.values())
    columns = COLUMNS + FACTOR_COLUMNS if factors else COLUMNS
    lines = ["| checkpoint | kind / body | code | train s | " + " | ".join(c[1] for c in columns) + " |",
             "|---" * (4 + len(columns)) + "|"]
    for name, c in ckpts.items():
        model = c["config"]["model"]
        cells = [f"{c['metrics'][k]:.{p}f}" if k in c["metrics"] else "" for k, _, p in columns]
        lines.append(f"| {name} | {model['kind']} / {model['body']} | {model['latent_dim']} | "
                     f"{c['config']['train_seconds']:.0f} | " + " | ".join(cells) + " |")
    for key in ("pca-2", "pca-20", "pca-30", "umap-learn-2"):
        if key in base:
            cells = [f"{base[key][k]:.{p}f}" if k in base[key] else "" for k, _, p in columns]
            method, d = key.rsplit("-", 1)
            lines.append(f"| baseline {key.upper() if method == 'pca' else key} | {method} | {d} | | "
                         + " | ".join(cells) + " |")
    if "median-3x3" in base:
        mb = base["median-3x3"]
        lines += ["", f"Denoising baselines at Gaussian sigma 0.5: noisy input {mb['noisy_psnr']:.2f} dB, "
                      f"3x3 median filter {mb['denoise_psnr']:.2f} dB PSNR."]
    return lines


def _traversal_figures(group: dict, folder: Path) -> list[str]:
    """The traversal grid of each checkpoint that has one (write_traversals), under its table."""
    lines = []
    for name, c in group.items():
        if (Path(folder) / name / TRAVERSALS).is_file():
            how = ("most KL first; -3 to +3 sd of the prior" if c["config"]["model"]["kind"] == "vae" else
                   "largest code variance first; -3 to +3 sd of each unit's codes over the test images")
            lines += ["", f"Traversals of {name}: a row per active unit, {how}, from the code of the "
                          "first test image.", "", f"![traversals of {name}]({name}/{TRAVERSALS})"]
    return lines


def _measured_on(on: dict) -> str:
    train = on.get("train_split_size")
    note = (" the first 22,699 of the official training set, which the models were also trained on, 10% "
            "held out for validation" if train == 22_699 else " the models' own training set, 10% held out "
            "for validation")
    shape = f", {ImageShape.from_list(on['image'])}" if on.get("image") else ""  # recorded since images have shapes
    return (f"Measured on {on.get('dataset')} {on.get('split')} ({on.get('size')} images{shape}), neighbours and kNN "
            f"against the train split ({train} images:{note}).")


def report(folder: Path = ZOO_DIR) -> str:
    """The markdown tables of every checkpoint's metrics beside the anchors and baselines, one per
    dataset, then the goals."""
    recipe, ckpts = load_recipe(folder / "recipe.json"), collect(folder)
    baselines = load_baselines(folder)
    lines = ["# Checkpoint zoo", "",
             "Regenerate with `python -m aecore zoo` (retrain) and `python -m aecore report > checkpoints/README.md`."]
    for dataset in recipe_datasets(recipe):
        group = {n: c for n, c in ckpts.items() if recipe[n]["training"]["dataset"] == dataset}
        base = baselines.get(dataset, {})
        on = next(iter(group.values()))["measured_on"] if group else base.get("measured_on", {})
        lines += ["", f"## {dataset}", "", _measured_on(on), "", *_table(group, base),
                  *_traversal_figures(group, folder)]
    lines += ["", "## Goals", "", "| checkpoint | goal | measured | met | anchor |", "|---|---|---|---|---|"]
    for name, entry in recipe.items():
        base = baselines.get(entry["training"]["dataset"], {})
        for goal in entry.get("goals", []):
            try:
                value, met = measure_goal(name, goal, ckpts, base)
                verdict = "reported" if met is None else "yes" if met else "**no**"
            except KeyError:
                value, verdict = "not trained", "**no**"
            lines.append(f"| {name} | {goal['goal']} | {value} | {verdict} | {goal.get('anchor', '')} |")
    without = [_anchor_note(n, e) for n, e in recipe.items()
               if not e.get("goals") and e.get("about", {}).get("anchors")]
    if without:
        lines += ["", "Published anchors reported without a goal: " + "; ".join(without) + "."]
    tried = [f"- **{name}**: {goal['tried']}" for name, entry in recipe.items()
             for goal in entry.get("goals", []) if goal.get("tried")]
    if tried:
        lines += ["", "## What was tried for the goals still missed", "", *tried]
    return "\n".join(lines) + "\n"
