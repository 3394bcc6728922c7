"""Paths through the latent space: spherical and linear interpolation between noise vectors."""

from __future__ import annotations

import torch
from torch import Tensor

MODES = ("slerp", "lerp")


def lerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """(1 − t)·a + t·b, for t of shape (T,) against a, b of shape (d,): (T, d)."""
    t = t[:, None]
    return (1 - t) * a + t * b


def slerp(a: Tensor, b: Tensor, t: Tensor) -> Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016, "Sampling Generative Networks", for GAN latents):
    sin((1 − t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b with cos Ω = â·b̂. Gaussian noise lives near a sphere, and a straight
    line between two samples passes through the low-norm centre that the generator rarely saw. Falls back to lerp
    for (nearly) parallel vectors."""
    cos = torch.dot(a / a.norm(), b / b.norm()).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-6:
        return lerp(a, b, t)
    t = t[:, None]
    return (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / torch.sin(omega)


def interpolation_noise(z_dim: int, rows: int, steps: int, seed: int = 0, mode: str = "slerp") -> Tensor:
    """rows × steps noise vectors (rows·steps, z_dim): each row walks from one random z to another, ends included."""
    if mode not in MODES:
        raise ValueError(f"interpolation mode must be one of {', '.join(MODES)} (got {mode!r})")
    ends = torch.randn(rows, 2, z_dim, generator=torch.Generator().manual_seed(seed))
    t = torch.linspace(0.0, 1.0, steps)
    walk = slerp if mode == "slerp" else lerp
    return torch.cat([walk(ends[r, 0], ends[r, 1], t) for r in range(rows)])
