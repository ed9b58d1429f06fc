"""The penalty terms that tell the autoencoder kinds apart. Each takes tensors and returns a
scalar; kinds.py weights them and names them in `loss()`."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..checks import lookup
from ..latent.neighbours import exact_knn
from ..pictures.pixels import unit_float


def _batch_mean(code: torch.Tensor) -> torch.Tensor:
    return code.mean(dim=0).clamp(1e-6, 1 - 1e-6)


def _l1(code: torch.Tensor, rho: float) -> torch.Tensor:
    return code.abs().sum(dim=1).mean()


def _kl(code: torch.Tensor, rho: float) -> torch.Tensor:
    p = _batch_mean(code)
    return (rho * torch.log(rho / p) + (1 - rho) * torch.log((1 - rho) / (1 - p))).sum()


def _log(code: torch.Tensor, rho: float) -> torch.Tensor:
    return torch.log1p(_batch_mean(code) ** 2).sum()


SPARSITY = {"l1": _l1, "kl": _kl, "log": _log}


def sparsity(code: torch.Tensor, how: str, rho: float) -> torch.Tensor:
    """Penalty on code activations (B, d), summed over the d units.

    l1:  mean over images of sum |z_j| (activity L1 on a relu code, seed 003).
    kl:  sum_j KL(rho || p_j), p_j = batch-mean activation of sigmoid unit j (Ng's notes).
    log: sum_j log(1 + p_j^2), p_j = batch-mean activation of sigmoid unit j (seed 001).
    """
    return lookup(SPARSITY, how, "sparsity")(code, rho)


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, exp(logvar)) || N(0, I)) per image (B,), in nats, summed over the d units."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(dim=1)


def total_correlation(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """The total correlation KL(q(z) || prod_j q(z_j)) of a batch's sampled codes z (B, d) under
    the aggregate posterior of the batch's own Gaussians N(mu, exp(logvar)) (B, d): the minibatch
    estimate of beta-TCVAE (Chen et al. 2018, minibatch weighted sampling with the batch as the
    data set; the data set's size shifts the value by a constant, never the gradient). Nats, mean
    over images; near 0 for independent units."""
    b = z.shape[0]
    log_q = -0.5 * (math.log(2 * math.pi) + logvar[None] + (z[:, None] - mu[None]) ** 2 / logvar[None].exp())
    log_qz = torch.logsumexp(log_q.sum(dim=2), dim=1) - math.log(b * b)           # (B,): log q(z_i)
    log_prod = (torch.logsumexp(log_q, dim=1) - math.log(b * b)).sum(dim=1)        # (B,): sum_j log q(z_ij)
    return (log_qz - log_prod).mean()


def jacobian_sq_norms(x: torch.Tensor, z: torch.Tensor, create_graph: bool = False) -> torch.Tensor:
    """Per image (B,): ||dz/dx||_F^2 of the (d, pixels) Jacobian, exactly, for any encoder: one
    backward pass per code unit. create_graph=True to train through it (the contractive penalty).

    x must require grad and z (B, d) must come from x with images independent in the batch
    (eval mode, or no batch-coupled layers), so the gradient of z[:, j].sum() w.r.t. x gives row
    j of every image's Jacobian at once.
    """
    total = x.new_zeros(len(x))
    for j in range(z.shape[1]):
        (g,) = torch.autograd.grad(z[:, j].sum(), x, create_graph=create_graph,
                                   retain_graph=create_graph or j < z.shape[1] - 1)
        total = total + g.pow(2).flatten(1).sum(dim=1)
    return total


def neighbour_distances(x: torch.Tensor, z: torch.Tensor, k: int) -> torch.Tensor:
    """Seed 000's loss: keep the ratios of k-NN distances from pixel space to code space.

    Within the batch, take each image's k nearest neighbours in pixel space (itself excluded;
    seed 000's top_k picked the farthest, the stated intent is the nearest), rescale their code
    distances by the batch-mean ratio pixel/code, and average over rows the maximum squared error.
    """
    n = x.shape[0]
    k = min(k, n - 1)
    d_in = torch.cdist(x.flatten(1), x.flatten(1))                      # (B, B) pixel distances
    self_mask = torch.eye(n, dtype=torch.bool, device=x.device)
    true, idx = torch.topk(d_in.masked_fill(self_mask, float("inf")), k, dim=1, largest=False)  # (B, k)
    d_lat = torch.cdist(z, z)
    d_lat = torch.gather(d_lat, 1, idx).clamp_min(1e-8)
    multiple = (true / d_lat).mean()
    return ((true - multiple * d_lat) ** 2).max(dim=1).values.mean()


def pixel_rows(images) -> np.ndarray:
    """Images of any layout, uint8 or float in [0, 1] -> float32 rows (N, pixels) in [0, 1]."""
    return unit_float(images).reshape(len(images), -1)


def umap_knn(images: np.ndarray, n_neighbors: int) -> tuple[np.ndarray, np.ndarray]:
    """The exact k-NN graph of images (N, ...) that the explorer's UMAP maps use too."""
    return exact_knn(pixel_rows(images), n_neighbors)


def umap_graph(images: np.ndarray, n_neighbors: int, seed: int, knn=None):
    """UMAP's fuzzy k-NN graph of images (N, ...) as (heads, tails, weights) numpy arrays, built on
    the exact k-NN graph `knn` (umap_knn's, computed when not given)."""
    from umap.umap_ import fuzzy_simplicial_set  # lazy: heavy import, numba compiles

    points = pixel_rows(images)
    indices, dists = knn if knn is not None else umap_knn(points, n_neighbors)
    graph, _, _ = fuzzy_simplicial_set(points, n_neighbors, np.random.RandomState(seed), "euclidean",
                                       knn_indices=indices, knn_dists=dists)
    graph = graph.tocoo()
    return graph.row.astype(np.int64), graph.col.astype(np.int64), graph.data.astype(np.float32)


def umap_embedding(images: np.ndarray, n_neighbors: int, min_dist: float, seed: int, knn,
                   dims: int = 2) -> np.ndarray:
    """umap-learn's own map (N, dims) float32 of images (N, ...) on the exact k-NN graph `knn`,
    seeded: the map a umap model with `dims`-D codes warm-starts from (its codes are pulled to
    it, so it has their size)."""
    from ..latent.projections import umap_reducer
    reducer = umap_reducer(seed, n_neighbors, min_dist, precomputed_knn=knn).set_params(n_components=dims)
    return reducer.fit_transform(pixel_rows(images)).astype(np.float32)


def umap_ab(min_dist: float) -> tuple[float, float]:
    """UMAP's a, b for the low-dimensional similarity 1 / (1 + a d^(2b))."""
    from umap.umap_ import find_ab_params

    a, b = find_ab_params(1.0, min_dist)
    return float(a), float(b)


def umap_cross_entropy(z_head: torch.Tensor, z_tail: torch.Tensor, a: float, b: float,
                       negatives: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """Parametric UMAP's loss: attract the ends of sampled graph edges (B pairs), repel each head
    from `negatives` random tails of the batch. Mean over all pairs, positive and negative."""
    n = z_head.shape[0]
    perm = torch.randint(0, n, (n * negatives,), generator=generator, device=z_head.device)
    heads = torch.cat([z_head, z_head.repeat(negatives, 1)])
    tails = torch.cat([z_tail, z_tail[perm]])
    target = torch.cat([z_head.new_ones(n), z_head.new_zeros(n * negatives)])
    d2 = (heads - tails).pow(2).sum(dim=1)
    logit = -torch.log(a * d2.clamp_min(1e-10).pow(b))   # q = sigmoid(logit) = 1 / (1 + a d^2b)
    return F.binary_cross_entropy_with_logits(logit, target)
