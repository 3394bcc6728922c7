"""A plain PyTorch GAN training loop (no Lightning, no Hydra): the reference that gan_zoo is timed against.

It does the mathematics gan_zoo does for the timed set-ups (WGAN Algorithm 1): per critic step one fresh real
batch and fresh noise, the objective's critic loss plus the strategy's penalty, one optimizer step, clipping after
it; every n_critic steps one generator step with the critic frozen. Written as a careful researcher would: no
per-step synchronisation, gradients set to None, spectral norm's power iteration once per update
(`parametrize.cached`), the same nets (for WGAN-GP with the penalty-friendly activations gan_zoo swaps in),
as gan_zoo does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from gan_zoo.nets.penalty_friendly import penalty_friendly

WEIGHT_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


@dataclass(frozen=True)
class Method:
    objective: str  # wgan | hinge
    lipschitz: str  # gp | sn | clip | none
    lambda_: float = 10.0
    clip: float = 0.01
    n_critic: int = 5


def prepare_critic(critic: nn.Module, method: Method) -> nn.Module:
    if method.lipschitz == "sn":
        for module in list(critic.modules()):
            if isinstance(module, WEIGHT_LAYERS):
                spectral_norm(module)
    if method.lipschitz == "gp":  # the same net as gan_zoo's: its penalty-friendly ReLU / LeakyReLU (a faster GP)
        penalty_friendly(critic)
    return critic


def critic_loss(d_real: Tensor, d_fake: Tensor, objective: str) -> Tensor:
    if objective == "wgan":
        return d_fake.mean() - d_real.mean()
    return F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()  # hinge


def gradient_penalty(critic: nn.Module, real: Tensor, fake: Tensor) -> Tensor:
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device)
    points = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(points).score.sum(), points, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


def train(generator: nn.Module, critic: nn.Module, real_batch: Callable[[int], Tensor], method: Method,
          generator_optimizer: torch.optim.Optimizer, critic_optimizer: torch.optim.Optimizer, batch_size: int,
          critic_steps: int) -> None:
    """`critic_steps` critic updates and the generator updates between them."""
    z_dim = generator.z_dim
    device = next(generator.parameters()).device
    cached = parametrize.cached if method.lipschitz == "sn" else torch.enable_grad
    for step in range(critic_steps):
        real = real_batch(batch_size)
        with torch.no_grad():
            fake = generator(torch.randn(batch_size, z_dim, device=device))
        with cached():
            loss = critic_loss(critic(real).score, critic(fake).score, method.objective)
            if method.lipschitz == "gp":
                loss = loss + method.lambda_ * gradient_penalty(critic, real, fake)
            critic_optimizer.zero_grad(set_to_none=True)
            loss.backward()
            critic_optimizer.step()
        if method.lipschitz == "clip":
            with torch.no_grad():
                for p in critic.parameters():
                    p.clamp_(-method.clip, method.clip)
        if (step + 1) % method.n_critic == 0:
            critic.requires_grad_(False)
            with cached():
                generator_loss = -critic(generator(torch.randn(batch_size, z_dim, device=device))).score.mean()
                generator_optimizer.zero_grad(set_to_none=True)
                generator_loss.backward()
                generator_optimizer.step()
            critic.requires_grad_(True)
