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
from gan_zoo.nets.base import CouplesSamples, Scored


def has_batch_norm(module: nn.Module) -> bool:
    return any(compat.is_batch_norm(m) for m in module.modules())


def sample_coupling(module: nn.Module) -> CouplesSamples | nn.Module | None:
    """The first submodule whose output for one sample depends on the other samples of the batch — batch norm
    (compat.is_batch_norm) or a gan_zoo.nets.base.CouplesSamples module such as minibatch discrimination — or
    None."""
    return next((m for m in module.modules() if compat.is_batch_norm(m) or isinstance(m, CouplesSamples)), None)


class GradientPenaltyStrategy(LipschitzStrategy):
    """A penalty λ·f(‖∇D(x̂)‖) at the points x̂ = probe_points(x, x̃) (random interpolates unless the subclass
    chooses others).

    A layer that couples the samples of a batch is refused in the critic — batch norm, minibatch discrimination
    (Salimans et al. 2016, §3.2) or any gan_zoo.nets.base.CouplesSamples module: it makes each sample's score depend
    on the whole batch, so the per-sample gradient the penalty constrains is no longer the critic's (WGAN-GP §4).
    allow_coupled_samples=True forces any of them; allow_batchnorm, the older name, is kept as its alias (either
    one forces every coupling layer). Spectral norm and weight clipping constrain weights, not per-sample
    gradients, and accept them. The critic's ReLU, LeakyReLU and AvgPool2d modules become
    gan_zoo.nets.penalty_friendly's (same values; the penalty's double backward does not revisit the forward
    pass).
    """

    term = "gp"

    def __init__(self, lambda_: float = 10.0, allow_batchnorm: bool = False,
                 allow_coupled_samples: bool = False) -> None:
        require(lambda_ >= 0, f"lipschitz.lambda_ must be >= 0 (got {lambda_})")
        self.lambda_ = lambda_
        self.allow_batchnorm = allow_batchnorm
        self.allow_coupled_samples = allow_coupled_samples

    def prepare_critic(self, critic: nn.Module) -> nn.Module:
        culprit = sample_coupling(critic)
        if culprit is not None and not (self.allow_coupled_samples or self.allow_batchnorm):
            if isinstance(culprit, CouplesSamples):
                what, off, flag = culprit.coupling, culprit.coupling_off, "allow_coupled_samples"
            else:
                what, off, flag = "batch norm", "use model.critic.norm=layer or none", "allow_batchnorm"
            raise ConfigError(
                f"lipschitz={self.term} with {what} in the critic is refused: {what} breaks the per-sample "
                f"gradient penalty (WGAN-GP §4), coupling each sample's score to the rest of its batch; {off}, "
                f"or force it with lipschitz.{flag}=true")
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

    def __init__(self, lambda_: float = 10.0, perturb_scale: float = 0.5, allow_batchnorm: bool = False,
                 allow_coupled_samples: bool = False) -> None:
        super().__init__(lambda_, allow_batchnorm, allow_coupled_samples)
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

    def __init__(self, gamma: float = 10.0, allow_batchnorm: bool = False,
                 allow_coupled_samples: bool = False) -> None:
        require(gamma >= 0, f"lipschitz.gamma must be >= 0 (got {gamma})")
        super().__init__(gamma, allow_batchnorm, allow_coupled_samples)

    def probe_points(self, real: Tensor, fake: Tensor, generator: torch.Generator | None = None) -> Tensor:
        return real

    def penalty_from_norms(self, norms: Tensor) -> Tensor:
        return 0.5 * (norms**2).mean()
