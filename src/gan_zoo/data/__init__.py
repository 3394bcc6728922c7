"""Data: toy 2-D distributions and the batch stream every data module feeds the trainer."""

from gan_zoo.data.image_sets import MNIST, CIFAR10, CelebA, Digits, FashionMNIST, ImageFolder
from gan_zoo.data.images import ImageDataModule
from gan_zoo.data.planned import PlannedBatches, PlannedDataModule
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
    "CIFAR10",
    "CelebA",
    "Digits",
    "FashionMNIST",
    "ImageDataModule",
    "ImageFolder",
    "MNIST",
    "GaussianMixture",
    "PlannedBatches",
    "PlannedDataModule",
    "SwissRoll",
    "ToyDataModule",
    "eight_gaussians",
    "grid",
    "ring",
    "twenty_five_gaussians",
]
