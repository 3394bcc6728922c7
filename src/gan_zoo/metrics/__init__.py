"""Exact measurements on toy data: Wasserstein-1 by optimal transport and mode coverage; stacked-digit mode
coverage (gan_zoo.metrics.stacked_modes)."""

from gan_zoo.metrics.stacked_modes import StackedModeCounter, StackedModes, expected_uniform_kl, modes_of_labels
from gan_zoo.metrics.toy import ModeCoverage, exact_w1, mode_coverage

__all__ = ["ModeCoverage", "StackedModeCounter", "StackedModes", "exact_w1", "expected_uniform_kl", "mode_coverage",
           "modes_of_labels"]
