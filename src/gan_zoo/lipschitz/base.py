"""The Lipschitz-strategy interface: three hooks into a critic's life."""

from __future__ import annotations

import contextlib
from typing import ContextManager, NamedTuple

import torch
from torch import Tensor, nn

from gan_zoo.lipschitz.gradients import interpolate, per_sample_uniform
from gan_zoo.nets.base import Scored


class Penalty(NamedTuple):
    """Extra critic-loss terms and, when the strategy computed them, the per-sample gradient norms
    ‖∇D‖ at its penalty points (logged for free instead of being measured again)."""

    terms: dict[str, Tensor]
    grad_norms: Tensor | None = None


NO_PENALTY = Penalty({})


class LipschitzStrategy:
    """How a critic is kept (approximately) Lipschitz.

    A strategy may act at three points, each a no-op by default:
      prepare_critic     when the critic is built (spectral norm re-parametrises its layers);
      penalty            extra terms added to the critic loss (gradient penalties);
      after_critic_step  after each critic optimizer step (weight clipping).
    forward_context wraps every critic forward pass of one update (spectral norm caches W/σ there).
    probe_points says where ‖∇D‖ is measured (logged, plotted); gradient penalties are taken there too.
    """

    def prepare_critic(self, critic: nn.Module) -> nn.Module:
        return critic

    def forward_context(self, critic: nn.Module) -> ContextManager:
        return contextlib.nullcontext()

    def penalty(self, critic: nn.Module, real: Scored, fake: Scored) -> Penalty:
        return NO_PENALTY

    def after_critic_step(self, critic: nn.Module) -> None:
        pass

    def probe_points(self, real: Tensor, fake: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """The points where this strategy looks at ‖∇D‖: random per-sample interpolates x̂ = εx + (1−ε)x̃,
        ε ~ U[0,1) (WGAN-GP), unless a strategy penalises the gradient elsewhere (its penalty points).
        Draws from the training random stream (gan_zoo.parallel.sharding) for a penalty; a measurement passes
        its own `generator` (gan_zoo.lipschitz.measurement) so that observing leaves training's stream alone."""
        return interpolate(real, fake, per_sample_uniform(real, generator))


class NoConstraint(LipschitzStrategy):
    """No Lipschitz constraint: the critic is trained by its objective alone."""
