"""Exact measurements on toy data: Wasserstein-1 by optimal transport and mode coverage."""

from gan_zoo.metrics.toy import ModeCoverage, exact_w1, mode_coverage

__all__ = ["ModeCoverage", "exact_w1", "mode_coverage"]
