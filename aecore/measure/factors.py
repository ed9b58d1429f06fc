"""A dataset's per-image columns as generative factors, and what evaluate stores of them: which
columns are factors, the disentanglement scores (aecore.measure.disentangle) on the images that
have every factor, and the unit that predicts each factor best."""
from __future__ import annotations

import numpy as np

from .disentangle import best_units, factor_scores, is_number

MAX_CATEGORIES = 64  # a category column with more distinct values is a name or free text, not a factor
FACTOR_DESCRIPTIONS = {
    "mig": "mutual information gap over the dataset's factors (Chen et al. 2018; 1 = each factor in one unit)",
    "dci_disentanglement": "DCI disentanglement: each unit predicts one factor (Eastwood & Williams 2018; 1 = best)",
    "dci_completeness": "DCI completeness: each factor predicted by one unit (1 = best)",
    "dci_informativeness": "DCI informativeness: held-out R^2 (numbers) or accuracy (categories) of the factors "
                           "from the code, mean over factors",
}


def factors_of(columns: dict) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(the columns that are factors, {column: why it is not}): a column is a factor unless it has
    one value only, or is a category of more than MAX_CATEGORIES values (a name, a caption)."""
    factors, left_out = {}, {}
    for name, values in columns.items():
        values = np.asarray(values)
        present = values[_present(values)]
        distinct = len(np.unique(present))
        if distinct < 2:
            left_out[name] = "one value only"
        elif not is_number(values) and distinct > MAX_CATEGORIES:
            left_out[name] = f"{distinct} categories (more than {MAX_CATEGORIES}: a name, not a factor)"
        else:
            factors[name] = values
    return factors, left_out


def _present(values: np.ndarray) -> np.ndarray:
    """(N,) bool: the cells that hold a value (a dataset's blank cells are NaN or "")."""
    return np.isfinite(values) if values.dtype.kind == "f" else values != "" if values.dtype.kind in "US" \
        else np.ones(len(values), bool)


def factor_report(codes, columns: dict, seed: int = 0) -> dict | None:
    """What evaluate stores for a dataset with per-image columns, or None when none is a factor:
    {"scores": factor_scores, "images": images scored (those with every factor filled),
    "best_units": {factor: {"unit", "score", "gap"}} (best_units), "left_out": {column: why}}."""
    factors, left_out = factors_of(columns)
    if not factors:
        return None
    keep = np.logical_and.reduce([_present(np.asarray(v)) for v in factors.values()])
    codes = np.asarray(codes)[keep]
    factors = {name: np.asarray(v)[keep] for name, v in factors.items()}
    best = {row.factor: {"unit": row.unit, "score": row.score, "gap": row.gap} for row in best_units(codes, factors)}
    return {"scores": factor_scores(codes, factors, seed), "images": int(keep.sum()), "best_units": best,
            "left_out": {**left_out, **{name: "one value only on the images scored" for name in factors if name not in best}}}
