"""The exports, read back by the libraries that will read them: a selection as .npz (numpy), the
whole map as Parquet (pandas and pyarrow, as Embedding Atlas reads it) and as a TensorBoard
projector bundle (TensorBoard's own projector plugin serving it, as `tensorboard --logdir` does)."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from PIL import Image

from aecore.latent.export import map_parquet, selection_npz
from aecore.latent.projector import projector_files, projector_zip, sprite

CLASSES = ["T-shirt/top", "Trouser", "has\ttab"]


@pytest.fixture
def points():
    """40 points: indices, labels, 2-D map positions, 5-D codes, images with the index drawn in."""
    rng = np.random.default_rng(0)
    n = 40
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = np.arange(n)  # each image knows its own row
    return {"index": np.arange(100, 100 + n), "labels": np.arange(n) % 3,
            "xy": rng.normal(size=(n, 2)).astype(np.float32),
            "codes": rng.normal(size=(n, 5)).astype(np.float32), "images": images}


def test_selection_npz_reads_back_with_every_array(points):
    p = points
    recon = np.random.default_rng(1).random((40, 28, 28), dtype=np.float32)
    data = np.load(io.BytesIO(selection_npz(p["index"], p["labels"], p["codes"], p["images"], recon, CLASSES)),
                   allow_pickle=False)
    assert set(data.files) == {"indices", "labels", "codes", "images", "reconstructions", "classes"}
    assert np.array_equal(data["indices"], p["index"]) and np.array_equal(data["labels"], p["labels"])
    assert np.array_equal(data["codes"], p["codes"]) and np.array_equal(data["images"], p["images"])
    assert np.array_equal(data["reconstructions"], recon)
    assert data["classes"].tolist() == CLASSES
    with pytest.raises(ValueError, match="one row per point"):
        selection_npz(p["index"][:3], p["labels"], p["codes"], p["images"], recon)


def test_map_parquet_reads_back_in_pandas_and_pyarrow(points):
    import pandas as pd
    import pyarrow.parquet as pq

    p = points
    data = map_parquet(p["index"], p["labels"], p["xy"], p["codes"], CLASSES)
    table = pd.read_parquet(io.BytesIO(data))
    assert list(table.columns) == ["index", "label", "class", "x", "y", *[f"code_{i}" for i in range(5)]]
    assert table["index"].tolist() == p["index"].tolist()
    assert table["class"].tolist() == [CLASSES[c] for c in p["labels"]]
    assert np.array_equal(table[["x", "y"]].to_numpy(), p["xy"])  # float32, exactly
    assert np.array_equal(table.filter(like="code_").to_numpy(), p["codes"])
    schema = pq.read_table(io.BytesIO(data)).schema
    assert str(schema.field("x").type) == "float" and str(schema.field("index").type) == "int64"


@pytest.mark.slow
def test_sprite_is_a_square_grid_in_row_order(points):
    png, size = sprite(points["images"])
    grid = np.asarray(Image.open(io.BytesIO(png)))
    assert size == (28, 28) and grid.shape == (7 * 28, 7 * 28)  # 40 images: 7 x 7 cells
    assert grid[2 * 28, 5 * 28] == 19  # image 19 is row 2, column 5
    many, small = sprite(np.zeros((300 * 300, 28, 28), np.uint8))
    assert small == (8192 // 300,) * 2 and Image.open(io.BytesIO(many)).size == (300 * small[0],) * 2


def test_a_colour_sprite_keeps_the_colours_and_the_images_own_size():
    """12 colour images of 20 x 32 (H x W), each a flat colour of its own: a 4 x 4 grid of
    32 x 20 cells (width x height, as the projector's single_image_dim), in colour."""
    colours = np.random.default_rng(0).integers(0, 256, (12, 3), dtype=np.uint8)
    images = np.broadcast_to(colours[:, None, None, :], (12, 20, 32, 3)).copy()
    png, size = sprite(images)
    grid = np.asarray(Image.open(io.BytesIO(png)))
    assert size == (32, 20) and grid.shape == (4 * 20, 4 * 32, 3)
    assert np.array_equal(grid[2 * 20 + 5, 1 * 32 + 7], colours[9])  # image 9: row 2, column 1
    assert np.array_equal(grid[3 * 20 + 1, 3 * 32 + 1], [0, 0, 0])  # past the last image: empty
    floats, _ = sprite(images / 255.0)  # a float stack in [0, 1] draws the same picture
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(floats))), grid)


def test_a_sprite_of_large_colour_images_stays_within_the_limit_keeping_their_aspect(monkeypatch):
    import aecore.latent.projector as projector

    monkeypatch.setattr(projector, "SPRITE_MAX", 512)  # as 8192 would be for many more images
    big, size = projector.sprite(np.full((30, 128, 96, 3), 200, np.uint8))  # 6 x 6 cells of 128 x 96 (H x W)
    assert size == (int(96 * 512 / (6 * 128)), int(128 * 512 / (6 * 128))) == (64, 85)
    assert Image.open(io.BytesIO(big)).size == (6 * 64, 6 * 85) and max(6 * 64, 6 * 85) <= 512


@pytest.fixture
def bundle(points, tmp_path):
    """The projector zip of `points`, unzipped into tmp_path/projector."""
    p = points
    with zipfile.ZipFile(io.BytesIO(projector_zip(p["codes"], p["index"], p["labels"], p["images"],
                                                  CLASSES, name="tiny codes"))) as z:
        assert sorted(z.namelist()) == ["projector/metadata.tsv", "projector/projector_config.pbtxt",
                                        "projector/sprite.png", "projector/vectors.tsv"]
        z.extractall(tmp_path)
    return tmp_path / "projector"


def test_projector_config_parses_as_tensorboards_proto(bundle):
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    config = text_format.Parse((bundle / "projector_config.pbtxt").read_text(), ProjectorConfig())
    (embedding,) = config.embeddings
    assert (embedding.tensor_name, embedding.tensor_path, embedding.metadata_path) == \
        ("tiny codes", "vectors.tsv", "metadata.tsv")
    assert list(embedding.tensor_shape) == [40, 5]
    assert embedding.sprite.image_path == "sprite.png" and list(embedding.sprite.single_image_dim) == [28, 28]


class _NoRuns:
    """A data provider with no event files: the projector then reads the log folder itself."""

    def list_runs(self, ctx, experiment_id):
        return []


def test_tensorboard_projector_serves_the_bundle_as_it_is(bundle, points):
    from tensorboard.backend.application import TensorBoardWSGI
    from tensorboard.plugins.base_plugin import TBContext
    from tensorboard.plugins.projector.projector_plugin import ProjectorPlugin
    from werkzeug.test import Client

    plugin = ProjectorPlugin(TBContext(logdir=str(bundle), data_provider=_NoRuns()))
    client = Client(TensorBoardWSGI([plugin]))
    base = "/data/plugin/projector"
    runs = json.loads(client.get(f"{base}/runs").get_data())
    assert runs == ["."], "TensorBoard found no embedding in the bundle's folder"
    query = {"run": ".", "name": "tiny codes"}
    tensor = client.get(f"{base}/tensor", query_string=query)
    assert tensor.status_code == 200, tensor.get_data(as_text=True)
    assert np.array_equal(np.frombuffer(tensor.get_data(), np.float32).reshape(40, 5), points["codes"])
    metadata = client.get(f"{base}/metadata", query_string=query).get_data(as_text=True).splitlines()
    assert metadata[0] == "index\tlabel\tclass" and len(metadata) == 41
    assert metadata[3] == "102\t2\thas tab"  # a tab inside a class name would split the row
    picture = client.get(f"{base}/sprite_image", query_string=query)
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    assert Image.open(io.BytesIO(picture.get_data())).size == (7 * 28, 7 * 28)


def test_projector_files_refuse_mismatched_rows(points):
    p = points
    with pytest.raises(ValueError, match="one index, label and image per code"):
        projector_files(p["codes"][:5], p["index"], p["labels"], p["images"])
