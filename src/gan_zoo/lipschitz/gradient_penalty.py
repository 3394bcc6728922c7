"""Gradient penalties: WGAN-GP (two-sided), WGAN-LP (one-sided), DRAGAN and R1."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_zoo import compat
from gan_zoo.parallel import sharding
from gan_zoo.errors import ConfigError, require
from gan_zoo.lipschitz.base import LipschitzStrategy, Penalty
from gan_zoo.lipschitz.gradients import (
    dragan_points,
    gradient_norms,
    one_sided_penalty,
    per_sample_uniform,
    two_sided_penalty,
)
from gan_zoo.nets.penalty_friendly import penalty_friendly
from gan_zoo.nets.base import Scored


def has_batch_norm(module: nn.Module) -> bool:
    return any(compat.is_batch_norm(m) for m in module.modules())


class GradientPenaltyStrategy(LipschitzStrategy):
    """A penalty λ·f(‖∇D(x̂)‖) at the points x̂ = probe_points(x, x̃) (random interpolates unless the subclass
    chooses others).

    Batch norm in the critic is refused: it makes each sample's score depend on the whole batch, so
    the per-sample gradient the penalty constrains is no longer the critic's (WGAN-GP §4). The critic's ReLU,
    LeakyReLU and AvgPool2d modules become gan_zoo.nets.penalty_friendly's (same values; the penalty's double
    backward does not revisit the forward pass).
    """

    term = "gp"

    def __init__(self, lambda_: float = 10.0, allow_batchnorm: bool = False) -> None:
        require(lambda_ >= 0, f"lipschitz.lambda_ must be >= 0 (got {lambda_})")
        self.lambda_ = lambda_
        self.allow_batchnorm = allow_batchnorm

    def prepare_critic(self, critic: nn.Module) -> nn.Module:
        if has_batch_norm(critic) and not self.allow_batchnorm:
            raise ConfigError(
                f"lipschitz={self.term} with batch norm in the critic is refused: batch norm breaks the per-sample "
                "gradient penalty (WGAN-GP §4); use model.critic.norm=layer or none, "
                "or force it with lipschitz.allow_batchnorm=true")
        penalty_friendly(critic)
        return critic

    def penalty_from_norms(self, norms: Tensor) -> Tensor:
        raise NotImplementedError

    def penalty(self, critic: nn.Module, real: Scored, fake: Scored) -> Penalty:
        norms = gradient_norms(critic, self.probe_points(real.x, fake.x))
        return Penalty({self.term: self.lambda_ * self.penalty_from_norms(norms)}, norms)


class GradientPenalty(GradientPenaltyStrategy):
    """WGAN-GP, Gulrajani et al. 2017, eq. 3: λ·E[(‖∇D(x̂)‖₂ − 1)²], x̂ = εx + (1−ε)x̃, ε ~ U[0,1] per sample."""

    term = "gp"  # at LipschitzStrategy's probe points: x̂ = εx + (1−ε)x̃

    def penalty_from_norms(self, norms: Tensor) -> Tensor:
        return two_sided_penalty(norms)


class OneSidedPenalty(GradientPenalty):
    """WGAN-LP, Petzka et al. 2018 (WGAN-GP App. C): λ·E[max(0, ‖∇D(x̂)‖₂ − 1)²], same x̂ as WGAN-GP."""

    term = "lp"

    def penalty_from_norms(self, norms: Tensor) -> Tensor:
        return one_sided_penalty(norms)


class DRAGANPenalty(GradientPenaltyStrategy):
    """DRAGAN, Kodali et al. 2017: λ·E[(‖∇D(x̂)‖₂ − 1)²] at x̂ = x + α(x_p − x) around real data only,
    x_p = x + perturb_scale·std(x)·U[0,1), std(x) the population std of the batch (official notebook; see
    gradients.dragan_points)."""

    term = "dragan"

    def __init__(self, lambda_: float = 10.0, perturb_scale: float = 0.5, allow_batchnorm: bool = False) -> None:
        super().__init__(lambda_, allow_batchnorm)
        require(perturb_scale > 0, f"lipschitz.perturb_scale must be > 0 (got {perturb_scale})")
        self.perturb_scale = perturb_scale

    def probe_points(self, real: Tensor, fake: Tensor, generator: torch.Generator | None = None) -> Tensor:
        return dragan_points(real, self.perturb_scale, sharding.rand_like(real, generator),
                             per_sample_uniform(real, generator))

    def penalty_from_norms(self, norms: Tensor) -> Tensor:
        return two_sided_penalty(norms)


class R1Penalty(GradientPenaltyStrategy):
    """R1, Mescheder et al. 2018, eq. 9: γ/2·E[‖∇D(x)‖₂²] on real data.

    The official code applies reg_param·E[‖∇D‖²] with no ½: set gamma to twice its reg_param to match.
    """

    term = "r1"

    def __init__(self, gamma: float = 10.0, allow_batchnorm: bool = False) -> None:
        require(gamma >= 0, f"lipschitz.gamma must be >= 0 (got {gamma})")
        super().__init__(gamma, allow_batchnorm)

    def probe_points(self, real: Tensor, fake: Tensor, generator: torch.Generator | None = None) -> Tensor:
        return real

    def penalty_from_norms(self, norms: Tensor) -> Tensor:
        return 0.5 * (norms**2).mean()
