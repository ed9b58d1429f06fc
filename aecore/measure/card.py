"""What a model card says about a checkpoint: architecture, size, training, and its metrics
beside published anchors. Plain data (dicts and rows), so the app and reports can show it."""
from __future__ import annotations

from ..checkpoint import Checkpoint
from .factors import FACTOR_DESCRIPTIONS
from ..pictures.pixels import MNIST, ImageShape

# metric name -> what it measures (units), for tables
DESCRIPTIONS = {
    "sse_per_image": "squared error summed over an image's pixel values (784 for 28x28 grey), mean over images",
    "mse_per_pixel": "squared error per pixel value (pixels in [0, 1]; compares across image sizes)",
    "bce_per_pixel": "binary cross-entropy per pixel value, nats (compares across image sizes)",
    "recon_psnr": "PSNR (dB) of the reconstruction, mean over images (per pixel value)",
    "knn1": "1-NN classifier accuracy on the codes", "knn5": "5-NN classifier accuracy on the codes",
    "trustworthiness": "are code-space neighbours pixel-space neighbours (k=5, 1 = best)",
    "aaf": "average approximation factor of latent neighbour search (1 = exact)",
    "maf": "maximum approximation factor of latent neighbour search",
    "denoise_psnr": "PSNR (dB) of the output for Gaussian noise sigma 0.5",
    "denoise_ssim": "SSIM of the output for Gaussian noise sigma 0.5",
    "noisy_psnr": "PSNR (dB) of the noisy input itself (baseline)",
    "median_psnr": "PSNR (dB) of a 3x3 median filter (baseline)",
    "code_mean_activation": "mean code value", "code_active_fraction": "fraction of units > 0.1",
    "code_dead_units": "units never > 0.1", "code_dead_fraction": "dead units / code size",
    "jacobian_frobenius": "||dz/dx||_F of the encoder, mean over images",
    "neg_elbo": "negative ELBO, nats per image (lower is better)",
    "neg_elbo_per_pixel": "negative ELBO per pixel value, nats (compares across image sizes)",
}
DESCRIPTIONS.update(FACTOR_DESCRIPTIONS)  # mig, dci_*: measured on datasets with factor columns only


def anchors_for(checkpoint: Checkpoint) -> dict[str, tuple[float, str]]:
    """{metric: (published value, source)} from the checkpoint's own "about" (its recipe entry
    wrote them); {} when it names none."""
    anchors = (checkpoint.config.get("about") or {}).get("anchors") or {}
    return {name: (float(a["value"]), str(a.get("source", ""))) for name, a in anchors.items()}


def trained_on(how: dict) -> str:
    """' on cpu', ' on 2 cpu processes (gloo)' from config.json's "trained_with"; '' without one."""
    if not how:
        return ""
    n, device = how.get("world_size", 1), how.get("device", "?")
    return f" on {device}" if n == 1 else f" on {n} {device} processes ({how.get('backend', '?')})"


def model_card(checkpoint: Checkpoint) -> dict[str, str]:
    """Field -> text for the card: what the model says about itself (kind, body, layers, code
    size, parameters: its describe()), then training data and time, where the config records them."""
    c = checkpoint.config
    data = c.get("dataset") or {}
    if "train_size" in data:
        training = f"{data.get('name', '?')}, {data['train_size']} train / {data.get('val_size', '?')} val images"
    else:
        training = f"{data.get('name', '?')} (image counts not recorded)"
    epochs = len(c.get("history") or [])
    outside = "not recorded with this model"
    return {
        **checkpoint.model.describe(),
        "training data": training,
        "training time": f"{c['train_seconds']} s, {epochs} epoch{'s' if epochs != 1 else ''}"
                         + trained_on(c.get("trained_with") or {})
                         if "train_seconds" in c else outside,
        "created": f"{c['created']} (aecore {c.get('aecore_version', '?')})" if "created" in c else outside,
        **{f"factor: {row['factor']}": factor_text(row) for row in factor_rows(checkpoint)},
    }


def factor_rows(checkpoint: Checkpoint) -> list[dict]:
    """For each factor of the dataset it was measured on (metrics.json's "factors", written by
    evaluate), the unit that predicts it best: [{"factor", "unit", "score", "gap"}]; [] when there
    is none. Entries that are not as evaluate writes them are skipped (metrics.json may be uploaded)."""
    best = ((checkpoint.metrics or {}).get("factors") or {}).get("best_units")
    rows = []
    for name, entry in (best.items() if isinstance(best, dict) else ()):
        try:
            rows.append({"factor": str(name)[:64], "unit": int(entry["unit"]),
                         "score": float(entry["score"]), "gap": float(entry["gap"])})
        except (TypeError, KeyError, ValueError, AttributeError):
            continue
    return rows


def factor_text(row: dict) -> str:
    """'unit 3: 82% of its information, 61 points ahead of the next unit'."""
    return (f"unit {row['unit']}: {row['score']:.0%} of its information "
            f"(normalised mutual information), {row['gap']:.0%} ahead of the next unit")


def metric_rows(checkpoint: Checkpoint) -> list[dict]:
    """One row per metric in metrics.json: metric, value, anchor, anchor source, meaning.
    Counts (n_queries, n_excluded) are left out; a metric the model could not give (metrics.json's
    "unavailable") has no value and says why. [] when there is no metrics.json."""
    found = (checkpoint.metrics or {}).get("metrics", {})
    missing = (checkpoint.metrics or {}).get("unavailable", {})
    anchors = anchors_for(checkpoint)
    rows = []
    for name, value in found.items():
        if name.startswith("n_"):
            continue
        anchor, source = anchors.get(name, (None, ""))
        rows.append({"metric": name, "value": value, "anchor": anchor, "source": source,
                     "meaning": DESCRIPTIONS.get(name, "")})
    for name, why in missing.items():
        rows.append({"metric": name, "value": None, "anchor": anchors.get(name, (None, ""))[0],
                     "source": "", "meaning": f"not measured: {why}"})
    return rows


def images_measured(on: dict | None, image=None) -> str:
    """'mnist test (10,000 images, 28x28 grey)': which images a figure was measured on, from
    metrics.json's "measured_on" (its "image", else `image`: the model's [C, H, W] or ImageShape;
    else 28x28 grey, the only shape before shapes were recorded). '' without a "measured_on"."""
    if not on:
        return ""
    shape = on.get("image") or image or MNIST
    try:
        shape = shape if isinstance(shape, ImageShape) else ImageShape.from_list(shape)
        what = f", {shape}"
    except ValueError:
        what = ""
    size = on.get("size", "?")
    count = f"{size:,}" if isinstance(size, int) and not isinstance(size, bool) else str(size)
    return f"{on.get('dataset', '?')} {on.get('split', '?')} ({count} images{what})"


def measured_on(checkpoint: Checkpoint) -> str:
    """'mnist test (10,000 images, 28x28 grey)' from metrics.json, or '' without one."""
    on = (checkpoint.metrics or {}).get("measured_on") or {}
    return images_measured(on, getattr(checkpoint.model, "image_shape", None))
