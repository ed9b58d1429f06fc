"""Attribute vectors, decoding anywhere on a map (PCA and UMAP inverses), and where two maps
disagree: on small synthetic codes."""
from __future__ import annotations

import numpy as np
import pytest

from aecore.latent import project
from aecore.latent.directions import along, attribute_vector
from aecore.latent.inverse import backdrop_grid, inverse_map
from aecore.measure.disagreement import most_disagreeing, neighbour_disagreement


def clusters(n_per: int = 100, d: int = 16, seed: int = 0):
    """Codes (3 * n_per, d) in three well separated clusters, and their labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=10.0, size=(3, d))
    labels = np.repeat(np.arange(3), n_per)
    return (centres[labels] + rng.normal(size=(len(labels), d))).astype(np.float32), labels


def test_attribute_vector_moves_one_class_mean_onto_the_other():
    codes, labels = clusters()
    v = attribute_vector(codes, labels == 0, labels == 2)
    moved = codes[labels == 0].mean(axis=0) + v
    assert np.allclose(moved, codes[labels == 2].mean(axis=0), atol=1e-4)
    t, path = along(codes[0], v, steps=5, reach=1.0)
    assert t.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert np.allclose(path[2], codes[0]) and np.allclose(path[4], codes[0] + v)
    with pytest.raises(ValueError, match="codes in both groups"):
        attribute_vector(codes, labels == 0, np.zeros(len(codes), bool))


def test_a_pca_map_decodes_a_point_back_onto_its_plane():
    codes, labels = clusters()
    xy = project(codes, "pca")
    z = inverse_map(codes, xy, "pca").inverse_transform(xy[:5])
    assert z.shape == (5, 16)
    # the inverse of a point's position is its code projected on the map's plane: its own cluster
    centres = np.stack([codes[labels == c].mean(axis=0) for c in range(3)])
    assert (np.linalg.norm(z[:, None] - centres[None], axis=2).argmin(axis=1) == labels[:5]).all()


def test_2d_codes_decode_where_they_are_and_tsne_maps_say_why_not():
    codes = np.random.default_rng(0).normal(size=(50, 2)).astype(np.float32)
    assert np.array_equal(inverse_map(codes, codes, "none").inverse_transform([[0.5, -1.0]]), [[0.5, -1.0]])
    with pytest.raises(ValueError, match="learns no mapping"):
        inverse_map(codes, codes, "tsne")


@pytest.mark.slow  # umap-learn compiles with numba in a fresh process
def test_a_umap_map_decodes_a_cluster_centre_to_that_cluster():
    codes, labels = clusters()
    xy = project(codes, "umap", seed=0, n_neighbors=10)
    inverse = inverse_map(codes, xy, "umap", seed=0, n_neighbors=10, sample=120)
    centres = np.stack([xy[labels == c].mean(axis=0) for c in range(3)])
    z = inverse.inverse_transform(np.vstack([centres, [[1e4, 1e4]]]))  # the last is far off the map
    code_centres = np.stack([codes[labels == c].mean(axis=0) for c in range(3)])
    nearest = np.linalg.norm(z[:, None] - code_centres[None], axis=2).argmin(axis=1)
    assert nearest[:3].tolist() == [0, 1, 2], "a cluster's middle on the map decoded to another cluster"
    assert np.isfinite(z[3]).all()


@pytest.mark.slow
def test_the_light_umap_inverse_lands_among_the_codes_around_the_spot_and_is_seeded():
    """UmapInverse skips UMAP's layout (the fence around what it sets on umap-learn's reducer).
    What users rely on: a spot between map points decodes to a code among those points' codes,
    as umap-learn's own inverse_transform after a full fit does, and the same seed gives the same
    code on one machine. (Not bit-equality with umap-learn: numba's floats, and through the
    Delaunay hull test whole branches, differ between CPUs.)"""
    from aecore.latent.projections import ExactKnnUMAP

    codes, labels = clusters(60)
    full = ExactKnnUMAP(0, 10, 0.1).fit(codes)
    xy = full.embedding_
    light = inverse_map(codes, xy, "umap", seed=0, n_neighbors=10)
    # spots halfway between a point and its nearest map neighbour: inside the map, in one cluster
    firsts = [0, 61, 122, 150]
    gaps = np.linalg.norm(xy[firsts, None] - xy[None], axis=2)
    gaps[np.arange(4), firsts] = np.inf
    spots = (xy[firsts] + xy[gaps.argmin(axis=1)]) / 2
    for z in (light.inverse_transform(spots), full.reducer.inverse_transform(spots)):
        around = np.argsort(np.linalg.norm(xy[None] - spots[:, None], axis=2), axis=1)[:, :10]
        local = codes[around]                                       # (4, 10, 16): codes of the 10 map points around
        centre = local.mean(axis=1)
        spread = np.linalg.norm(local - centre[:, None], axis=2).max(axis=1)
        assert (np.linalg.norm(z - centre, axis=1) < spread).all(), "decoded far from the codes around the spot"
        assert (labels[around] == labels[firsts][:, None]).all()   # the spots were within one cluster
    again = inverse_map(codes, xy, "umap", seed=0, n_neighbors=10)
    assert np.array_equal(again.inverse_transform(spots), light.inverse_transform(spots))


def test_backdrop_grid_cells_are_centred_and_top_row_first():
    grid = backdrop_grid((0.0, 4.0, 0.0, 2.0), 2)
    assert grid.tolist() == [[1.0, 1.5], [3.0, 1.5], [1.0, 0.5], [3.0, 0.5]]


def test_maps_that_agree_have_no_disagreement_and_a_moved_point_stands_out():
    codes, _ = clusters()
    xy = project(codes, "pca")
    assert neighbour_disagreement(xy, xy).max() == 0.0
    other = xy.copy()
    other[7] = xy[labels_of_other_cluster(xy)]  # point 7 jumps into another cluster
    d = neighbour_disagreement(xy, other)
    assert d[7] == 1.0 and most_disagreeing(d, 1).tolist() == [7]
    assert most_disagreeing(neighbour_disagreement(xy, xy)).tolist() == []  # nothing to list where they agree


def test_points_of_equal_disagreement_are_picked_by_seed_not_by_index():
    d = np.r_[np.ones(500), np.full(300, 0.5), np.zeros(200)]
    picked = most_disagreeing(d, 20, seed=0)
    assert (d[picked] == 1.0).all() and picked.tolist() != list(range(20))
    assert picked.tolist() == most_disagreeing(d, 20, seed=0).tolist() != most_disagreeing(d, 20, seed=1).tolist()
    assert d[most_disagreeing(d, 600)].tolist() == [1.0] * 500 + [0.5] * 100  # largest first


def labels_of_other_cluster(xy):
    return int(np.linalg.norm(xy - xy[7], axis=1).argmax())
