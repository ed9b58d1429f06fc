"""What a model card says about a checkpoint: architecture, size, training, and its metrics
beside published anchors. Plain data (dicts and rows), so the app and reports can show it."""
from __future__ import annotations

from ..checkpoint import Checkpoint
from ..config import ModelConfig

# metric name -> what it measures (units), for tables
DESCRIPTIONS = {
    "sse_per_image": "squared error summed over 784 pixels, mean over images",
    "mse_per_pixel": "squared error per pixel (pixels in [0, 1])",
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
}


def layer_sizes(config: ModelConfig) -> str:
    """The widths from pixels to code and back, e.g. '784 → 512 → 256 → 2 → 256 → 512 → 784';
    conv bodies show their channels, e.g. '1×28×28 → 32ch → 64ch → 2 → … → 1×28×28'."""
    if config.body == "conv":
        down = ["1×28×28", *(f"{c}ch" for c in config.channels), *map(str, config.hidden)]
    else:
        down = ["784", *map(str, config.hidden)]
    return " → ".join([*down, str(config.latent_dim), *reversed(down)])


def parameter_count(checkpoint: Checkpoint) -> int:
    return sum(p.numel() for p in checkpoint.model.parameters())


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
    """Field -> text for the card: kind, body, layers, parameters, training data and time."""
    c, model = checkpoint.config, checkpoint.model.config
    data = c.get("dataset") or {}
    training = f"{data.get('name', '?')}, {data.get('train_size', '?')} train / {data.get('val_size', '?')} val images"
    epochs = len(c.get("history") or [])
    return {
        "kind": model.kind, "body": f"{model.body} ({model.activation}, {model.recon} loss)",
        "layer sizes": layer_sizes(model), "code size": str(model.latent_dim),
        "parameters": f"{parameter_count(checkpoint):,}",
        "training data": training,
        "training time": f"{c.get('train_seconds', '?')} s, {epochs} epoch{'s' if epochs != 1 else ''}"
                         + trained_on(c.get("trained_with") or {}),
        "created": f"{c.get('created', '?')} (aecore {c.get('aecore_version', '?')})",
    }


def metric_rows(checkpoint: Checkpoint) -> list[dict]:
    """One row per metric in metrics.json: metric, value, anchor, anchor source, meaning.
    Counts (n_queries, n_excluded) are left out. [] when there is no metrics.json."""
    found = (checkpoint.metrics or {}).get("metrics", {})
    anchors = anchors_for(checkpoint)
    rows = []
    for name, value in found.items():
        if name.startswith("n_"):
            continue
        anchor, source = anchors.get(name, (None, ""))
        rows.append({"metric": name, "value": value, "anchor": anchor, "source": source,
                     "meaning": DESCRIPTIONS.get(name, "")})
    return rows


def measured_on(checkpoint: Checkpoint) -> str:
    """'mnist test (10000 images)' from metrics.json, or '' without one."""
    on = (checkpoint.metrics or {}).get("measured_on") or {}
    return f"{on.get('dataset', '?')} {on.get('split', '?')} ({on.get('size', '?')} images)" if on else ""
