"""CT-GAN: WGAN-GP plus a consistency term (Wei et al. 2018)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_zoo.errors import ConfigError, require
from gan_zoo.lipschitz.base import Penalty
from gan_zoo.lipschitz.gradient_penalty import GradientPenalty
from gan_zoo.nets.base import Scored


def consistency_term(first: Scored, second: Scored, feature_weight: float, margin: float) -> Tensor:
    """CT-GAN eq. 4: E[max(0, (D(x′) − D(x″))² + w·‖D_(x′) − D_(x″)‖² − M′)].

    x′, x″ are two dropout passes of the critic over the same real batch; D_ is the penultimate layer.
    """
    score_gap = (first.score - second.score) ** 2
    feature_gap = (first.features - second.features).flatten(1).pow(2).sum(dim=1)
    return torch.relu(score_gap + feature_weight * feature_gap - margin).mean()


class ConsistencyTerm(GradientPenalty):
    """CT-GAN, Wei et al. 2018, eq. 5: λ·GP + λ2·CT (defaults λ=10, λ2=2, M′=0, feature weight 0.1).

    The first dropout pass x′ is the critic's pass over the real batch that the objective uses, so
    only x″ costs an extra forward. When the critic is built, each of its dropout modules with p = 0 gets
    p = `critic_dropout` (0.5): the bundled critics hold one after each layer, p = model.critic.dropout
    (default 0; an explicit value > 0 is kept).
    """

    term = "gp"

    def __init__(self, lambda_: float = 10.0, lambda_ct: float = 2.0, margin: float = 0.0,
                 feature_weight: float = 0.1, critic_dropout: float = 0.5, allow_batchnorm: bool = False,
                 allow_coupled_samples: bool = False) -> None:
        super().__init__(lambda_, allow_batchnorm, allow_coupled_samples)
        require(lambda_ct >= 0, f"lipschitz.lambda_ct must be >= 0 (got {lambda_ct})")
        require(margin >= 0, f"lipschitz.margin must be >= 0 (got {margin})")
        require(feature_weight >= 0, f"lipschitz.feature_weight must be >= 0 (got {feature_weight})")
        require(0 < critic_dropout < 1, f"lipschitz.critic_dropout must be in (0, 1) (got {critic_dropout})")
        self.lambda_ct, self.margin, self.feature_weight = lambda_ct, margin, feature_weight
        self.critic_dropout = critic_dropout

    def prepare_critic(self, critic: nn.Module) -> nn.Module:
        dropouts = [m for m in critic.modules() if isinstance(m, nn.Dropout)]
        if not dropouts:
            raise ConfigError(
                "lipschitz=ct needs dropout in the critic for its two stochastic passes (CT-GAN §3): "
                f"{type(critic).__name__} has no dropout module; add gan_zoo.nets.base.SampleDropout layers "
                "(p = 0 is enough: lipschitz.critic_dropout sets it)")
        for dropout in dropouts:
            if dropout.p == 0:
                dropout.p = self.critic_dropout
        return super().prepare_critic(critic)

    def penalty(self, critic: nn.Module, real: Scored, fake: Scored) -> Penalty:
        gp = super().penalty(critic, real, fake)
        second_pass = Scored.of(critic, real.x)
        ct = self.lambda_ct * consistency_term(real, second_pass, self.feature_weight, self.margin)
        return Penalty({**gp.terms, "ct": ct}, gp.grad_norms)
