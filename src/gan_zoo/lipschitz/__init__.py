"""Lipschitz strategies (config group `lipschitz`)."""

from gan_zoo.lipschitz.base import NO_PENALTY, LipschitzStrategy, NoConstraint, Penalty
from gan_zoo.lipschitz.clipping import WeightClipping
from gan_zoo.lipschitz.consistency import ConsistencyTerm, consistency_term
from gan_zoo.lipschitz.gradient_penalty import (
    DRAGANPenalty,
    GradientPenalty,
    GradientPenaltyStrategy,
    OneSidedPenalty,
    R1Penalty,
)
from gan_zoo.lipschitz.spectral_norm import SpectralNorm

__all__ = [
    "NO_PENALTY",
    "ConsistencyTerm",
    "DRAGANPenalty",
    "GradientPenalty",
    "GradientPenaltyStrategy",
    "LipschitzStrategy",
    "NoConstraint",
    "OneSidedPenalty",
    "Penalty",
    "R1Penalty",
    "SpectralNorm",
    "WeightClipping",
    "consistency_term",
]
