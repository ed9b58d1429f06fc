"""Disentanglement scores: how well single code units capture known generative factors.

Pure functions on numpy arrays. `codes` are (N, d) numbers, one row per image; `factors` is a dict
name -> (N,) array per image, numbers (float or int) or categories (strings, bools).

- MIG, the mutual information gap (Chen et al. 2018, "Isolating sources of disentanglement in
  VAEs", section 4.1), as disentanglement_lib computes it: each code unit is cut into 20
  equal-width bins, the mutual information (nats) between every unit and every factor is divided
  by the factor's entropy, and the gap between the best and the second-best unit is averaged over
  factors. 1: each factor lives in one unit alone; 0: no unit stands out (or the factor is copied
  into two units).
- DCI disentanglement / completeness / informativeness (Eastwood and Williams 2018, "A framework
  for the quantitative evaluation of disentangled representations"): one predictor per factor
  from all units gives an importance matrix R (d units x K factors). Disentanglement: 1 minus the
  entropy (base K) of each unit's importances over the factors, weighted by the unit's share of all
  importance; completeness: 1 minus the entropy (base d) of each factor's importances over the
  units, weighted by the factor's share (both as disentanglement_lib's dci.py). The predictor is
  the paper's random forest: a regressor of a numeric factor's own value (the paper's continuous
  factors), a classifier of a category. Its trees are shallow (depth 6; disentanglement_lib's
  boosted trees have depth 3): deep trees fit noise with every unit and spread the importances
  (a factor copied with noise of a fifth of its spread then scored 0.1 instead of 0.9).
  Informativeness: the predictors' held-out score averaged over factors, R^2 (1 - Eastwood and
  Williams' normalised squared error, clipped at 0) for numbers, accuracy (as disentanglement_lib)
  for categories; 1 is best. Fitted on a seeded two thirds of the images (at most 10,000, as
  disentanglement_lib) and tested on the rest (at most 5,000).

For MIG, factors are discretised as the papers do: categories and numbers with at most 20 distinct
values keep their own values; other numbers are cut into 20 equal-width bins.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

BINS = 20           # equal-width bins per code unit and per continuous factor (disentanglement_lib)
MAX_TRAIN, MAX_TEST = 10_000, 5_000  # DCI's predictor: images to fit it on and to test it on
TREES, TREE_DEPTH = 30, 6  # each factor's random forest: shallow trees, so noise fits do not dilute importances


def _discretise(values: np.ndarray, bins: int = BINS) -> np.ndarray:
    """(N,) -> int64 labels 0..bins-1 by equal-width bins over the values' range
    (np.histogram's edges and np.digitize, as disentanglement_lib's histogram discretiser)."""
    edges = np.histogram(values, bins)[1]
    return np.digitize(values, edges[:-1]) - 1


def factor_labels(values, bins: int = BINS) -> np.ndarray:
    """One factor's values (N,) -> int64 labels: categories and numbers with at most `bins`
    distinct values keep their own values (numbered in sorted order), other numbers are cut into
    `bins` equal-width bins."""
    values = np.asarray(values)
    numeric = values.dtype.kind in "iuf"
    if numeric and not np.isfinite(values).all():
        raise ValueError("a factor holds NaN or infinite values: drop those images or fill the gaps first")
    levels, labels = np.unique(values, return_inverse=True)
    if numeric and len(levels) > bins:
        return _discretise(values.astype(np.float64), bins)
    return labels.astype(np.int64)


def code_labels(codes, bins: int = BINS) -> np.ndarray:
    """Codes (N, d) -> int64 labels (N, d): each unit cut into `bins` equal-width bins over its range."""
    codes = np.asarray(codes, np.float64)
    return np.stack([_discretise(unit, bins) for unit in codes.T], axis=1)


def _check(codes, factors: dict) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    codes = np.asarray(codes, np.float64)
    if codes.ndim != 2 or codes.shape[1] == 0 or len(codes) < 2:
        raise ValueError(f"codes must be (N, d) with N >= 2 images and d >= 1 units; got shape {codes.shape}")
    if not np.isfinite(codes).all():
        raise ValueError("the codes hold NaN or infinite values: the model's encoder diverged on some images")
    if not factors:
        raise ValueError("no factors given: pass a dict of factor name -> one value per image")
    out = {}
    for name, values in factors.items():
        values = np.asarray(values)
        if values.shape != (len(codes),):
            raise ValueError(f"factor {name!r} has shape {values.shape}; it needs one value per image, ({len(codes)},)")
        out[name] = factor_labels(values)
    return codes, out


def entropy(labels: np.ndarray) -> float:
    """Entropy (nats) of int labels (N,)."""
    p = np.bincount(labels) / len(labels)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def mutual_information(a: np.ndarray, b: np.ndarray) -> float:
    """Mutual information (nats) between two int label arrays (N,), from their joint histogram
    (the plug-in estimate, as sklearn.metrics.mutual_info_score)."""
    nb = int(b.max()) + 1
    joint = np.bincount(a * nb + b, minlength=(int(a.max()) + 1) * nb).reshape(-1, nb) / len(a)
    pa, pb = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nz = joint > 0
    return float((joint[nz] * np.log(joint[nz] / (pa @ pb)[nz])).sum())


class FactorInformation(NamedTuple):
    names: list[str]          # the factors that vary (constant ones are left out: nothing to capture)
    normalised: np.ndarray    # (d, K) mutual information of unit i and factor k / factor k's entropy, in [0, 1]
    skipped: list[str]        # factors with one value only


def factor_information(codes, factors: dict) -> FactorInformation:
    """Mutual information of every code unit with every factor, each divided by the factor's entropy."""
    codes, labels = _check(codes, factors)
    units = code_labels(codes)
    names = [n for n, y in labels.items() if entropy(y) > 0]
    matrix = np.zeros((codes.shape[1], len(names)))
    for k, name in enumerate(names):
        h = entropy(labels[name])
        matrix[:, k] = [mutual_information(units[:, i], labels[name]) / h for i in range(codes.shape[1])]
    return FactorInformation(names, np.clip(matrix, 0.0, 1.0), [n for n in labels if n not in names])


def _varying(info: FactorInformation) -> None:
    if not info.names:
        raise ValueError(f"every factor has one value only ({', '.join(info.skipped)}): "
                         "a disentanglement score needs factors that vary between images")


def mig_per_factor(codes, factors: dict) -> dict[str, float]:
    """Factor -> the gap between the normalised mutual information of its best and second-best
    unit (a one-unit code's second best is 0). Constant factors are left out."""
    info = factor_information(codes, factors)
    _varying(info)
    top = -np.sort(-info.normalised, axis=0)
    second = top[1] if len(top) > 1 else np.zeros(len(info.names))
    return {name: float(gap) for name, gap in zip(info.names, top[0] - second)}


def mig(codes, factors: dict) -> float:
    """The mutual information gap (Chen et al. 2018), in [0, 1]: mig_per_factor averaged over factors."""
    return float(np.mean(list(mig_per_factor(codes, factors).values())))


class BestUnit(NamedTuple):
    factor: str
    unit: int       # the unit sharing the most information with the factor
    score: float    # that unit's mutual information with the factor / the factor's entropy, in [0, 1]
    gap: float      # score minus the second-best unit's (the factor's MIG term)


def best_units(codes, factors: dict) -> list[BestUnit]:
    """For each varying factor, the unit that predicts it best and how well (the model card's
    rows): the unit with the largest normalised mutual information, that value, and its gap to
    the next unit."""
    info = factor_information(codes, factors)
    _varying(info)
    order = np.argsort(-info.normalised, axis=0, kind="stable")
    rows = []
    for k, name in enumerate(info.names):
        column = info.normalised[:, k]
        second = column[order[1, k]] if len(column) > 1 else 0.0
        rows.append(BestUnit(name, int(order[0, k]), float(column[order[0, k]]), float(column[order[0, k]] - second)))
    return rows


def _split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded train / held-out indices: two thirds to fit (at most MAX_TRAIN), the rest to test
    (at most MAX_TEST)."""
    order = np.random.default_rng(seed).permutation(n)
    cut = min(max(1, (2 * n) // 3), MAX_TRAIN)
    return order[:cut], order[cut:cut + MAX_TEST]


def is_number(values: np.ndarray) -> bool:
    """True for a numeric factor (ints or floats), False for categories (strings, bools)."""
    return np.asarray(values).dtype.kind in "iuf"


def _predictor(values: np.ndarray, seed: int):
    """The random forest that predicts one factor: a regressor of a number, a classifier of a category."""
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor  # scikit-learn only when scoring

    forest = RandomForestRegressor if is_number(values) else RandomForestClassifier
    return forest(n_estimators=TREES, max_depth=TREE_DEPTH, max_features=None, random_state=seed, n_jobs=1)


def _held_out_score(forest, x: np.ndarray, y: np.ndarray, number: bool) -> float:
    """A number's R^2 (1 - error variance / the factor's variance, clipped to [0, 1]); a
    category's accuracy."""
    if not number:
        return float((forest.predict(x) == y).mean())
    spread = float(np.var(y))
    return float(np.clip(1.0 - np.mean((forest.predict(x) - y) ** 2) / spread, 0.0, 1.0)) if spread > 0 else 0.0


def importance_matrix(codes, factors: dict, seed: int = 0) -> tuple[np.ndarray, list[str], dict[str, float]]:
    """(R (d, K): the importance of unit i for predicting factor k, each column summing to 1 or 0,
    the K varying factors' names, factor -> held-out score of its predictor, in [0, 1]).

    Each factor's predictor is a random forest on all units (see _predictor), its impurity-based
    feature importances the column. Constant factors are left out."""
    codes, labels = _check(codes, factors)
    names = [n for n, y in labels.items() if entropy(y) > 0]
    if not names:
        raise ValueError(f"every factor has one value only ({', '.join(labels)}): "
                         "a disentanglement score needs factors that vary between images")
    if len(codes) < 6:
        raise ValueError(f"DCI needs at least 6 images (4 to fit, 2 to test); got {len(codes)}")
    fit, held = _split(len(codes), seed)
    matrix, scores = np.zeros((codes.shape[1], len(names))), {}
    for k, name in enumerate(names):
        raw = np.asarray(factors[name])
        number = is_number(raw)
        y = raw.astype(np.float64) if number else labels[name]
        forest = _predictor(raw, seed).fit(codes[fit], y[fit])
        matrix[:, k] = np.abs(forest.feature_importances_)
        scores[name] = _held_out_score(forest, codes[held], y[held], number)
    return matrix, names, scores


def _one_minus_entropy(p: np.ndarray, base: int) -> np.ndarray:
    """1 - entropy (base `base`) of each column of non-negative weights p, normalised per column
    (the 1e-11 of disentanglement_lib keeps an all-zero column defined: it scores 0)."""
    if base < 2:
        return np.ones(p.shape[1])
    q = (p + 1e-11) / (p + 1e-11).sum(axis=0, keepdims=True)
    return 1.0 - (-(q * np.log(q)).sum(axis=0) / np.log(base))


def dci_from_importance(matrix: np.ndarray) -> tuple[float, float]:
    """(disentanglement, completeness) of an importance matrix R (d units, K factors), as in
    Eastwood and Williams 2018 and disentanglement_lib's dci.py."""
    r = np.asarray(matrix, np.float64)
    weights = r if r.sum() > 0 else np.ones_like(r)
    per_unit = _one_minus_entropy(r.T, r.shape[1])
    per_factor = _one_minus_entropy(r, r.shape[0])
    disentanglement = float((per_unit * weights.sum(axis=1) / weights.sum()).sum())
    completeness = float((per_factor * weights.sum(axis=0) / weights.sum()).sum())
    return disentanglement, completeness


def dci(codes, factors: dict, seed: int = 0) -> dict[str, float]:
    """DCI (Eastwood and Williams 2018): {"disentanglement", "completeness", "informativeness"},
    each in [0, 1], higher is better; informativeness is the mean held-out accuracy of the
    factors' predictors (chance for a factor of n equally common values is 1/n)."""
    matrix, _, accuracy = importance_matrix(codes, factors, seed)
    disentanglement, completeness = dci_from_importance(matrix)
    return {"disentanglement": disentanglement, "completeness": completeness,
            "informativeness": float(np.mean(list(accuracy.values())))}


def factor_scores(codes, factors: dict, seed: int = 0) -> dict[str, float]:
    """The numbers evaluate stores: {"mig", "dci_disentanglement", "dci_completeness",
    "dci_informativeness"}."""
    return {"mig": mig(codes, factors), **{f"dci_{k}": v for k, v in dci(codes, factors, seed).items()}}

