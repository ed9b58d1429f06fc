"""Evaluation metrics and baselines, as pure functions of arrays (numpy or torch) and models.

Pixels are in [0, 1] (uint8 inputs are divided by 255); images are stacks of one shape in the
display layout ((N, H, W) grey, (N, H, W, 3) colour) or the batch layout ((N, C, H, W)).
Each docstring says whether a quantity is summed over an image's C*H*W pixel values ("per
image": grows with the image size) or a mean per pixel value ("per pixel": comparable across
sizes). Large sets are read a chunk at a time: a dataset's uint8 images are never copied whole
as floats (100,000 colour 64x64 images are 1.2 GB as uint8, 4.9 GB as float32). The
approximation factors of neighbour search are in search.py (and importable from here).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..checks import as_generator
from ..latent.codec import eval_mode, image_shape_of, model_device
from ..models import Unavailable
from ..models.penalties import jacobian_sq_norms
from ..pictures.pixels import as_image_batch, display_shape, numpy_of, unit_float
from .search import approximation_factors, nearest_pixel_distances  # noqa: F401 -- metrics of neighbour search

PSNR_CAP_DB = 100.0  # PSNR of a perfect reconstruction (MSE = 0), instead of infinity
BCE_EPS = 1e-6       # decoded pixels are clipped to [eps, 1 - eps] for the cross-entropy
ROWS = 1000          # images per chunk of the per-image errors


def _flat(a, dtype=np.float64) -> np.ndarray:
    """Array or tensor (N, ...) -> float numpy (N, D), uint8 scaled to [0, 1]."""
    a = unit_float(a, dtype)
    return a.reshape(len(a), -1)


def per_image_errors(x, x_hat, chunk: int = ROWS) -> dict[str, np.ndarray]:
    """Per image (N,) float64, x the clean images and x_hat their reconstructions in [0, 1] (any
    layout, one shape; uint8 or float), read `chunk` images at a time: "sse" the squared error
    summed over the pixel values, "bce" the binary cross-entropy (nats) of x given x_hat summed
    over them (x_hat clipped to [BCE_EPS, 1 - BCE_EPS]), "pixels" the values per image."""
    sse, bce = np.empty(len(x)), np.empty(len(x))
    for s in range(0, len(x), chunk):
        a, b = _flat(x[s:s + chunk]), _flat(x_hat[s:s + chunk])
        sse[s:s + chunk] = ((a - b) ** 2).sum(axis=1)
        b = np.clip(b, BCE_EPS, 1 - BCE_EPS)
        bce[s:s + chunk] = -(a * np.log(b) + (1 - a) * np.log1p(-b)).sum(axis=1)
    pixels = int(np.prod(np.shape(x)[1:])) if len(x) else 1
    return {"sse": sse, "bce": bce, "pixels": np.full(len(x), pixels)}


def reconstruction_errors(x, x_hat) -> dict:
    """Reconstruction figures, pixels in [0, 1]. Per image: 'sse_per_image', the squared error
    summed over the pixel values of an image (784 for MNIST), mean over images. Per pixel value
    (comparable across image sizes): 'mse_per_pixel' (the same divided by the values per image),
    'bce_per_pixel' (binary cross-entropy in nats), 'recon_psnr' (mean over images of the PSNR in
    dB, psnr's definition)."""
    errors = per_image_errors(x, x_hat)
    values = errors["pixels"][:1].sum() or 1
    mse = errors["sse"] / values
    with np.errstate(divide="ignore"):
        db = np.minimum(10.0 * np.log10(1.0 / mse), PSNR_CAP_DB)
    return {"sse_per_image": float(errors["sse"].mean()), "mse_per_pixel": float(mse.mean()),
            "bce_per_pixel": float(errors["bce"].mean() / values), "recon_psnr": float(db.mean())}


def knn_accuracy(train_codes, train_labels, test_codes, test_labels, k: int = 5) -> float:
    """Accuracy in [0, 1] of a k-nearest-neighbour classifier (Euclidean, majority vote) fitted
    on the train codes and scored on the test codes."""
    from sklearn.neighbors import KNeighborsClassifier
    clf = KNeighborsClassifier(n_neighbors=k).fit(_flat(train_codes), np.asarray(train_labels))
    return float(clf.score(_flat(test_codes), np.asarray(test_labels)))


def trustworthiness(pixels, codes, k: int = 5) -> float:
    """sklearn's trustworthiness in [0, 1] of codes w.r.t. the flattened pixels: 1 when no point
    gains, among its k nearest code-space neighbours, a point that is far in pixel space.
    Memory is O(N^2): use a few thousand points."""
    from sklearn.manifold import trustworthiness as _tw
    return float(_tw(_flat(pixels), _flat(codes), n_neighbors=k))


def psnr(clean, output) -> np.ndarray:
    """Per-image PSNR (N,) in dB over the whole image: 10 log10(1 / MSE), MAX = 1, MSE the mean
    per pixel value (over every channel). A perfect image (MSE = 0) gets PSNR_CAP_DB = 100 dB; all
    values are capped there. Read ROWS images at a time."""
    mse = np.concatenate([((_flat(clean[s:s + ROWS]) - _flat(output[s:s + ROWS])) ** 2).mean(axis=1)
                          for s in range(0, len(clean), ROWS)] or [np.zeros(0)])
    with np.errstate(divide="ignore"):
        db = 10.0 * np.log10(1.0 / mse)
    return np.minimum(db, PSNR_CAP_DB)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    ax = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-ax ** 2 / (2 * sigma ** 2))
    g /= g.sum()
    return torch.outer(g, g)[None, None]


def _planes(images) -> torch.Tensor:
    """A stack of any layout -> float64 (N, C, H, W) in [0, 1]: each channel a plane of its own."""
    a = unit_float(images, np.float64)
    if a.ndim == 4 and a.shape[1] not in (1, 3):  # display layout (N, H, W, C)
        a = np.moveaxis(a, -1, 1)
    return torch.from_numpy(np.ascontiguousarray(a.reshape(len(a), -1, *a.shape[-2:])))


def ssim(clean, output) -> np.ndarray:
    """Per-image SSIM (N,) of Wang et al. (2004): 11 x 11 Gaussian window (sigma 1.5),
    K1 = 0.01, K2 = 0.03, data range 1, population (co)variances, averaged over the window
    positions fully inside the image (18 x 18 for 28 x 28), as scikit-image's
    structural_similarity(gaussian_weights=True, use_sample_covariance=False, data_range=1);
    for colour images the mean over the three channels (its channel_axis), and for images of
    8 to 10 pixels a side a 7 x 7 window (the same Gaussian, cut at 2 sigma)."""
    x, y = _planes(clean), _planes(output)
    if x.shape != y.shape or min(x.shape[-2:]) < 7:
        raise ValueError(f"ssim needs two image stacks of one shape, at least 7 x 7; "
                         f"got {tuple(x.shape)} and {tuple(y.shape)}")
    n, c = x.shape[:2]
    x, y = x.reshape(n * c, 1, *x.shape[-2:]), y.reshape(n * c, 1, *y.shape[-2:])
    w = _gaussian_window(11 if min(x.shape[-2:]) >= 11 else 7)
    # a few hundred planes at a time: a single-threaded float64 conv unfolds its whole batch
    # (planes x 121 x output pixels: 85 GB for 10,000 colour 64x64 images at once)
    s = torch.cat([_ssim_map_means(x[i:i + SSIM_PLANES], y[i:i + SSIM_PLANES], w)
                   for i in range(0, len(x), SSIM_PLANES)]) if len(x) else torch.zeros(0, dtype=x.dtype)
    return s.reshape(n, c).mean(dim=1).numpy()


SSIM_PLANES = 256  # image planes per SSIM convolution


def _ssim_map_means(x: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The mean SSIM map of each plane pair (P,) of x, y (P, 1, H, W)."""
    mx, my = F.conv2d(x, w), F.conv2d(y, w)
    vx = F.conv2d(x * x, w) - mx * mx
    vy = F.conv2d(y * y, w) - my * my
    cxy = F.conv2d(x * y, w) - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.mean(dim=(1, 2, 3))


def sparsity_stats(codes, threshold: float = 0.1) -> dict:
    """Activity of codes (N, d). A unit is 'active' on an image when its code value is
    > threshold (default 0.1, for sigmoid/ReLU codes in [0, 1] or [0, inf)).
    mean_activation: mean code value; active_fraction: mean over images of the fraction of
    active units; dead_units: units active on no image; dead_fraction: dead_units / d;
    unit_frequency: per unit, the fraction of images on which it is active (list of d floats)."""
    codes = _flat(codes)
    active = codes > threshold
    freq = active.mean(axis=0)
    dead = int((~active.any(axis=0)).sum())
    return {"mean_activation": float(codes.mean()), "active_fraction": float(active.mean()),
            "dead_units": dead, "dead_fraction": dead / codes.shape[1],
            "unit_frequency": freq.tolist()}


def neg_elbo(model: nn.Module, x, n_samples: int = 1, generator=0, batch_size: int = 1000) -> float:
    """Negative ELBO in nats per image (mean over images) of a model with a prior: its own
    `neg_elbo` (a VAE's objective at beta = 1 with a Bernoulli decoder) at z = mu + sigma * eps,
    averaged over n_samples. eps comes from `generator` (a torch.Generator or a seed; the default
    seed 0 makes the value reproducible), all drawn up front so batch_size does not change it."""
    if not model.has_prior:
        raise ValueError(f"a {model.kind!r} model has no prior, so no ELBO")
    g, shape = as_generator(generator), image_shape_of(model)
    device = model_device(model)
    eps_all = torch.randn(n_samples, len(x), model.latent_dim, generator=g)
    total = 0.0
    with eval_mode(model), torch.no_grad():
        for s in range(0, len(x), batch_size):
            xb = as_image_batch(x[s:s + batch_size], shape).to(device)
            per_image = sum(model.neg_elbo(xb, eps_all[i, s:s + batch_size].to(device)) for i in range(n_samples))
            total += float(per_image.sum()) / n_samples
    return total / len(x)


def jacobian_frobenius(model: nn.Module, x, batch_size: int = 500) -> float:
    """Mean over images of ||d encode(x) / dx||_F (the norm, not squared) of the (d, C*H*W)
    Jacobian, computed exactly (aecore.models.penalties.jacobian_sq_norms). Eval mode, so the
    images of a batch are independent. Unavailable for a model without gradients (ONNX)."""
    if getattr(model, "no_gradients", None):  # any other torch module has gradients
        raise Unavailable(f"no encoder Jacobian: {model.no_gradients}")
    shape = image_shape_of(model)
    device = model_device(model)
    norms = []
    with eval_mode(model):
        for s in range(0, len(x), batch_size):
            xb = as_image_batch(x[s:s + batch_size], shape).to(device).clone().requires_grad_(True)
            norms.append(jacobian_sq_norms(xb, model.encode(xb)).sqrt().detach().cpu())
    return float(torch.cat(norms).mean())


class PCABaseline(NamedTuple):
    train_codes: np.ndarray  # (N_train, n_components) float32
    test_codes: np.ndarray  # (N_test, n_components) float32
    test_reconstructions: np.ndarray  # (N_test, H, W[, 3]) float32, clipped to [0, 1], as test_pixels' display layout
    pca: object  # the fitted sklearn PCA


def pca_baseline(train_pixels, test_pixels, n_components: int, seed: int = 0) -> PCABaseline:
    """PCA fitted on the flattened train pixels in [0, 1]: codes of train and test, and the
    test reconstructions, to compare with an autoencoder of latent_dim = n_components."""
    from sklearn.decomposition import PCA
    train, test = _flat(train_pixels, np.float32), _flat(test_pixels, np.float32)
    pca = PCA(n_components=n_components, random_state=seed).fit(train)
    test_codes = pca.transform(test)
    recon = np.clip(pca.inverse_transform(test_codes), 0.0, 1.0).reshape(len(test), *display_shape(test_pixels).display)
    return PCABaseline(pca.transform(train).astype(np.float32), test_codes.astype(np.float32),
                       recon.astype(np.float32), pca)


def median_filter(images, size: int = 3) -> np.ndarray:
    """Denoising baseline: a size x size median filter on each image, each channel on its own
    (edges reflected), of a stack in the display layout ((N, H, W), (N, H, W, 3)) or the batch
    layout ((N, C, H, W)). Returns a numpy array of the input's shape and dtype."""
    from scipy.ndimage import median_filter as _median
    a = numpy_of(images)
    if a.ndim == 4 and a.shape[-1] in (1, 3) and a.shape[1] not in (1, 3):  # (N, H, W, C)
        return _median(a, size=(1, size, size, 1), mode="reflect")
    return _median(a, size=(1,) * (a.ndim - 2) + (size, size), mode="reflect")
