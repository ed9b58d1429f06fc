"""The checkpoint zoo: every shipped checkpoint is trained from checkpoints/recipe.json, measured
on the official MNIST test set, and compared with published anchors and in-house baselines."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Callable


from .config import ModelConfig, TrainConfig

ZOO_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
RECIPE = ZOO_DIR / "recipe.json"
BASELINES = ZOO_DIR / "baselines.json"
EVAL_DATASET = "mnist"


def load_recipe(path: Path = RECIPE) -> dict[str, dict]:
    """{name: {"about": {...}, "model": ModelConfig dict, "training": TrainConfig dict}}, checked."""
    recipe = json.loads(Path(path).read_text())
    for name, entry in recipe.items():
        ModelConfig.from_dict(entry["model"])
        TrainConfig.from_dict(entry["training"])
    return recipe


def train_entry(name: str, entry: dict, folder: Path = ZOO_DIR, on_epoch: Callable | None = None) -> Path:
    """Train one recipe entry, measure it on EVAL_DATASET and write its checkpoint folder."""
    from .checkpoint import save_checkpoint
    from .evaluate import evaluate
    from .train import train

    result = train(ModelConfig.from_dict(entry["model"]), TrainConfig.from_dict(entry["training"]),
                   on_epoch=on_epoch)
    metrics = evaluate(result.model, EVAL_DATASET)
    return save_checkpoint(folder / name, result.model, entry["training"], result.dataset,
                           result.seconds, result.history, metrics, about=entry.get("about"))


def compute_baselines(dataset: str = EVAL_DATASET) -> dict:
    """PCA at 2, 20 and 30 components and the 3x3 median filter, by the code that measures the
    checkpoints, on the same data."""
    from . import metrics
    from .data import load_dataset, to_tensor
    from .evaluate import denoising_metrics

    train, test = load_dataset(dataset, "train"), load_dataset(dataset, "test")
    train_px, test_px = train.images / 255.0, test.images / 255.0
    true = metrics.nearest_pixel_distances(test_px, train_px)
    out = {"measured_on": {"dataset": dataset, "split": "test", "size": len(test_px),
                           "train_split_size": len(train_px)}}
    for n in (2, 20, 30):
        pca = metrics.pca_baseline(train_px, test_px, n)
        row = metrics.reconstruction_errors(test_px, pca.test_reconstructions)
        for k in (1, 5):
            row[f"knn{k}"] = metrics.knn_accuracy(pca.train_codes, train.labels, pca.test_codes, test.labels, k)
        row.update(metrics.approximation_factors(test_px, train_px, pca.test_codes, pca.train_codes,
                                                 true_distances=true))
        out[f"pca-{n}"] = {k: float(v) for k, v in row.items()}
    noisy = denoising_metrics(_Identity(), to_tensor(test.images))
    out["median-3x3"] = {"denoise_psnr": noisy["median_psnr"], "noisy_psnr": noisy["noisy_psnr"]}
    return out


class _Identity:
    """Stands in for a model in denoising_metrics: outputs its input."""
    def __call__(self, x):
        return x


# --- the report -----------------------------------------------------------------------------

COLUMNS = [("sse_per_image", "SSE/img", 2), ("mse_per_pixel", "MSE/px", 4), ("knn1", "1-NN", 4),
           ("knn5", "5-NN", 4), ("trustworthiness", "trust.", 4), ("aaf", "AAF", 3), ("maf", "MAF", 2)]


def _m(checkpoints: dict, name: str, key: str) -> float:
    return checkpoints[name]["metrics"][key]


# (checkpoint, goal text, measured(checkpoints, baselines) -> (value text, met), anchor text)
GOALS: list[tuple[str, str, Callable, str]] = [
    ("vae-2d", "negative ELBO per image <= 145",
     lambda c, b: _limit(c, "vae-2d", "neg_elbo", 145, ".1f"),
     "Keras VAE example, 2-D: 146.95 (on its training data)"),
    ("deep-30d", "squared error per image <= 2.50",
     lambda c, b: _limit(c, "deep-30d", "sse_per_image", 2.50, ".2f"),
     "Hinton & Salakhutdinov 2006: deep AE 3.00, logistic PCA 8.01, PCA 13.87"),
    ("denoise", "PSNR at sigma 0.5 >= plain twin + 3 dB",
     lambda c, b: _vs(c, "denoise", "denoise-twin", "denoise_psnr", 3.0), "no published figure"),
    ("denoise", "PSNR at sigma 0.5 >= 3x3 median filter + 5 dB",
     lambda c, b: (f"{_m(c, 'denoise', 'denoise_psnr'):.2f} vs {b['median-3x3']['denoise_psnr']:.2f}",
                   _m(c, "denoise", "denoise_psnr") >= b["median-3x3"]["denoise_psnr"] + 5), "no published figure"),
    ("sparse", "mean code activation <= 0.06",
     lambda c, b: _limit(c, "sparse", "code_mean_activation", 0.06, ".4f"),
     "Ng's notes: target rho = 0.05"),
    ("sparse", "dead units <= 5%",
     lambda c, b: (f"{100 * _m(c, 'sparse', 'code_dead_fraction'):.1f}%", _m(c, "sparse", "code_dead_fraction") <= 0.05), ""),
    ("sparse", "error within 25% of sparse-twin",
     lambda c, b: _ratio(c, "sparse", "sparse-twin", "sse_per_image", 1.25), ""),
    ("contractive", "Jacobian norm <= half of its plain twin's",
     lambda c, b: _ratio(c, "contractive", "contractive-twin", "jacobian_frobenius", 0.5), "Rifai et al. 2011"),
    ("contractive", "error within 25% of its plain twin",
     lambda c, b: _ratio(c, "contractive", "contractive-twin", "sse_per_image", 1.25), ""),
    ("neighbour-20d", "MAF <= 1.5",
     lambda c, b: (f"{_m(c, 'neighbour-20d', 'maf'):.2f} (PCA-20 {b['pca-20']['maf']:.2f})", _m(c, "neighbour-20d", "maf") <= 1.5),
     "seed 000: MAF 1.7 at 20-D, 1.2 at 78-D"),
    ("neighbour-20d", "AAF <= 1.05",
     lambda c, b: (f"{_m(c, 'neighbour-20d', 'aaf'):.3f} (PCA-20 {b['pca-20']['aaf']:.3f})", _m(c, "neighbour-20d", "aaf") <= 1.05), ""),
    ("umap-2d", "5-NN accuracy >= .955",
     lambda c, b: _limit(c, "umap-2d", "knn5", 0.955, ".4f", at_least=True),
     "Sainburg et al. 2021: UMAP+AE .9537, Parametric UMAP .9614, UMAP .9544, t-SNE .9502"),
    ("umap-2d", "MSE per pixel <= .036",
     lambda c, b: _limit(c, "umap-2d", "mse_per_pixel", 0.036, ".4f"),
     "Sainburg et al. 2021: UMAP+AE .0360"),
]

REPORT_ANCHORS = [
    ("ae-2d", "plain AE, 2-D (Sainburg et al. 2021): 5-NN .7926, MSE/px .0369"),
    ("vae-16d", "64-D VAE (Sainburg et al. 2021): 1-NN .9785"),
]


def _limit(c, name, key, bound, fmt, at_least=False):
    value = _m(c, name, key)
    return f"{value:{fmt}}", value >= bound if at_least else value <= bound


def _vs(c, name, twin, key, margin):
    a, b = _m(c, name, key), _m(c, twin, key)
    return f"{a:.2f} vs {b:.2f}", a >= b + margin


def _ratio(c, name, twin, key, limit):
    a, b = _m(c, name, key), _m(c, twin, key)
    return f"{a:.3f} vs {b:.3f} (x{a / b:.2f})", a <= limit * b


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


def report(folder: Path = ZOO_DIR) -> str:
    """The markdown table of every checkpoint's metrics beside the anchors and baselines."""
    ckpts = collect(folder)
    base = json.loads((folder / "baselines.json").read_text()) if (folder / "baselines.json").is_file() else {}
    on = next(iter(ckpts.values()))["measured_on"] if ckpts else base.get("measured_on", {})
    lines = ["# Checkpoint zoo", "",
             f"Measured on {on.get('dataset')} {on.get('split')} ({on.get('size')} images), neighbours and kNN "
             f"against the train split ({on.get('train_split_size')} images: the first 22,699 of the official "
             "training set, which the models were also trained on, 10% held out for validation).",
             "Regenerate with `python -m aecore zoo` (retrain) and `python -m aecore report > checkpoints/README.md`.",
             "", "## Measured", "",
             "| checkpoint | kind / body | code | train s | " + " | ".join(c[1] for c in COLUMNS) + " |",
             "|---" * (4 + len(COLUMNS)) + "|"]
    for name, c in ckpts.items():
        model = c["config"]["model"]
        cells = [f"{c['metrics'][k]:.{p}f}" for k, _, p in COLUMNS]
        lines.append(f"| {name} | {model['kind']} / {model['body']} | {model['latent_dim']} | "
                     f"{c['config']['train_seconds']:.0f} | " + " | ".join(cells) + " |")
    for key in ("pca-2", "pca-20", "pca-30"):
        if key in base:
            cells = [f"{base[key][k]:.{p}f}" if k in base[key] else "" for k, _, p in COLUMNS]
            lines.append(f"| baseline {key.upper()} | pca | {key.split('-')[1]} | | " + " | ".join(cells) + " |")
    lines += ["", "## Goals", "", "| checkpoint | goal | measured | met | anchor |", "|---|---|---|---|---|"]
    for name, goal, measure, anchor in GOALS:
        try:
            value, met = measure(ckpts, base)
            verdict = "yes" if met else "**no**"
        except KeyError:
            value, verdict = "not trained", "**no**"
        lines.append(f"| {name} | {goal} | {value} | {verdict} | {anchor} |")
    lines += ["", "Reported without a goal: " + "; ".join(f"{n}: {a}" for n, a in REPORT_ANCHORS) + ".", ""]
    if "median-3x3" in base:
        mb = base["median-3x3"]
        lines += [f"Denoising baselines at Gaussian sigma 0.5: noisy input {mb['noisy_psnr']:.2f} dB, "
                  f"3x3 median filter {mb['denoise_psnr']:.2f} dB PSNR.", ""]
    return "\n".join(lines)
