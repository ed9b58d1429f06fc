"""Measure a model on a dataset split: the numbers in metrics.json and the zoo report.

Every metric is computed on the test split (the queries) against the train split (kNN fit,
neighbour search base); definitions are in aecore.measure.metrics.
"""
from __future__ import annotations

import time

from ..data import load_dataset
from ..latent.codec import decode_codes, encode_dataset
from ..models import Unavailable
from ..pictures.pixels import as_image_batch, unit_float
from . import metrics
from .denoise import standard_scores
from .disentangle import factor_report


def evaluate(model, dataset: str, max_test: int = 0) -> dict:
    """All metrics of `model` on `dataset` as {"measured_on": ..., "metrics": {name: float}}, plus
    "unavailable": {name: why} for metrics the model cannot give (an ONNX graph's Jacobian)."""
    start = time.perf_counter()
    train, test = load_dataset(dataset, "train"), load_dataset(dataset, "test")
    test_images, test_labels = test.images, test.labels
    if max_test:
        test_images, test_labels = test_images[:max_test], test_labels[:max_test]
    test_px, train_px = unit_float(test_images), unit_float(train.images)
    train_codes, test_codes = encode_dataset(model, train.images), encode_dataset(model, test_images)
    out: dict[str, float] = {}
    out.update(metrics.reconstruction_errors(test_px, decode_codes(model, test_codes)))
    for k in (1, 5):
        out[f"knn{k}"] = metrics.knn_accuracy(train_codes, train.labels, test_codes, test_labels, k)
    out["trustworthiness"] = metrics.trustworthiness(test_px, test_codes, k=5)
    out.update(metrics.approximation_factors(test_px, train_px, test_codes, train_codes))
    out.update(standard_scores(test_px, model))
    stats = metrics.sparsity_stats(test_codes)
    out.update({f"code_{k}": v for k, v in stats.items() if k != "unit_frequency"})
    unavailable: dict[str, str] = {}
    optional = {"jacobian_frobenius": lambda: metrics.jacobian_frobenius(model, test_px[:2000])}
    if model.has_prior:
        optional["neg_elbo"] = lambda: metrics.neg_elbo(model, as_image_batch(test_px), n_samples=1, generator=0)
    for name, measure in optional.items():
        try:
            out[name] = measure()
        except Unavailable as why:
            unavailable[name] = str(why)
    factors = _factors(test_codes, test.columns, unavailable)
    out.update(factors.pop("scores", {}))
    return {
        "measured_on": {"dataset": dataset, "split": test.split, "size": len(test_images),
                        "train_split_size": len(train.images)},
        "metrics": {k: float(v) for k, v in out.items()},
        **({"unavailable": unavailable} if unavailable else {}),
        **({"factors": factors} if factors else {}),
        "seconds": round(time.perf_counter() - start, 1),
    }


def _factors(codes, columns: dict, unavailable: dict) -> dict:
    """disentangle.factor_report of the test images' columns (the first len(codes) rows), {} for
    a dataset without factor columns (MNIST); a set whose factors cannot be scored says why in
    `unavailable`."""
    if not columns:
        return {}
    try:
        return factor_report(codes, {name: values[:len(codes)] for name, values in columns.items()}) or {}
    except ValueError as why:
        unavailable["mig"] = f"the factor columns cannot be scored: {why}"
        return {}
