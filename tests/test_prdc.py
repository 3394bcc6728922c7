"""Precision/recall (Kynkäänniemi et al. 2019) and density/coverage (Naeem et al. 2020) on point sets whose answer
is known, and against the authors' reference code (the `prdc` package)."""

from __future__ import annotations

import math

import pytest
import torch
from prdc import compute_prdc

from gan_zoo.metrics.prdc import PrecisionRecallDensityCoverage, precision_recall_density_coverage


def mixture(n: int, centres: torch.Tensor, std: float, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    k = torch.randint(len(centres), (n,), generator=g)
    return centres[k] + std * torch.randn(n, centres.shape[1], generator=g)


CENTRES = torch.tensor([[4.0 * math.cos(a), 4.0 * math.sin(a)] for a in torch.arange(8) * math.pi / 4])


def test_samples_from_the_real_distribution_score_about_one() -> None:
    real, fake = mixture(2000, CENTRES, 0.1, 0), mixture(2000, CENTRES, 0.1, 1)
    m = precision_recall_density_coverage(real, fake)
    assert m["precision"] > 0.9 and m["recall"] > 0.9 and m["coverage"] > 0.9
    assert 0.8 < m["density"] < 1.2
    same = precision_recall_density_coverage(real, real.clone())
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0


def test_half_of_the_modes_gives_recall_near_a_half_and_full_precision() -> None:
    real, fake = mixture(2000, CENTRES, 0.1, 0), mixture(2000, CENTRES[:4], 0.1, 1)
    m = precision_recall_density_coverage(real, fake)
    assert m["precision"] > 0.9
    assert 0.4 < m["recall"] < 0.6 and 0.4 < m["coverage"] < 0.6


def test_samples_far_from_the_data_have_no_precision() -> None:
    real, fake = mixture(1000, CENTRES, 0.1, 0), mixture(1000, CENTRES + 50.0, 0.1, 1)
    m = precision_recall_density_coverage(real, fake)
    assert m == {"precision": 0.0, "recall": 0.0, "density": 0.0, "coverage": 0.0}


@pytest.mark.parametrize("k", [3, 5])
def test_equals_the_reference_implementation(k: int) -> None:
    real, fake = torch.randn(700, 16, dtype=torch.float64), torch.randn(500, 16, dtype=torch.float64) * 1.3 + 0.2
    ours = precision_recall_density_coverage(real, fake, k_pr=k, k_dc=k, chunk=128)  # chunks smaller than the sets
    theirs = compute_prdc(real.numpy(), fake.numpy(), nearest_k=k)
    for name in ours:
        assert ours[name] == pytest.approx(float(theirs[name]), abs=1e-12), name


def test_the_metric_keeps_real_features_across_resets_and_takes_a_feature_network() -> None:
    metric = PrecisionRecallDensityCoverage(feature=torch.nn.Flatten(), reset_real_features=False)
    real, fake = mixture(400, CENTRES, 0.1, 0), mixture(400, CENTRES[:4], 0.1, 1)
    for batch in real.split(100):
        metric.update(batch.view(-1, 1, 2), real=True)
    metric.update(fake.view(-1, 1, 2), real=False)
    first = metric.compute()
    metric.reset()
    metric.update(fake.view(-1, 1, 2), real=False)
    assert metric.compute() == first == precision_recall_density_coverage(real, fake)
    assert len(metric.fake_features) == 1  # the generated features were reset, the real ones kept
