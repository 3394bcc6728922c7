"""Toy 2-D distributions (definitions and sources: docs/methods.md#toy-data) and their Lightning DataModule."""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.datasets import make_swiss_roll
from torch import Tensor
from torch.utils.data import DataLoader

from gan_zoo.data.planned import PlannedDataModule, loader_generator
from gan_zoo.errors import require


class GaussianMixture:
    """Equal-weight isotropic Gaussians: x = (centre_k + std·n) / scale, k uniform, n ~ N(0, I)."""

    def __init__(self, centers: Tensor, std: float, scale: float = 1.0) -> None:
        self.raw_centers = torch.as_tensor(centers, dtype=torch.float32)
        self.raw_std = std
        self.scale = scale

    @property
    def centers(self) -> Tensor:
        """Mode centres in data coordinates."""
        return self.raw_centers / self.scale

    @property
    def std(self) -> float:
        """Per-coordinate standard deviation of each mode in data coordinates."""
        return self.raw_std / self.scale

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        k = torch.randint(len(self.raw_centers), (n,), generator=rng)
        noise = torch.randn(n, 2, generator=rng)
        return (self.raw_centers[k] + self.raw_std * noise) / self.scale


class SwissRoll:
    """WGAN-GP gan_toy.py: sklearn make_swiss_roll(noise=0.25), columns [0, 2], divided by 7.5."""

    def __init__(self, noise: float = 0.25, scale: float = 7.5) -> None:
        self.noise, self.scale = noise, scale

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        seed = int(torch.randint(2**31 - 1, (1,), generator=rng))
        points, _ = make_swiss_roll(n_samples=n, noise=self.noise, random_state=seed)
        return torch.from_numpy(points[:, [0, 2]].astype(np.float32)) / self.scale


def _circle(k: int, radius: float) -> Tensor:
    angles = torch.arange(k, dtype=torch.float64) * 2 * math.pi / k
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1).float()


def _lattice(values: list[float]) -> Tensor:
    return torch.tensor([[x, y] for x in values for y in values], dtype=torch.float32)


def ring() -> GaussianMixture:
    """PacGAN/VEEGAN ring: 8 Gaussians on the unit circle, std 0.01."""
    return GaussianMixture(_circle(8, 1.0), std=0.01)


def grid() -> GaussianMixture:
    """PacGAN/VEEGAN grid: 25 Gaussians at {−4, −2, 0, 2, 4}², std 0.05."""
    return GaussianMixture(_lattice([-4.0, -2.0, 0.0, 2.0, 4.0]), std=0.05)


def eight_gaussians() -> GaussianMixture:
    """WGAN-GP gan_toy.py: 8 Gaussians at radius 2, std 0.02, all divided by 1.414."""
    return GaussianMixture(_circle(8, 2.0), std=0.02, scale=1.414)


def twenty_five_gaussians() -> GaussianMixture:
    """WGAN-GP gan_toy.py: 25 Gaussians at {−4, −2, 0, 2, 4}², std 0.05, all divided by 2.828."""
    return GaussianMixture(_lattice([-4.0, -2.0, 0.0, 2.0, 4.0]), std=0.05, scale=2.828)


class ToyDataModule(PlannedDataModule):
    """Fresh training batches from a toy distribution; a fixed held-out set (drawn with val_seed,
    the same for every training seed) for validation."""

    data_shape = (2,)

    def __init__(self, distribution: GaussianMixture | SwissRoll, batch_size: int = 256, val_size: int = 2500,
                 seed: int = 0, val_seed: int = 1234) -> None:
        super().__init__(distribution.sample, batch_size, seed)
        require(batch_size >= 2, f"data.batch_size must be >= 2 (got {batch_size})")
        require(val_size >= 2, f"data.val_size must be >= 2 (got {val_size})")
        self.distribution = distribution
        self.batch_size, self.val_size = batch_size, val_size
        self.held_out = distribution.sample(val_size, torch.Generator().manual_seed(val_seed))

    def val_dataloader(self) -> DataLoader:
        # its own generator: validation must not draw from training's random stream (observing never changes it)
        return DataLoader(self.held_out, batch_size=self.val_size, shuffle=False, generator=loader_generator())
