"""MIG and DCI on hand-made codes whose answer is known: a code that copies each factor into its
own unit, random codes, a factor shared by two units, permuted units, and bad input."""
import numpy as np
import pytest

from aecore.measure import disentangle
from aecore.measure import factors as dataset_factors

N = 900


def make_factors(seed: int = 0, n: int = N) -> dict:
    """Three factors of the kinds a dataset's columns have: a number with few values, a continuous
    number and a category."""
    rng = np.random.default_rng(seed)
    return {"scale": rng.integers(0, 6, n), "x": rng.uniform(0, 1, n),
            "shape": np.array(["square", "ellipse", "heart"])[rng.integers(0, 3, n)]}


def copy_code(factors: dict) -> np.ndarray:
    """One unit per factor holding that factor's value (a category as its index)."""
    columns = [np.unique(v, return_inverse=True)[1] if v.dtype.kind == "U" else v for v in factors.values()]
    return np.stack(columns, axis=1).astype(np.float32)


def test_a_code_that_copies_each_factor_into_its_own_unit_scores_about_one():
    factors = copy_code_factors = make_factors()
    codes = copy_code(copy_code_factors)
    assert disentangle.mig(codes, factors) > 0.95
    scores = disentangle.dci(codes, factors)
    assert scores["disentanglement"] > 0.97 and scores["completeness"] > 0.97
    assert scores["informativeness"] > 0.97


def test_random_codes_score_near_zero():
    factors = make_factors()
    codes = np.random.default_rng(1).normal(size=(N, 3))
    assert disentangle.mig(codes, factors) < 0.05
    scores = disentangle.dci(codes, factors)
    assert scores["disentanglement"] < 0.1 and scores["completeness"] < 0.1
    assert scores["informativeness"] < 0.45  # chance: R^2 0 for numbers, 1/3 for three shapes


def test_units_that_carry_nothing_change_neither_score_much():
    factors = make_factors()
    codes = np.c_[copy_code(factors), np.random.default_rng(2).normal(size=(N, 3))]
    assert disentangle.mig(codes, factors) > 0.9
    scores = disentangle.dci(codes, factors)
    assert scores["disentanglement"] > 0.95 and scores["completeness"] > 0.95


def test_a_unit_with_half_the_information_of_the_best_halves_mig():
    """MIG is the gap between the best and the second-best unit over the factor's entropy: a
    4-valued factor (2 bits) copied into one unit and its high bit (1 bit) into another scores 0.5."""
    y = np.random.default_rng(3).integers(0, 4, 4000)
    assert disentangle.mig(np.c_[y, y // 2].astype(float), {"y": y}) == pytest.approx(0.5, abs=0.01)


def test_a_factor_copied_into_two_units_has_no_gap_and_splits_its_importance():
    """Two units per factor: no unit stands out (MIG 0); each unit still predicts one factor (DCI
    disentanglement 1), but each factor is spread over two of the six units (completeness
    1 - log 2 / log 6 = 0.61 when split evenly)."""
    factors = make_factors()
    codes = copy_code(factors)
    codes = np.c_[codes, codes]
    assert disentangle.mig(codes, factors) < 0.01
    scores = disentangle.dci(codes, factors)
    assert scores["disentanglement"] > 0.97
    assert scores["completeness"] == pytest.approx(1 - np.log(2) / np.log(6), abs=0.1)


def test_permuting_units_changes_nothing():
    factors = make_factors()
    rng = np.random.default_rng(4)
    codes = np.c_[copy_code(factors) + 0.3 * rng.normal(size=(N, 3)), rng.normal(size=(N, 2))]
    order = rng.permutation(5)
    assert disentangle.mig(codes[:, order], factors) == pytest.approx(disentangle.mig(codes, factors), abs=1e-12)
    a, b = disentangle.dci(codes, factors), disentangle.dci(codes[:, order], factors)
    assert a == pytest.approx(b, abs=0.03)  # the forests draw features in another order: same scores up to noise


def test_dci_from_importance_matches_the_papers_definition_on_a_known_matrix():
    """A diagonal importance matrix is perfectly disentangled and complete; a unit spread evenly
    over all factors scores 0 for disentanglement."""
    assert disentangle.dci_from_importance(np.eye(3)) == pytest.approx((1.0, 1.0))
    d, c = disentangle.dci_from_importance(np.ones((3, 3)))
    assert d == pytest.approx(0.0, abs=1e-6) and c == pytest.approx(0.0, abs=1e-6)
    # one unit for two factors, one for the third: units weighted by importance (2/3 and 1/3)
    r = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    d, c = disentangle.dci_from_importance(r)
    assert d == pytest.approx(2 / 3 * (1 - np.log(2) / np.log(3)) + 1 / 3, abs=1e-6)
    assert c == pytest.approx(1.0, abs=1e-6)


def test_best_units_name_the_unit_of_each_factor_and_how_well_it_predicts_it():
    factors = make_factors()
    rng = np.random.default_rng(5)
    copied = copy_code(factors)
    codes = np.c_[rng.normal(size=N), copied[:, 2], copied[:, 0], copied[:, 1] + 0.2 * rng.normal(size=N)]
    rows = {row.factor: row for row in disentangle.best_units(codes, factors)}
    assert (rows["shape"].unit, rows["scale"].unit, rows["x"].unit) == (1, 2, 3)
    assert rows["shape"].score > 0.95 and rows["scale"].score > 0.95
    assert 0.2 < rows["x"].score < 0.8  # noisy: the unit tells much but not all of x


def test_constant_factors_are_left_out_and_an_all_constant_set_is_an_error():
    factors = {**make_factors(), "colour": np.full(N, "red")}
    codes = copy_code(make_factors())
    assert set(disentangle.mig_per_factor(codes, factors)) == {"scale", "x", "shape"}
    with pytest.raises(ValueError, match="one value only"):
        disentangle.mig(codes, {"colour": np.full(N, "red")})


@pytest.mark.parametrize("codes, factors, message", [
    (np.zeros((10, 2)), {"x": np.arange(9)}, "one value per image"),
    (np.full((10, 2), np.nan), {"x": np.arange(10)}, "NaN"),
    (np.zeros(10), {"x": np.arange(10)}, r"\(N, d\)"),
    (np.zeros((10, 2)), {}, "no factors"),
    (np.zeros((10, 2)), {"x": np.r_[np.arange(9.0), np.inf]}, "NaN or infinite"),
])
def test_bad_input_says_what_was_wrong(codes, factors, message):
    with pytest.raises(ValueError, match=message):
        disentangle.mig(codes, factors)


def test_factor_scores_names_the_numbers_evaluate_stores():
    factors = make_factors()
    scores = disentangle.factor_scores(copy_code(factors), factors)
    assert set(scores) == {"mig", "dci_disentanglement", "dci_completeness", "dci_informativeness"}
    assert all(0.9 < v <= 1.0 for v in scores.values())


# --- a dataset's columns as factors: evaluate, the model card, the leaderboard ---

def test_columns_that_are_names_or_constant_are_not_factors_and_blank_rows_are_left_out():
    factors = make_factors()
    columns = {**factors, "file": np.array([f"img{i}.png" for i in range(N)]), "source": np.full(N, "generated")}
    chosen, left_out = dataset_factors.factors_of(columns)
    assert set(chosen) == {"scale", "x", "shape"}
    assert left_out == {"file": "900 categories (more than 64: a name, not a factor)", "source": "one value only"}
    codes = copy_code(factors)
    x = factors["x"].copy()
    x[:100] = np.nan  # blank cells of a metadata CSV
    shape = factors["shape"].copy()
    shape[50:150] = ""
    report = dataset_factors.factor_report(codes, {**columns, "x": x, "shape": shape})
    assert report["images"] == N - 150
    assert report["scores"]["mig"] > 0.95
    assert {name: row["unit"] for name, row in report["best_units"].items()} == {"scale": 0, "x": 1, "shape": 2}
    assert set(report["left_out"]) == {"file", "source"}
    assert dataset_factors.factor_report(codes, {"source": np.full(N, "generated")}) is None


def _bars(n: int, seed: int):
    """n 28x28 images of a bright bar, with its factors: x position (a number) and orientation
    (a category)."""
    rng = np.random.default_rng(seed)
    x, upright = rng.integers(4, 24, n), rng.integers(0, 2, n).astype(bool)
    images = np.zeros((n, 28, 28), np.uint8)
    for i in range(n):
        if upright[i]:
            images[i, 6:22, x[i] - 1:x[i] + 2] = 255
        else:
            images[i, x[i] - 1:x[i] + 2, 6:22] = 255
    return images, {"x": x, "orientation": np.where(upright, "upright", "flat")}


@pytest.fixture
def bars_dataset(tmp_path, monkeypatch):
    """A user's .npz set "bars" with metadata-train.csv / metadata-test.csv of its factors, in
    AECORE_DATA_DIR."""
    from aecore.data import load_dataset
    folder = tmp_path / "data" / "bars"
    folder.mkdir(parents=True)
    arrays = {}
    for split, n, seed in (("train", 300, 0), ("test", 200, 1)):
        images, factors = _bars(n, seed)
        arrays[f"x_{split}"], arrays[f"y_{split}"] = images, (factors["x"] > 14).astype(np.uint8)
        rows = ["x,orientation"] + [f"{a},{b}" for a, b in zip(factors["x"], factors["orientation"])]
        (folder / f"metadata-{split}.csv").write_text("\n".join(rows) + "\n")
    np.savez(folder / "bars.npz", **arrays)
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path / "data"))
    load_dataset.cache_clear()
    yield "bars"
    load_dataset.cache_clear()


@pytest.mark.slow  # evaluate measures everything on 200 images
def test_evaluate_scores_the_factors_of_a_dataset_with_columns(bars_dataset):
    import json

    import torch

    from aecore.measure.evaluate import evaluate
    from aecore.models import build_model
    from factories import tiny_config

    torch.manual_seed(0)
    result = json.loads(json.dumps(evaluate(build_model(tiny_config("plain", "mlp")), bars_dataset)))  # as metrics.json
    for name in ("mig", "dci_disentanglement", "dci_completeness", "dci_informativeness"):
        assert 0.0 <= result["metrics"][name] <= 1.0
    factors = result["factors"]
    assert factors["images"] == 200 and set(factors["best_units"]) == {"x", "orientation"}
    assert all(0 <= row["unit"] < 4 and 0 <= row["score"] <= 1 for row in factors["best_units"].values())


@pytest.mark.slow
def test_evaluate_on_mnist_adds_no_factor_numbers():
    import torch

    from aecore.measure.evaluate import evaluate
    from aecore.models import build_model
    from factories import tiny_config

    torch.manual_seed(0)
    result = evaluate(build_model(tiny_config("plain", "mlp")), "mnist-sample", max_test=100)
    assert "factors" not in result and not {"mig", "dci_completeness"} & set(result["metrics"])


def test_the_model_card_lists_each_factors_best_unit_and_shipped_mnist_cards_do_not(tmp_path):
    import json
    import shutil

    from aecore.checkpoint import load_checkpoint
    from aecore.measure.card import model_card

    shipped = load_checkpoint("checkpoints/vae-16d")
    assert not [field for field in model_card(shipped) if field.startswith("factor")]
    folder = tmp_path / "vae-16d"
    shutil.copytree("checkpoints/vae-16d", folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["factors"] = {"images": 10, "best_units": {
        "x": {"unit": 3, "score": 0.82, "gap": 0.61}, "scale": {"unit": 7, "score": 0.4, "gap": 0.05},
        "junk": {"unit": "three"}, "also junk": [1, 2]}}  # an uploaded metrics.json may hold anything
    (folder / "metrics.json").write_text(json.dumps(metrics))
    card = model_card(load_checkpoint(folder))
    assert card["factor: x"] == ("unit 3: 82% of its information (normalised mutual information), "
                                 "61% ahead of the next unit")
    assert card["factor: scale"].startswith("unit 7: 40%")
    assert not [field for field in card if "junk" in field]


def test_the_leaderboard_has_factor_columns_only_when_a_checkpoint_has_factor_scores():
    import json
    from pathlib import Path

    from aecore.measure.leaderboard import leaderboard_rows, metric_columns

    shipped = [(p.name, (json.loads((p / "config.json").read_text()), json.loads((p / "metrics.json").read_text())))
               for p in sorted(Path("checkpoints").iterdir()) if (p / "metrics.json").is_file()]
    grey = [row for row in shipped if "mig" not in row[1][1]["metrics"]]
    assert grey and len(grey) < len(shipped)  # the zoo has models of data with factors and without
    assert not {"mig", "dci_disentanglement"} & set(metric_columns(leaderboard_rows(grey)))
    columns = metric_columns(leaderboard_rows(shipped))
    assert columns[-4:] == ["mig", "dci_disentanglement", "dci_completeness", "dci_informativeness"]  # after the rest
