"""Checks of aecore.latent (codec, projections, sampling, neighbours, export) with tiny models."""
import csv
import io

import numpy as np
import pytest
import torch
from factories import tiny_config
from torch import nn

from aecore import latent
from aecore.latent.export import selection_csv, split_columns
from aecore.models import build_model


class FakeModel(nn.Module):
    """Answers what the latent functions ask of a model: its code size and whether it has a prior."""

    def __init__(self, d=2, prior=False):
        super().__init__()
        torch.manual_seed(0)
        self.latent_dim, self.has_prior, self.kind = d, prior, "vae" if prior else "plain"
        self.enc = nn.Linear(784, d)
        self.dec = nn.Linear(d, 784)

    def sample_prior(self, n, seed):
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)

    def encode(self, x):
        assert not self.training  # encode_dataset must evaluate in eval mode
        return self.enc(x.flatten(1))

    def decode(self, z):
        return torch.sigmoid(self.dec(z)).view(-1, 1, 28, 28)


def test_encode_dataset_uint8_and_float_agree():
    model = FakeModel(d=3)
    images = np.random.default_rng(0).integers(0, 256, (25, 28, 28), dtype=np.uint8)
    codes = latent.encode_dataset(model, images, batch_size=10)
    assert codes.shape == (25, 3) and codes.dtype == np.float32
    assert np.allclose(codes, latent.encode_dataset(model, images / 255.0), atol=1e-5)
    assert model.training  # mode restored


def test_decode_codes_shape_and_range():
    out = latent.decode_codes(FakeModel(), np.random.default_rng(0).normal(size=(7, 2)), batch_size=3)
    assert out.shape == (7, 28, 28) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1


def test_projections_registry():
    rng = np.random.default_rng(0)
    codes2, codes5 = rng.normal(size=(60, 2)), rng.normal(size=(60, 5))
    assert np.array_equal(latent.project(codes2, "none"), codes2.astype(np.float32))
    with pytest.raises(ValueError, match="pca, umap or tsne"):
        latent.project(codes5, "none")
    with pytest.raises(ValueError, match="cannot map 1-D codes; pick none"):
        latent.project(codes2[:, :1], "pca")  # sklearn's "n_components=2 must be between 0 and 1" before
    with pytest.raises(ValueError, match="none, pca, umap, tsne"):
        latent.project(codes5, "isomap")
    with pytest.raises(ValueError, match="perplexity"):
        latent.project(codes5, "tsne", n_neighbors=5)
    assert latent.project(codes5, "pca").shape == (60, 2)
    tsne = latent.project(codes5, "tsne", seed=1, perplexity=5)
    assert tsne.shape == (60, 2) and tsne.dtype == np.float32
    assert latent.projection_params("umap") == {"n_neighbors": 15, "min_dist": 0.1}
    assert latent.projection_params("tsne") == {"perplexity": 30.0}
    assert set(latent.PROJECTIONS) == {"none", "pca", "umap", "tsne"}


@pytest.mark.slow
def test_umap_map_keeps_clusters_apart_and_is_reproducible():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=10.0, size=(3, 16))
    labels = np.repeat(np.arange(3), 100)
    codes = (centres[labels] + rng.normal(size=(300, 16))).astype(np.float32)
    xy = latent.project(codes, "umap", seed=0, n_neighbors=10)
    assert xy.shape == (300, 2) and xy.dtype == np.float32
    # every point's nearest other point on the map comes from its own cluster
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=-1) + np.eye(300) * 1e9
    assert (labels[dist.argmin(axis=1)] == labels).all()
    assert np.array_equal(xy, latent.project(codes, "umap", seed=0, n_neighbors=10))
    # fewer points than neighbours asked for: UMAP still draws a map
    assert latent.project(codes[:12], "umap", seed=0).shape == (12, 2)


def test_sample_codes():
    vae = FakeModel(d=4, prior=True)
    a = latent.sample_codes(vae, 5, seed=3)
    assert a.shape == (5, 4) and np.array_equal(a, latent.sample_codes(vae, 5, seed=3))
    plain = FakeModel(d=2)
    with pytest.raises(ValueError, match="codes="):
        latent.sample_codes(plain, 5, seed=0)
    codes = np.random.default_rng(0).normal(loc=[5.0, -3.0], scale=0.1, size=(500, 2))
    samples = latent.sample_codes(plain, 2000, seed=0, codes=codes)
    assert np.allclose(samples.mean(axis=0), [5.0, -3.0], atol=0.02)
    mean, cov = latent.fit_gaussian(codes)
    assert mean.shape == (2,) and cov.shape == (2, 2)


def test_interpolate_endpoints_and_slerp_norm():
    z0, z1 = np.array([3.0, 0.0, 4.0]), np.array([0.0, 5.0, 0.0])
    for method in ("linear", "slerp"):
        path = latent.interpolate(z0, z1, 7, method)
        assert path.shape == (7, 3)
        assert np.array_equal(path[0], z0) and np.array_equal(path[-1], z1)
    norms = np.linalg.norm(latent.interpolate(z0, z1, 9, "slerp"), axis=1)
    assert np.allclose(norms, 5.0, atol=1e-5)
    parallel = latent.interpolate(z0, 2 * z0, 3, "slerp")  # falls back to linear
    assert np.allclose(parallel[1], 1.5 * z0)
    with pytest.raises(ValueError, match="linear, slerp"):
        latent.interpolate(z0, z1, 3, "cubic")


def test_decoding_grid_vae_symmetric_and_oriented():
    grid, extent = latent.decoding_grid(FakeModel(prior=True), 5)
    assert grid.shape == (25, 2)
    assert np.allclose(np.sort(grid[:, 0]), -np.sort(grid[:, 0])[::-1], atol=1e-6)
    assert np.allclose(grid.mean(axis=0), 0.0, atol=1e-6)
    assert extent[0] == pytest.approx(-extent[1]) and extent[1] == pytest.approx(1.6448536, rel=1e-5)
    assert grid[0, 1] == grid[:, 1].max() and grid[0, 0] == grid[:, 0].min()  # top-left first


def test_decoding_grid_plain_and_errors():
    codes = np.random.default_rng(0).uniform(0, 10, size=(1000, 2))
    grid, (x0, x1, y0, y1) = latent.decoding_grid(FakeModel(), 4, codes=codes)
    assert grid.shape == (16, 2) and 0 < x0 < 0.2 and 9.8 < x1 < 10
    with pytest.raises(ValueError, match="codes="):
        latent.decoding_grid(FakeModel(), 4)
    with pytest.raises(ValueError, match="latent_dim=3"):
        latent.decoding_grid(FakeModel(d=3, prior=True), 4)
    line, extent = latent.decoding_grid(FakeModel(d=1), 5, codes=codes[:, :1])
    assert line.shape == (5, 1) and np.all(np.diff(line[:, 0]) > 0) and extent[2:] == (0.0, 0.0)
    assert 0 < extent[0] < 0.2 and 9.8 < extent[1] < 10
    prior_line, _ = latent.decoding_grid(FakeModel(d=1, prior=True), 3)
    assert prior_line[:, 0] == pytest.approx([-1.6448536, 0, 1.6448536], abs=1e-5)
    grid, extent = latent.decoding_grid(FakeModel(), 3, span=((-1, 1), (0, 2)))
    assert extent == (-1.0, 1.0, 0.0, 2.0)


def test_nearest_neighbours_index_and_vector():
    points = np.array([[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [0.0, 0.5]])
    idx, dist = latent.nearest_neighbours(points, 0, k=2)
    assert idx.tolist() == [3, 1] and np.allclose(dist, [0.5, 1.0])
    idx, dist = latent.nearest_neighbours(points, np.array([3.1, 0.0]), k=1)
    assert idx.tolist() == [2] and np.allclose(dist, [0.1])
    images = np.random.default_rng(0).random((10, 28, 28))
    idx, _ = latent.nearest_neighbours(images, 4, k=9)
    assert 4 not in idx and len(idx) == 9


def test_neighbour_preservation():
    codes = np.random.default_rng(0).normal(size=(300, 2))
    kept = latent.neighbour_preservation(codes, codes, k=10)
    assert kept.shape == (300,) and np.all(kept == 1.0)
    shuffled = latent.neighbour_preservation(codes, codes[::-1], k=10)
    assert shuffled.mean() < 0.2 and shuffled.min() >= 0


def _model(kind="plain", body="mlp", **over):
    torch.manual_seed(0)
    return build_model(tiny_config(kind, body, **over)).eval()


def test_fitted_map_places_new_codes_where_the_map_put_them():
    codes = np.random.default_rng(0).normal(size=(50, 6)).astype(np.float32)
    points, projection = latent.fitted_map(codes, seed=0)
    assert points.shape == (50, 2)
    assert np.allclose(projection.transform(codes[:3]), points[:3], atol=1e-5)
    assert np.allclose(points, latent.project(codes, "pca", seed=0), atol=1e-5)  # the map's own PCA
    two = codes[:, :2]
    points2, projection2 = latent.fitted_map(two)
    assert np.array_equal(points2, two) and np.array_equal(projection2.transform(two[0]), two[:1])
    one, projection1 = latent.fitted_map(codes[:, :1], seed=3)
    assert np.array_equal(one[:, 0], codes[:, 0]) and np.array_equal(one, latent.project(codes[:, :1], "none", seed=3))
    assert np.array_equal(projection1.transform(codes[:2, :1]), [[codes[0, 0], 0], [codes[1, 0], 0]])  # mid-strip


def test_one_rule_says_which_maps_codes_of_each_size_have():
    from aecore.latent.projections import axis_names, check_method, default_method, map_caption, map_methods
    assert map_methods(1) == ["none"] and map_methods(2) == ["none", "pca", "umap", "tsne"]
    assert map_methods(3) == map_methods(64) == ["pca", "umap", "tsne"]
    assert [default_method(d) for d in (1, 2, 3, 30)] == ["none", "none", "pca", "pca"]
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="at least 1 dimension"):
            map_methods(bad)
    with pytest.raises(ValueError, match="unknown projection 'isomap'"):
        check_method("isomap", 2)
    rng = np.random.default_rng(0)
    for d in (1, 2, 3):
        codes = rng.normal(size=(40, d)).astype(np.float32)
        for method in ("none", "pca"):  # the instant ones; umap and tsne are checked by the rule alone
            if method in map_methods(d):
                xy = latent.project(codes, method)
                assert xy.shape == (40, 2) and np.isfinite(xy).all()
            else:
                with pytest.raises(ValueError, match=f"cannot map {d}-D codes; pick {map_methods(d)[0]}"):
                    latent.project(codes, method)
    assert axis_names("none", 1) == ("z1", "jitter (means nothing)") and axis_names("none", 2) == ("z1", "z2")
    assert axis_names("tsne", 16) == ("t-SNE 1", "t-SNE 2")
    assert "means nothing" in map_caption("none", 1, 0) and map_caption("pca", 16, 4) == "PCA of the 16-D codes, seed 4"


def test_a_1d_codes_own_map_is_the_code_against_a_seeded_jitter():
    from aecore.latent.inverse import inverse_map
    from aecore.latent.projections import shown_positions
    codes = np.random.default_rng(0).normal(size=(500, 1)).astype(np.float32)
    xy = latent.project(codes, "none", seed=1)
    assert np.array_equal(xy[:, 0], codes[:, 0])  # x is the code itself
    assert -1 <= xy[:, 1].min() < -0.9 and 0.9 < xy[:, 1].max() <= 1  # spread over the whole strip
    assert np.array_equal(xy, latent.project(codes, "none", seed=1))
    assert not np.array_equal(xy[:, 1], latent.project(codes, "none", seed=2)[:, 1])
    back = inverse_map(codes, xy, "none").inverse_transform(xy[:5] + [0, 0.3])  # the height is ignored
    assert np.array_equal(back, codes[:5])
    assert shown_positions(codes, xy, "none") is not xy and shown_positions(codes, xy, "none").shape == (500, 1)
    kept = latent.neighbour_preservation(codes, shown_positions(codes, xy, "none"), k=10)
    assert np.all(kept == 1.0)  # the jitter is not held against the map


def test_interpolation_has_the_endpoints_and_one_frame_per_step():
    model = _model()
    path, frames = latent.interpolation(model, np.zeros(4), np.ones(4), steps=7, method="slerp")
    assert path.shape == (7, 4) and frames.shape == (7, 28, 28)
    assert np.allclose(path[0], 0) and np.allclose(path[-1], 1)
    assert np.allclose(frames[0], latent.decode_codes(model, path[0])[0], atol=1e-6)


def test_sampling_is_seeded_and_manifold_is_a_grid():
    model = _model(latent_dim=2)
    codes = np.random.default_rng(0).normal(size=(100, 2))
    a, b = (latent.sample_images(model, 5, seed=3, codes=codes) for _ in range(2))
    assert a.shape == (5, 28, 28) and np.array_equal(a, b)
    grid, (x0, x1, y0, y1) = latent.manifold(model, codes, n=4)
    assert grid.shape == (16, 28, 28) and x0 < x1 and y0 < y1
    lo, hi, mean = latent.code_ranges(codes)
    assert lo.shape == (2,) and np.all(lo < mean) and np.all(mean < hi)


def test_a_vae_manifold_spans_its_prior_not_its_codes():
    vae = _model("vae", latent_dim=2)
    codes = np.random.default_rng(0).normal(loc=5.0, size=(100, 2))  # far from the prior
    _, extent = latent.manifold(vae, codes, n=5)
    assert extent == pytest.approx((-1.6448536, 1.6448536, -1.6448536, 1.6448536), rel=1e-5)
    _, plain = latent.manifold(_model(latent_dim=2), codes, n=5)
    assert plain[0] > 2  # a plain model's grid follows its codes


def test_selection_csv_reads_back_as_the_selected_points():
    xy = np.array([[0.25, -1.5], [3.1415927, 1e-4]], np.float32)
    names = ("T-shirt, top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot")
    text = selection_csv(np.array([7, 4012]), np.array([0, 9]), xy, names)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(int(r["index"]), int(r["label"]), r["class"]) for r in rows] == [(7, 0, "T-shirt, top"), (4012, 9, "Boot")]
    assert np.array_equal(np.array([[float(r["x"]), float(r["y"])] for r in rows], np.float32), xy)
    assert selection_csv([], [], np.zeros((0, 2))) == "index,label,class,x,y\n"
    with pytest.raises(ValueError, match="as many labels"):
        selection_csv([1, 2], [3], xy)
    extra = split_columns("all", [7, 4012], n_train=4000)
    rows = list(csv.DictReader(io.StringIO(selection_csv([7, 4012], [0, 9], xy, names, extra))))
    assert [(r["split"], r["index_in_split"]) for r in rows] == [("train", "7"), ("test", "12")]
    with pytest.raises(ValueError, match="one value per point"):
        selection_csv([7, 4012], [0, 9], xy, names, {"split": ["test"]})
    formulas = ("=HYPERLINK(\"http://x\")", "+1", "@SUM(A1)", "plain")
    rows = list(csv.DictReader(io.StringIO(selection_csv([0, 1, 2, 3], [0, 1, 2, 3], np.zeros((4, 2)), formulas))))
    assert [r["class"] for r in rows] == ["'=HYPERLINK(\"http://x\")", "'+1", "'@SUM(A1)", "plain"]  # text, not formulas


def test_a_dense_map_draws_smaller_dots_and_a_small_one_full_size():
    from aecore.pictures.plots import latent_scatter

    def sizes(n):
        xy = np.random.default_rng(0).normal(size=(n, 2)).astype(np.float32)
        fig = latent_scatter(xy, np.arange(n), np.arange(n) % 10, [str(c) for c in range(10)])
        return {trace.marker.size for trace in fig.data}
    assert sizes(500) == sizes(10_000) == {5}
    (dense,) = sizes(70_000)
    assert 2.5 < dense < 3.5 and sizes(32_699).pop() > dense  # shrinks with the count, not to nothing


def test_thumbnails_spread_over_the_map_and_never_overlap():
    import plotly.graph_objects as go

    from aecore.pictures.thumbnails import THUMB_SIZE, add_thumbnails, thumbnail_points
    rng = np.random.default_rng(0)
    xy = np.concatenate([rng.normal(c, 0.3, size=(300, 2)) for c in ((0, 0), (5, 5), (0, 5))])
    picked = thumbnail_points(xy, grid=8)
    cell = np.ptp(xy, axis=0) / 8
    cells = {tuple(np.minimum(((xy[i] - xy.min(axis=0)) / cell).astype(int), 7)) for i in picked}
    assert 10 <= len(picked) <= 64 and len(cells) == len(picked)  # at most one per cell, over all three clusters
    gaps = np.abs(xy[picked, None] - xy[None, picked]) / (THUMB_SIZE * cell)
    assert ((gaps >= 1).any(axis=2) | np.eye(len(picked), dtype=bool)).all()  # no two boxes overlap
    fig = go.Figure()
    drawn = add_thumbnails(fig, xy, rng.random((900, 28, 28)), np.repeat([0, 1, 2], 300), grid=8)
    assert np.array_equal(drawn, picked) and len(fig.layout.images) == len(picked)
    assert {im.layer for im in fig.layout.images} == {"above"}  # on top of the WebGL points
