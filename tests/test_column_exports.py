"""A dataset's metadata columns in every export of a map: the selection's CSV (formula cells still
escaped) and .npz, the Parquet table, and the TensorBoard projector's metadata.tsv, each read back
by what reads it (csv, numpy, pandas, TensorBoard's projector plugin)."""
from __future__ import annotations

import csv
import io
import zipfile

import numpy as np
import pytest

from aecore.latent.export import map_parquet, selection_csv, selection_npz, split_columns, with_metadata
from aecore.latent.projector import projector_zip

N = 6
COLUMNS = {"shape": np.array(["square", "=HYPERLINK(\"x\")", "heart", "square", "", "heart"]),
           "scale": np.array([0.5, 0.75, np.nan, 1.0, 0.625, 0.5]),
           "rotation": np.arange(N, dtype=np.int64) * 40,
           "class": np.array(list("abcdef"))}  # named as a column every export has


@pytest.fixture
def extra():
    """split and index_in_split, then the metadata columns."""
    return with_metadata(split_columns("test", np.arange(N), 0), COLUMNS)


def test_metadata_columns_follow_the_exports_own_and_a_taken_name_is_renamed(extra):
    assert list(extra) == ["split", "index_in_split", "shape", "scale", "rotation", "metadata_class"]
    assert with_metadata({"split": 1}, {"split": np.zeros(2), "metadata_split": np.ones(2)}).keys() == \
        {"split", "metadata_split", "metadata_metadata_split"}  # nothing is overwritten
    assert list(with_metadata({}, {"code_0": np.zeros(2)})) == ["metadata_code_0"]  # a code unit's name


def test_the_selection_csv_carries_every_column_with_formulas_escaped(extra):
    text = selection_csv(np.arange(N), np.arange(N) % 2, np.zeros((N, 2)), ["zero", "one"], extra)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["shape"] for r in rows] == ["square", "'=HYPERLINK(\"x\")", "heart", "square", "", "heart"]
    assert [r["scale"] for r in rows] == ["0.5", "0.75", "nan", "1.0", "0.625", "0.5"]
    assert [r["rotation"] for r in rows] == [str(40 * i) for i in range(N)]
    assert [r["metadata_class"] for r in rows] == list("abcdef") and rows[1]["class"] == "one"


def test_the_selection_npz_and_the_parquet_table_carry_every_column(extra):
    import pandas as pd

    codes = np.random.default_rng(0).normal(size=(N, 3)).astype(np.float32)
    data = np.load(io.BytesIO(selection_npz(np.arange(N), np.zeros(N), codes, np.zeros((N, 8, 8), np.uint8),
                                            np.zeros((N, 8, 8), np.float32), ["c"], extra)), allow_pickle=False)
    assert data["shape"].tolist() == COLUMNS["shape"].tolist() and data["rotation"].dtype == np.int64
    assert np.array_equal(data["scale"], COLUMNS["scale"], equal_nan=True)
    table = pd.read_parquet(io.BytesIO(map_parquet(np.arange(N), np.zeros(N), np.zeros((N, 2)), codes, ["c"], extra)))
    assert list(table.columns) == ["index", "label", "class", "x", "y", "split", "index_in_split", "shape", "scale",
                                   "rotation", "metadata_class", "code_0", "code_1", "code_2"]
    assert table["shape"].tolist() == COLUMNS["shape"].tolist()
    assert table["scale"].isna().tolist() == [False, False, True, False, False, False]
    assert table["rotation"].dtype == np.int64 and table["class"].tolist() == ["c"] * N


def test_the_projectors_metadata_has_every_column_and_numbers_stay_numbers(extra, tmp_path):
    """TensorBoard's projector colours by a column of numbers only when every cell is a number or
    empty: a missing one ("nan" would make the column text) is an empty cell."""
    from tensorboard.backend.application import TensorBoardWSGI
    from tensorboard.plugins.base_plugin import TBContext
    from tensorboard.plugins.projector.projector_plugin import ProjectorPlugin
    from werkzeug.test import Client

    images = np.random.default_rng(0).integers(0, 256, (N, 16, 24, 3), dtype=np.uint8)
    bundle = projector_zip(np.zeros((N, 2)), np.arange(N), np.arange(N) % 2, images, ["zero", "one"],
                           name="codes", extra=extra)
    zipfile.ZipFile(io.BytesIO(bundle)).extractall(tmp_path)

    class NoRuns:
        def list_runs(self, ctx, experiment_id):
            return []

    client = Client(TensorBoardWSGI([ProjectorPlugin(TBContext(logdir=str(tmp_path / "projector"),
                                                               data_provider=NoRuns()))]))
    text = client.get("/data/plugin/projector/metadata", query_string={"run": ".", "name": "codes"}).get_data(as_text=True)
    rows = [line.split("\t") for line in text.splitlines()]
    assert rows[0] == ["index", "label", "class", "split", "index_in_split", "shape", "scale", "rotation",
                       "metadata_class"]
    assert [r[6] for r in rows[1:]] == ["0.5", "0.75", "", "1.0", "0.625", "0.5"]
    assert [r[5] for r in rows[1:]] == ["square", "=HYPERLINK(\"x\")", "heart", "square", "_", "heart"]
    assert all(len(r) == len(rows[0]) for r in rows)
    config = (tmp_path / "projector" / "projector_config.pbtxt").read_text()
    assert "single_image_dim: 24\n    single_image_dim: 16" in config  # [width, height] of one image
