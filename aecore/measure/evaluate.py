"""Measure a model on a dataset split: the numbers in metrics.json and the zoo report.

Every metric is computed on the test split (the queries) against the train split (kNN fit,
neighbour search base); definitions are in aecore.measure.metrics. Figures summed over an
image's pixel values ("per image") grow with the image size; those "per pixel" compare across
sizes, and metrics.json's "measured_on" says which images they were measured on.
"""
from __future__ import annotations

import time

from ..checkpoint.fit import check_fit
from ..data import load_dataset
from ..latent.codec import decode_all, encode_all
from ..models import Unavailable
from ..pictures.pixels import unit_float
from . import metrics
from .denoise import standard_scores
from .factors import factor_report

ROWS = 1000  # test images decoded at a time for the reconstruction figures


def evaluate(model, dataset: str, max_test: int = 0) -> dict:
    """All metrics of `model` on `dataset` as {"measured_on": ..., "metrics": {name: float}}, plus
    "unavailable": {name: why} for metrics the model cannot give (an ONNX graph's Jacobian).
    ValueError naming both shapes when the dataset's images are not the model's."""
    start = time.perf_counter()
    train, test = load_dataset(dataset, "train"), load_dataset(dataset, "test")
    shape = check_fit(model, test)
    test_images, test_labels = test.images, test.labels
    if max_test:
        test_images, test_labels = test_images[:max_test], test_labels[:max_test]
    test_px = unit_float(test_images)  # the test split only: a dataset's train images stay uint8
    train_codes, test_codes = encode_all(model, train.images), encode_all(model, test_images)
    out: dict[str, float] = {}
    out.update(reconstruction_figures(model, test_px, test_codes))
    for k in (1, 5):
        out[f"knn{k}"] = metrics.knn_accuracy(train_codes, train.labels, test_codes, test_labels, k)
    out["trustworthiness"] = metrics.trustworthiness(test_px, test_codes, k=5)
    out.update(metrics.approximation_factors(test_images, train.images, test_codes, train_codes))
    out.update(standard_scores(test_px, model))
    stats = metrics.sparsity_stats(test_codes)
    out.update({f"code_{k}": v for k, v in stats.items() if k != "unit_frequency"})
    unavailable: dict[str, str] = {}
    optional = {"jacobian_frobenius": lambda: metrics.jacobian_frobenius(model, test_px[:2000])}
    if model.has_prior:
        optional["neg_elbo"] = lambda: metrics.neg_elbo(model, test_px, n_samples=1, generator=0)
    for name, measure in optional.items():
        try:
            out[name] = measure()
        except Unavailable as why:
            unavailable[name] = str(why)
    if "neg_elbo" in out:
        out["neg_elbo_per_pixel"] = out["neg_elbo"] / shape.pixels
    factors = _factors(test_codes, test.columns, unavailable)
    out.update(factors.pop("scores", {}))
    return {
        "measured_on": {"dataset": dataset, "split": test.split, "size": len(test_images),
                        "train_split_size": len(train.images), "image": shape.to_list()},
        "metrics": {k: float(v) for k, v in out.items()},
        **({"unavailable": unavailable} if unavailable else {}),
        **({"factors": factors} if factors else {}),
        "seconds": round(time.perf_counter() - start, 1),
    }


def _factors(codes, columns: dict, unavailable: dict) -> dict:
    """factors.factor_report of the test images' columns (the first len(codes) rows), {} for
    a dataset without factor columns (MNIST); a set whose factors cannot be scored says why in
    `unavailable`."""
    if not columns:
        return {}
    try:
        return factor_report(codes, {name: values[:len(codes)] for name, values in columns.items()}) or {}
    except ValueError as why:
        unavailable["mig"] = f"the factor columns cannot be scored: {why}"
        return {}
class _Decoded:
    """The reconstructions of codes, decoded ROWS at a time as metrics.per_image_errors reads
    them (a slice), so a large test set is never decoded whole."""

    def __init__(self, model, codes):
        self.model, self.codes = model, codes

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, rows: slice):
        return decode_all(self.model, self.codes[rows])


def reconstruction_figures(model, images, codes) -> dict:
    """metrics.reconstruction_errors of the model's reconstructions of `images` (from their
    `codes`), decoded a chunk at a time."""
    return metrics.reconstruction_errors(images, _Decoded(model, codes))
