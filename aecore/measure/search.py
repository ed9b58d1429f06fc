"""How well a code space finds pixel-space neighbours: the exact nearest base image of each query
in pixel space, and the approximation factors of searching in code space instead (Q queries
against N base images, brute force, in chunks). A dataset's uint8 images are read as they are
stored and converted a chunk at a time: 100,000 colour 64x64 base images are never held as one
4.9 GB float copy. Pixels are in [0, 1] (uint8 divided by 255)."""
from __future__ import annotations

import warnings

import numpy as np
import torch

from ..pictures.pixels import numpy_of, unit_float

BASE_BYTES = 2**28   # float32 bytes of base images converted at once


def _as_rows32(a) -> torch.Tensor:
    """(N, ...) -> float32 tensor (N, D), uint8 scaled to [0, 1]."""
    a = unit_float(a, np.float32)
    return torch.from_numpy(a.reshape(len(a), -1))


def _stored_rows(a) -> torch.Tensor:
    """(N, ...) images -> a tensor (N, D) of their values as stored: uint8 stays uint8 (a view of a
    dataset's array, not a copy), anything else float32. _rows32 converts a chunk."""
    a = numpy_of(a)
    rows = a.reshape(len(a), -1)
    if rows.dtype != np.uint8:
        return torch.from_numpy(unit_float(rows, np.float32))
    with warnings.catch_warnings():  # a dataset's arrays are read-only; these rows are only read
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(rows)


def _rows32(t: torch.Tensor) -> torch.Tensor:
    """Rows of _stored_rows as float32 in [0, 1] (uint8 divided by 255, as unit_float does)."""
    return t.float().div_(255.0) if t.dtype == torch.uint8 else t


def _candidates(q: torch.Tensor, base: torch.Tensor, base_sq: torch.Tensor, k: int) -> torch.Tensor:
    """Indices (Q, k) of the k base rows nearest each query row, ranked by the matmul expansion
    |b|^2 - 2 q.b (+ |q|^2, constant per row so left out): fast, but cancellation makes it
    approximate in float32, so callers re-rank the candidates with _direct_dist. `base` may be
    stored rows (_stored_rows): they are converted BASE_BYTES at a time, and the candidates of
    each part merged."""
    per = max(1, BASE_BYTES // (4 * max(base.shape[1], 1)))
    best_d, best_i = None, None
    for s in range(0, len(base), per):
        d2 = torch.addmm(base_sq[None, s:s + per], q, _rows32(base[s:s + per]).T, alpha=-2.0)
        d, i = torch.topk(d2, min(k, d2.shape[1]), dim=1, largest=False)
        if best_d is not None:
            d, j = torch.topk(torch.cat([best_d, d], 1), k, dim=1, largest=False)
            i = torch.cat([best_i, i + s], 1).gather(1, j)
        best_d, best_i = d, i
    return best_i


def _squared_norms(base: torch.Tensor) -> torch.Tensor:
    """|b|^2 (N,) float32 of each base row, BASE_BYTES of rows converted at a time."""
    per = max(1, BASE_BYTES // (4 * max(base.shape[1], 1)))
    return torch.cat([_rows32(base[s:s + per]).pow(2).sum(dim=1) for s in range(0, len(base), per)])


def _direct_dist(q: torch.Tensor, base: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Distances (Q, k) float64 from each query row to base[idx[row]], from the differences
    (no cancellation; exactly 0 for identical rows)."""
    return (_rows32(base[idx]) - q[:, None, :]).pow(2).sum(dim=2).double().sqrt()


def _query_chunk(chunk: int, k: int, width: int) -> int:
    """Queries per step, so that the (queries, k, width) differences stay under 64 MB."""
    return max(1, min(chunk, 2**24 // max(k * width, 1)))


def nearest_pixel_distances(query_pixels, base_pixels, chunk: int = 1024,
                            candidates: int = 8) -> np.ndarray:
    """Per query (Q,) float64: the pixel-space distance to its nearest base image that is not
    identical to it (inf if its `candidates` nearest are all identical). Brute force, chunked.
    Compute once and pass as `true_distances` to approximation_factors for each model."""
    qp, bp = _stored_rows(query_pixels), _stored_rows(base_pixels)
    k, bp_sq = min(candidates, len(bp)), _squared_norms(bp)
    chunk = _query_chunk(chunk, k, bp.shape[1])
    out = []
    for s in range(0, len(qp), chunk):
        q = _rows32(qp[s:s + chunk])
        d = _direct_dist(q, bp, _candidates(q, bp, bp_sq, k))
        out.append(torch.where(d > 0, d, torch.inf).min(dim=1).values)
    return torch.cat(out).numpy() if out else np.zeros(0)


def approximation_factors(query_pixels, base_pixels, query_codes, base_codes,
                          true_distances=None, chunk: int = 1024, candidates: int = 8) -> dict:
    """How well latent neighbours are pixel neighbours (approximate nearest-neighbour search).

    For each query: r = |q - b*| / |q - b_true| in pixel space, where b* is the base point
    nearest to q in the latent space and b_true the one nearest in pixel space (Euclidean,
    brute force). Returns {'aaf': mean r, 'maf': max r, 'n_queries': queries used, 'n_excluded'}.
    r >= 1, and r = 1 when the latent search finds the true neighbour.

    Base images identical to the query (pixel distance exactly 0, e.g. the query itself or a
    duplicate) are skipped in both searches, since r would be 0/0; a query with more than
    `candidates` such duplicates is excluded and counted in 'n_excluded'. Searches rank by
    float32 matmul, then re-rank the best `candidates` by direct differences, so the ratio is
    not hurt by cancellation. `true_distances` (from nearest_pixel_distances on the same
    pixels) skips the pixel-space search, the costly half (~8 s for 10,000 x 22,699 on 2 cores).
    """
    qp, bp = _stored_rows(query_pixels), _stored_rows(base_pixels)
    qc, bc = _as_rows32(query_codes), _as_rows32(base_codes)
    if len(qp) != len(qc) or len(bp) != len(bc):
        raise ValueError("query_pixels/query_codes and base_pixels/base_codes must pair up row for row")
    if true_distances is None:
        true_distances = nearest_pixel_distances(qp, bp, chunk, candidates)
    d_true = torch.as_tensor(np.asarray(true_distances, np.float64))
    if d_true.shape != (len(qp),):
        raise ValueError(f"true_distances must have one entry per query ({len(qp)}), "
                         f"got shape {tuple(d_true.shape)}: use nearest_pixel_distances(query, base)")
    k, bc_sq = min(candidates, len(bc)), (bc * bc).sum(dim=1)
    chunk = _query_chunk(chunk, k, bp.shape[1])
    found = []
    for s in range(0, len(qp), chunk):
        q_pix, q_code = _rows32(qp[s:s + chunk]), qc[s:s + chunk]
        idx = _candidates(q_code, bc, bc_sq, k)
        d_pix, d_code = _direct_dist(q_pix, bp, idx), _direct_dist(q_code, bc, idx)
        d_code = torch.where(d_pix > 0, d_code, torch.inf)  # duplicates of the query rank last
        d_found = d_pix.gather(1, d_code.argmin(dim=1, keepdim=True))[:, 0]
        found.append(torch.where(torch.isinf(d_code.min(dim=1).values), torch.inf, d_found))
    d_found = torch.cat(found) if found else torch.zeros(0, dtype=torch.float64)
    # the true neighbour is the minimum by definition, even if the float32 ranking missed it
    r = d_found / torch.minimum(d_true, d_found)
    used = r[torch.isfinite(d_true) & torch.isfinite(d_found)]
    if len(used) == 0:
        raise ValueError("no query has a non-duplicate base image; check the query and base sets")
    return {"aaf": float(used.mean()), "maf": float(used.max()),
            "n_queries": int(len(used)), "n_excluded": int(len(r) - len(used))}
