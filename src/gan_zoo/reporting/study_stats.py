"""The statistics of a study: the best metric as a function of the budget (Lucic et al. 2018, Fig. 4), and the
rank correlation between the critic's estimate and the true distance over a run (Arjovsky et al. 2017, §4.2).

- Budget: for k = 1..K trials, draw k of a method's trials with replacement B times (seeded), take the best of each
  draw; the curve is the mean of those bests and the band their 2.5 and 97.5 percentiles. Hand-written with numpy:
  scipy.stats.bootstrap gives a confidence interval of one statistic of the sample, while this is the distribution
  of the best of k draws for every k (the curve's band is that distribution, not a confidence interval of its mean).
  `expected_best_of_k` is the exact mean of that distribution for the observed trials.
- Meaningful loss: Spearman's ρ (scipy.stats.spearmanr) between `val/w_estimate` and exact W1 (toy data) or FID
  (images) over a run's validations; a run with fewer than 3 validations holding both, or with a constant series
  (ρ undefined), has no ρ and is left out of the median and the fraction.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gan_zoo.reporting.study_runs import ESTIMATE, PRIMARY, Run, finite

RESAMPLES = 1000
MIN_VALIDATIONS = 3  # fewer points give no meaningful rank correlation
RHO_THRESHOLD = 0.8


@dataclass(frozen=True)
class BudgetCurve:
    """Best-of-k over k = 1..K: the mean of the B bests per k and the 2.5/97.5 percentiles (the 95 % band)."""

    k: tuple[int, ...]
    mean: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]


def best_of_k(values: Sequence[float], lower_is_better: bool, k_max: int | None = None,
              resamples: int = RESAMPLES, seed: int = 0) -> BudgetCurve:
    """Bootstrap the best of k trials for k = 1..k_max (default: as many as there are values), Lucic et al. 2018
    §5 / Fig. 4. The values must be finite (diverged trials are left out by the caller)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return BudgetCurve((), (), (), ())
    rng = np.random.default_rng(seed)
    ks = tuple(range(1, (k_max or data.size) + 1))
    means, lows, highs = [], [], []
    for k in ks:
        draws = data[rng.integers(0, data.size, size=(resamples, k))]
        best = draws.min(axis=1) if lower_is_better else draws.max(axis=1)
        means.append(float(best.mean()))
        low, high = np.percentile(best, [2.5, 97.5])
        lows.append(float(low))
        highs.append(float(high))
    return BudgetCurve(ks, tuple(means), tuple(lows), tuple(highs))


def expected_best_of_k(values: Sequence[float], k: int, lower_is_better: bool) -> float:
    """E[best of k draws with replacement] from the observed values, exactly: with v_(1) <= ... <= v_(n) sorted
    best first, the best of k draws is v_(i) with probability ((n−i+1)/n)^k − ((n−i)/n)^k."""
    ordered = sorted(values, reverse=not lower_is_better)
    n = len(ordered)
    return sum(v * (((n - i + 1) / n) ** k - ((n - i) / n) ** k) for i, v in enumerate(ordered, start=1))


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman's rank correlation (scipy.stats.spearmanr); NaN for fewer than MIN_VALIDATIONS pairs or a
    constant series."""
    from scipy.stats import spearmanr

    if len(x) < MIN_VALIDATIONS:
        return math.nan
    if len(set(x)) < 2 or len(set(y)) < 2:
        return math.nan  # undefined; scipy would warn and return NaN
    return float(spearmanr(x, y).statistic)


def target_of(run: Run) -> str | None:
    """What the critic's estimate is compared with: FID on images, exact W1 on toy data, the mode KL on stacked
    digits without FID (the first of PRIMARY the run logs)."""
    keys = {key for row in run.validations for key in row}
    return next((metric for metric in PRIMARY if metric in keys), None)


def estimate_series(run: Run) -> tuple[str | None, list[float], list[float], list[float]]:
    """(target, generator iterations, estimates, target values) over the validations that hold both, finite."""
    target = target_of(run)
    if target is None:
        return None, [], [], []
    rows = [row for row in run.validations if finite(row.get(ESTIMATE)) and finite(row.get(target))]
    return (target, [row.get("gen_iter", float(i)) for i, row in enumerate(rows)], [row[ESTIMATE] for row in rows],
            [row[target] for row in rows])


def run_rho(run: Run) -> tuple[float, int]:
    """(ρ between the critic's estimate and W1/FID over the run's validations, how many validations had both)."""
    _, _, estimates, targets = estimate_series(run)
    return spearman(estimates, targets), len(estimates)


@dataclass(frozen=True)
class RhoSummary:
    """Per method: the median ρ over the trials that have one, how many of them have ρ > 0.8, and how many trials
    were left out (fewer than 3 validations, or ρ undefined)."""

    median: float
    above: int
    counted: int
    excluded: int


def summarise_rhos(rhos: Sequence[float]) -> RhoSummary:
    kept = [rho for rho in rhos if finite(rho)]
    if not kept:
        return RhoSummary(math.nan, 0, 0, len(rhos))
    return RhoSummary(statistics.median(kept), sum(rho > RHO_THRESHOLD for rho in kept), len(kept),
                      len(rhos) - len(kept))
