"""Pure building blocks of the gradient penalties, each testable on fixed tensors."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar

import torch
from torch import Tensor, nn

from gan_zoo.parallel import sharding


def per_sample_uniform(reference: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """One U[0, 1) draw per sample, shaped to broadcast over all non-batch dims (WGAN-GP Algorithm 1;
    docs/methods.md#implementation-pitfalls, item 1). From `generator` when given (a measurement's own stream),
    otherwise from training's (gan_zoo.parallel.sharding)."""
    return sharding.rand(reference.shape[0], *([1] * (reference.dim() - 1)),
                         device=reference.device, dtype=reference.dtype, generator=generator)


def interpolate(real: Tensor, fake: Tensor, eps: Tensor) -> Tensor:
    """x̂ = ε·x + (1 − ε)·x̃ (WGAN-GP Algorithm 1, line 6)."""
    return eps * real + (1.0 - eps) * fake


_GRAD_SCALER: ContextVar[torch.amp.GradScaler | None] = ContextVar("gan_zoo_grad_scaler", default=None)


@contextlib.contextmanager
def loss_scaling(scaler: torch.amp.GradScaler | None) -> Iterator[None]:
    """Input gradients taken inside use `scaler` (fp16 mixed precision; None or a disabled scaler: plain)."""
    token = _GRAD_SCALER.set(scaler if scaler is not None and scaler.is_enabled() else None)
    try:
        yield
    finally:
        _GRAD_SCALER.reset(token)


def input_gradients(critic: nn.Module, points: Tensor, create_graph: bool = True) -> Tensor:
    """∇_x D(x) at each point (same shape as points).

    Under fp16 loss scaling (`loss_scaling`) this is the gradient-penalty recipe of PyTorch's AMP examples
    ("Gradient penalty"): differentiate scale·ΣD so that small backward values do not underflow in half
    precision, then multiply by 1/scale. An overflow gives inf here, hence an inf penalty and inf gradients: the
    scaler then skips the step and lowers its scale, as for any other overflow.
    """
    points = points.detach().requires_grad_(True)
    score = critic(points).score.sum()
    scaler = _GRAD_SCALER.get()
    if scaler is None:
        (grad,) = torch.autograd.grad(score, points, create_graph=create_graph)
        return grad
    (scaled,) = torch.autograd.grad(scaler.scale(score), points, create_graph=create_graph)
    return scaled * (1.0 / scaler.get_scale())


def gradient_norms(critic: nn.Module, points: Tensor, create_graph: bool = True) -> Tensor:
    """‖∇_x D(x)‖₂ at each point, one norm per sample over all non-batch dims.

    With create_graph the norms stay differentiable, so a penalty on them joins the critic loss in
    the same backward (docs/methods.md#implementation-pitfalls, items 1 and 2).
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

    x_p = x + perturb_scale · std(x) · noise   (noise ~ U[0, 1); std: the population std of every element of
                                                the whole (global) batch, numpy's X.std() as in the notebook)
    x̂  = x + α (x_p − x)                       (α ~ U[0, 1) per sample)
    """
    perturbed = real + perturb_scale * sharding.global_std(real) * noise
    return real + alpha * (perturbed - real)
