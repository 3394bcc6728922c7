"""Data: toy 2-D distributions and the batch stream every data module feeds the trainer."""

from gan_zoo.data.planned import PlannedBatches
from gan_zoo.data.toy import (
    GaussianMixture,
    SwissRoll,
    ToyDataModule,
    eight_gaussians,
    grid,
    ring,
    twenty_five_gaussians,
)

__all__ = [
    "GaussianMixture",
    "PlannedBatches",
    "SwissRoll",
    "ToyDataModule",
    "eight_gaussians",
    "grid",
    "ring",
    "twenty_five_gaussians",
]
