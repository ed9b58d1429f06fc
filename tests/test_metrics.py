"""Hand-worked checks of aecore.measure.metrics on small made-up data."""
import math

import numpy as np
import pytest
import torch
from factories import tiny_config
from torch import nn

from aecore.measure import metrics
from aecore.models import build_model


class LinearEncoder(nn.Module):
    """Fake model: linear encoder (d x 784), sigmoid-linear decoder."""

    def __init__(self, d=3, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.latent_dim = d
        self.enc = nn.Linear(784, d)
        self.dec = nn.Linear(d, 784)

    def encode(self, x):
        return self.enc(x.flatten(1))

    def decode(self, z):
        return torch.sigmoid(self.dec(z)).view(-1, 1, 28, 28)

    def forward(self, x):
        return self.decode(self.encode(x))


def shallow_vae(seed: int = 0):
    torch.manual_seed(seed)
    return build_model(tiny_config("vae", "mlp", hidden=[], latent_dim=2)).eval()


def test_reconstruction_errors_sum_vs_mean():
    x = np.zeros((2, 28, 28))
    out = metrics.reconstruction_errors(x, x + 0.1)
    assert out["sse_per_image"] == pytest.approx(784 * 0.01)
    assert out["mse_per_pixel"] == pytest.approx(0.01)


def test_identity_codes_give_factor_one_and_full_trust():
    rng = np.random.default_rng(0)
    base = rng.random((300, 28, 28)).astype(np.float32)
    query = np.concatenate([rng.random((40, 28, 28)), base[:10]]).astype(np.float32)
    out = metrics.approximation_factors(query, base, query.reshape(50, -1), base.reshape(300, -1))
    assert out["aaf"] == pytest.approx(1.0) and out["maf"] == pytest.approx(1.0)
    assert out["n_queries"] == 50 and out["n_excluded"] == 0  # the 10 duplicates were skipped
    assert metrics.trustworthiness(base[:100], base[:100].reshape(100, -1), k=5) == pytest.approx(1.0)


def test_approximation_factors_match_brute_force():
    rng = np.random.default_rng(1)
    qp, bp = rng.random((30, 50)), rng.random((200, 50))
    qc, bc = rng.random((30, 2)), rng.random((200, 2))
    d_pix = np.linalg.norm(qp[:, None] - bp[None], axis=2)
    d_code = np.linalg.norm(qc[:, None] - bc[None], axis=2)
    r = d_pix[np.arange(30), d_code.argmin(1)] / d_pix.min(1)
    out = metrics.approximation_factors(qp, bp, qc, bc, chunk=7)
    assert out["aaf"] == pytest.approx(r.mean()) and out["maf"] == pytest.approx(r.max())
    assert out["aaf"] > 1.0
    true = metrics.nearest_pixel_distances(qp, bp)
    assert np.allclose(true, d_pix.min(1))
    assert metrics.approximation_factors(qp, bp, qc, bc, true_distances=true) == out


def test_knn_separable_clusters():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [10, 10], [-10, 10]])
    labels = np.repeat([0, 1, 2], 30)
    codes = centres[labels] + rng.normal(0, 0.5, (90, 2))
    assert metrics.knn_accuracy(codes[::2], labels[::2], codes[1::2], labels[1::2], k=3) == 1.0


def test_psnr_known_error_and_cap():
    clean = np.zeros((3, 28, 28))
    assert np.allclose(metrics.psnr(clean, clean + 0.1), 20.0)
    assert metrics.psnr(clean, clean)[0] == metrics.PSNR_CAP_DB


def test_ssim_identical_and_different():
    rng = np.random.default_rng(0)
    img = np.zeros((2, 28, 28), np.float32)
    img[:, 6:22, 12:16] = 1.0
    assert np.allclose(metrics.ssim(img, img), 1.0)
    assert np.all(metrics.ssim(img, 1.0 - img) < 0.5)
    assert np.all(metrics.ssim(img, rng.random(img.shape)) < 0.5)
    assert np.all(metrics.ssim(torch.from_numpy(img), img) == metrics.ssim(img, img))


def test_sparsity_stats_hand_made():
    codes = np.array([[0.0, 0.5, 0.0, 0.2],
                      [0.0, 0.9, 0.05, 0.0]])
    s = metrics.sparsity_stats(codes, threshold=0.1)
    assert s["mean_activation"] == pytest.approx(1.65 / 8)
    assert s["active_fraction"] == pytest.approx(3 / 8)
    assert s["dead_units"] == 2 and s["dead_fraction"] == 0.5
    assert s["unit_frequency"] == [0.0, 1.0, 0.0, 0.5]


def test_neg_elbo_hand_worked():
    model = shallow_vae()
    with torch.no_grad():  # mu = 0, logvar = 0 -> KL = 0; decoder outputs 0.5 -> BCE = 784 ln 2
        for p in model.parameters():
            p.zero_()
    x = torch.rand(5, 1, 28, 28)
    assert metrics.neg_elbo(model, x) == pytest.approx(784 * math.log(2), rel=1e-5)


def test_neg_elbo_seeded():
    model, x = shallow_vae(), torch.rand(7, 1, 28, 28)
    a = metrics.neg_elbo(model, x, n_samples=3, generator=5, batch_size=4)
    same = metrics.neg_elbo(model, x, n_samples=3, generator=torch.Generator().manual_seed(5))
    assert a == pytest.approx(same, rel=1e-6)  # batch_size changes only the rounding
    assert a != metrics.neg_elbo(model, x, n_samples=3, generator=6)


def test_jacobian_frobenius_linear_is_weight_norm():
    model = LinearEncoder(d=4)
    x = torch.rand(6, 1, 28, 28)
    expected = float(torch.linalg.matrix_norm(model.enc.weight.detach()))
    assert metrics.jacobian_frobenius(model, x, batch_size=4) == pytest.approx(expected, rel=1e-5)


def test_jacobian_frobenius_nonlinear_matches_autograd():
    model = LinearEncoder(d=3)
    model.encode = lambda x: torch.tanh(model.enc(x.flatten(1)))
    x = torch.rand(3, 1, 28, 28)
    ref = [torch.autograd.functional.jacobian(lambda v: model.encode(v[None])[0], xi).norm()
           for xi in x]
    assert metrics.jacobian_frobenius(model, x) == pytest.approx(float(torch.stack(ref).mean()), rel=1e-5)


def test_pca_all_components_reconstructs():
    rng = np.random.default_rng(0)
    train = rng.random((60, 28, 28)).astype(np.float32)
    out = metrics.pca_baseline(train, train[:10], n_components=60)
    assert out.train_codes.shape == (60, 60) and out.test_codes.shape == (10, 60)
    assert np.abs(out.test_reconstructions - train[:10]).max() < 1e-4
    small = metrics.pca_baseline(train, train[:10], n_components=2)
    assert small.test_reconstructions.min() >= 0 and small.test_reconstructions.max() <= 1


def test_median_filter_removes_salt():
    img = np.zeros((2, 28, 28), np.float32)
    img[0, 10, 10] = 1.0
    out = metrics.median_filter(img)
    assert out.shape == img.shape and out.dtype == img.dtype and out.max() == 0.0


def test_neg_elbo_is_the_vae_objective_at_beta_one():
    model, x = shallow_vae(seed=3), torch.rand(6, 1, 28, 28)
    eps = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():  # the training objective with the same noise
        assert float(model.neg_elbo(x, eps).mean()) == pytest.approx(float(model.loss(x, eps=eps)["loss"]), rel=1e-5)
    with pytest.raises(ValueError, match="no prior"):
        metrics.neg_elbo(build_model(tiny_config("plain", "mlp")), x)
