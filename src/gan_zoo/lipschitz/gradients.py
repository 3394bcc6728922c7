"""Pure building blocks of the gradient penalties, each testable on fixed tensors."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def per_sample_uniform(reference: Tensor) -> Tensor:
    """One U[0, 1) draw per sample, shaped to broadcast over all non-batch dims (REFERENCES §5.1)."""
    return torch.rand(reference.shape[0], *([1] * (reference.dim() - 1)),
                      device=reference.device, dtype=reference.dtype)


def interpolate(real: Tensor, fake: Tensor, eps: Tensor) -> Tensor:
    """x̂ = ε·x + (1 − ε)·x̃ (WGAN-GP Algorithm 1, line 6)."""
    return eps * real + (1.0 - eps) * fake


def input_gradients(critic: nn.Module, points: Tensor, create_graph: bool = True) -> Tensor:
    """∇_x D(x) at each point (same shape as points)."""
    points = points.detach().requires_grad_(True)
    score = critic(points).score
    (grad,) = torch.autograd.grad(score.sum(), points, create_graph=create_graph)
    return grad


def gradient_norms(critic: nn.Module, points: Tensor, create_graph: bool = True) -> Tensor:
    """‖∇_x D(x)‖₂ at each point, one norm per sample over all non-batch dims (REFERENCES §5.1).

    With create_graph the norms stay differentiable, so a penalty on them joins the critic loss in
    the same backward (REFERENCES §5.2).
    """
    return input_gradients(critic, points, create_graph).flatten(1).norm(dim=1)


def two_sided_penalty(norms: Tensor) -> Tensor:
    """E[(‖∇D(x̂)‖ − 1)²] (WGAN-GP eq. 3)."""
    return ((norms - 1.0) ** 2).mean()


def one_sided_penalty(norms: Tensor) -> Tensor:
    """E[max(0, ‖∇D(x̂)‖ − 1)²] (WGAN-GP App. C; Petzka et al. 2018 WGAN-LP)."""
    return (torch.relu(norms - 1.0) ** 2).mean()


def dragan_points(real: Tensor, perturb_scale: float, noise: Tensor, alpha: Tensor) -> Tensor:
    """DRAGAN penalty points around real data only (Kodali et al. 2017, official notebook).

    x_p = x + perturb_scale · std(x) · noise   (noise ~ U[0, 1), std over the whole batch)
    x̂  = x + α (x_p − x)                       (α ~ U[0, 1) per sample)
    """
    perturbed = real + perturb_scale * real.std() * noise
    return real + alpha * (perturbed - real)
