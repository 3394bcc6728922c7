"""Precision and recall (Kynkäänniemi et al. 2019), density and coverage (Naeem et al. 2020) of generated samples.

FID mixes sample quality and mode coverage into one number; these four tell them apart. With real features
X = {x_i} (N of them), generated features Y = {y_j} (M), and NND_k(x) the distance from x to its k-th nearest
neighbour in its own set (itself excluded):

    precision = 1/M Σ_j 1[∃ i: ‖y_j − x_i‖ < NND_k(x_i)]          (k = 3; Kynkäänniemi et al. §3)
    recall    = 1/N Σ_i 1[∃ j: ‖x_i − y_j‖ < NND_k(y_j)]          (k = 3)
    density   = 1/(kM) Σ_j Σ_i 1[‖y_j − x_i‖ < NND_k(x_i)]        (k = 5; Naeem et al. eq. 2)
    coverage  = 1/N Σ_i 1[min_j ‖x_i − y_j‖ < NND_k(x_i)]         (k = 5; Naeem et al. eq. 3)

Precision and density: how much of the generated set lies on the real manifold (density also counts how many real
neighbourhoods, so it is not fooled by outliers that inflate real radii); recall and coverage: how much of the real
manifold the generated set reaches.

Written with torch.cdist rather than taken from the `prdc` package (the authors' reference code, numpy +
scikit-learn): that one builds three full N×N, M×M, N×M distance matrices in float64 on the CPU (2.4 GB for 10,000
samples each), and needs the features on the host; here the distances are computed in chunks on the features'
device. tests/test_prdc.py checks both give the same numbers.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from gan_zoo.errors import require

CHUNK = 2048  # rows of a distance block: 2048 × 10,000 float32 = 80 MB


def kth_neighbour_distances(points: Tensor, k: int, chunk: int = CHUNK) -> Tensor:
    """NND_k: for each point, the distance to its k-th nearest other point of the same set."""
    require(len(points) > k, f"precision/recall need more than k = {k} samples per set (got {len(points)})")
    out = []
    for block in points.split(chunk):
        distances = torch.cdist(block, points)
        out.append(distances.kthvalue(k + 1, dim=1).values)  # the 1st is the point itself, at distance 0
    return torch.cat(out)


def _any_within(queries: Tensor, centres: Tensor, radii: Tensor, chunk: int = CHUNK) -> tuple[Tensor, Tensor, Tensor]:
    """For each query: is it inside any ball (centre, radius); how many balls hold it; and, for each ball, whether
    any query is inside it."""
    inside_any, counts = [], []
    ball_hit = torch.zeros(len(centres), dtype=torch.bool, device=centres.device)
    for block in queries.split(chunk):
        inside = torch.cdist(block, centres) < radii[None, :]
        inside_any.append(inside.any(dim=1))
        counts.append(inside.sum(dim=1))
        ball_hit |= inside.any(dim=0)
    return torch.cat(inside_any), torch.cat(counts), ball_hit


def precision_recall_density_coverage(real: Tensor, fake: Tensor, k_pr: int = 3, k_dc: int = 5,
                                      chunk: int = CHUNK) -> dict[str, float]:
    """The four metrics of real (N, d) and generated (M, d) features, in float32 (float64 input stays float64)."""
    real, fake = real.flatten(1), fake.flatten(1)
    if not real.is_floating_point() or real.dtype == torch.float16 or real.dtype == torch.bfloat16:
        real, fake = real.float(), fake.float()
    fake = fake.to(real.dtype)
    real_pr = kth_neighbour_distances(real, k_pr, chunk)
    fake_pr = kth_neighbour_distances(fake, k_pr, chunk)
    precise, _, _ = _any_within(fake, real, real_pr, chunk)
    recalled, _, _ = _any_within(real, fake, fake_pr, chunk)
    real_dc = real_pr if k_dc == k_pr else kth_neighbour_distances(real, k_dc, chunk)
    _, counts, covered = _any_within(fake, real, real_dc, chunk)
    return {"precision": float(precise.double().mean()), "recall": float(recalled.double().mean()),
            "density": float(counts.double().sum() / (k_dc * len(fake))), "coverage": float(covered.double().mean())}


class PrecisionRecallDensityCoverage(Metric):
    """The four metrics as a torchmetrics Metric in the same mould as FID/KID: `update(images, real)` runs
    `feature` (a feature network, e.g. an output of gan_zoo.metrics.features.SharedFeatures) and keeps the features;
    `compute()` returns {"precision", "recall", "density", "coverage"}. `reset_real_features=False` keeps the real
    features across resets (they are computed once per run). Under DDP the features of all processes are gathered.
    `feature=None` takes the inputs as features themselves (toy data: raw coordinates)."""

    higher_is_better = True
    full_state_update = False
    outputs = ("precision", "recall", "density", "coverage")  # compute()'s keys, logged as val/<key>

    def __init__(self, feature: nn.Module | None = None, k_pr: int = 3, k_dc: int = 5,
                 reset_real_features: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        require(k_pr >= 1 and k_dc >= 1, f"k_pr and k_dc must be >= 1 (got {k_pr}, {k_dc})")
        self.feature = feature
        self.k_pr, self.k_dc = k_pr, k_dc
        self.reset_real_features = reset_real_features
        self.add_state("real_features", [], dist_reduce_fx="cat")
        self.add_state("fake_features", [], dist_reduce_fx="cat")

    def update(self, images: Tensor, real: bool) -> None:
        features = images if self.feature is None else self.feature(images)
        (self.real_features if real else self.fake_features).append(features.detach().flatten(1).float())

    def compute(self) -> dict[str, float]:
        return precision_recall_density_coverage(dim_zero_cat(self.real_features), dim_zero_cat(self.fake_features),
                                                 self.k_pr, self.k_dc)

    def reset(self) -> None:
        kept = None if self.reset_real_features else list(self.real_features)  # reset() clears lists in place
        super().reset()
        if kept is not None:
            self.real_features = kept
