"""Critic objectives (config group `objective`)."""

from gan_zoo.objectives.base import Objective, Terms
from gan_zoo.objectives.energy import EnergyBasedGAN, pulling_away_term
from gan_zoo.objectives.feature_matching import (FeatureMatching, GeneratorLoss, ObjectiveGeneratorLoss,
                                                 feature_matching_loss)
from gan_zoo.objectives.fgan import FGAN
from gan_zoo.objectives.gan import MinimaxGAN, NonSaturatingGAN
from gan_zoo.objectives.least_squares import LeastSquaresGAN
from gan_zoo.objectives.loss_sensitive import LossSensitiveGAN, l1_margin
from gan_zoo.objectives.wasserstein import HingeGAN, WassersteinGAN

__all__ = [
    "EnergyBasedGAN",
    "FeatureMatching",
    "FGAN",
    "GeneratorLoss",
    "HingeGAN",
    "LeastSquaresGAN",
    "LossSensitiveGAN",
    "MinimaxGAN",
    "NonSaturatingGAN",
    "Objective",
    "ObjectiveGeneratorLoss",
    "Terms",
    "WassersteinGAN",
    "feature_matching_loss",
    "l1_margin",
    "pulling_away_term",
]
