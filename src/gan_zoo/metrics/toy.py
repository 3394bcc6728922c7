"""Metrics that are exact on low-dimensional data (VEEGAN, PacGAN; docs/methods.md#toy-data)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor


def exact_w1(x: Tensor, y: Tensor) -> float:
    """W1 between the empirical measures of two equal-weight point sets: optimal transport with a Euclidean
    cost (POT's exact network-simplex solver). Biased upward at finite N: compare with W1(real, real′)."""
    import ot  # noqa: PLC0415 - POT takes 40 MB of memory; image runs never need it

    a = np.full(len(x), 1.0 / len(x))
    b = np.full(len(y), 1.0 / len(y))
    xs, ys = x.detach().double().cpu().flatten(1).numpy(), y.detach().double().cpu().flatten(1).numpy()
    cost = ot.dist(xs, ys, metric="euclidean")
    return float(ot.emd2(a, b, cost, numItermax=10_000_000))


@dataclass(frozen=True)
class ModeCoverage:
    """VEEGAN/PacGAN mode statistics of a generated sample."""

    modes: int  # modes with at least one high-quality sample
    high_quality: float  # fraction of samples within n_sigma standard deviations of their nearest mode
    reverse_kl: float  # KL(generated mode histogram ‖ uniform) over high-quality samples; NaN if there are none


def mode_coverage(samples: Tensor, centers: Tensor, std: float, n_sigma: float = 3.0) -> ModeCoverage:
    """VEEGAN §5.1 / PacGAN §5: a sample is high quality if it lies within n_sigma·std of its nearest mode
    centre; a mode is captured if at least one high-quality sample has it as nearest mode; reverse KL is
    Σ_k q_k log(q_k / p_k) between the histogram q of high-quality samples over modes and the uniform p."""
    distance = torch.cdist(samples.detach().float().cpu(), centers.float().cpu())
    nearest_distance, nearest = distance.min(dim=1)
    good = nearest_distance <= n_sigma * std
    counts = torch.bincount(nearest[good], minlength=len(centers)).double()
    if counts.sum() == 0:
        return ModeCoverage(0, 0.0, math.nan)
    q = counts / counts.sum()
    present = q > 0
    reverse_kl = float((q[present] * torch.log(q[present] * len(centers))).sum())
    return ModeCoverage(int(present.sum()), float(good.double().mean()), reverse_kl)
