"""Toy distributions exactly as their papers' code defines them (docs/methods.md#toy-data)."""

from __future__ import annotations

import math

import pytest
import torch

from gan_zoo.data import SwissRoll, ToyDataModule, eight_gaussians, grid, ring, twenty_five_gaussians

RNG = torch.Generator().manual_seed(0)


@pytest.mark.parametrize(("factory", "modes", "std", "first_center"), [
    (ring, 8, 0.01, (1.0, 0.0)),
    (grid, 25, 0.05, (-4.0, -4.0)),
    (eight_gaussians, 8, 0.02 / 1.414, (2 / 1.414, 0.0)),
    (twenty_five_gaussians, 25, 0.05 / 2.828, (-4 / 2.828, -4 / 2.828)),
])
def test_mixture_definitions(factory, modes: int, std: float, first_center: tuple[float, float]) -> None:
    mixture = factory()
    assert mixture.centers.shape == (modes, 2)
    assert mixture.std == pytest.approx(std)
    assert torch.allclose(mixture.centers[0], torch.tensor(first_center))
    x = mixture.sample(20000, torch.Generator().manual_seed(1))
    nearest = torch.cdist(x, mixture.centers).argmin(dim=1)
    offsets = x - mixture.centers[nearest]
    assert float(offsets.std()) == pytest.approx(std, rel=0.05)
    assert nearest.bincount(minlength=modes).min() > 20000 / modes * 0.8  # every mode, about equally


def test_ring_has_radius_one() -> None:
    assert torch.allclose(ring().centers.norm(dim=1), torch.ones(8))
    angles = torch.atan2(ring().centers[:, 1], ring().centers[:, 0])
    assert torch.allclose(torch.sort(torch.remainder(angles, 2 * math.pi)).values,
                          torch.arange(8) * 2 * math.pi / 8, atol=1e-6)


def test_swissroll_matches_the_wgan_gp_toy_script() -> None:
    from sklearn.datasets import make_swiss_roll

    x = SwissRoll().sample(5000, torch.Generator().manual_seed(0))
    assert x.shape == (5000, 2)
    reference = make_swiss_roll(n_samples=5000, noise=0.25, random_state=0)[0][:, [0, 2]] / 7.5
    assert float(x.abs().max()) == pytest.approx(float(abs(reference).max()), rel=0.1)


def test_held_out_set_is_fixed_and_independent_of_the_training_seed() -> None:
    a = ToyDataModule(ring(), seed=0, val_size=100)
    b = ToyDataModule(ring(), seed=1, val_size=100)
    assert torch.equal(a.held_out, b.held_out)
    assert not torch.equal(next(iter(a.train_dataloader())), next(iter(b.train_dataloader())))
