"""Loss-Sensitive GAN (Qi 2017)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from gan_zoo.errors import require
from gan_zoo.nets.base import Scored
from gan_zoo.objectives.base import Objective, Terms


def l1_margin(real: Tensor, fake: Tensor, scale: float) -> Tensor:
    """Δ(x, x̃) = scale · ‖x − x̃‖₁ per sample (Qi 2017 eq. 4; the official code uses scale 0.0002 on images)."""
    return scale * (real - fake).flatten(1).abs().sum(dim=1)


class LossSensitiveGAN(Objective):
    """LS-GAN, Qi 2017, eq. 5–6. The loss function L_θ is minus the critic's score.

    L_D = w_real·E[L(x)] + λ·E[relu(Δ(x, x̃) + L(x) − L(x̃))];   L_G = E[L(x̃)]
    Real and fake samples are paired by position in the batch. w_real = 1 is the paper; the
    official unconditional code uses 0.
    """

    def __init__(self, lambda_: float = 1.0, delta_scale: float = 1.0, real_weight: float = 1.0) -> None:
        require(lambda_ >= 0, f"objective.lambda_ must be >= 0 (got {lambda_})")
        require(delta_scale > 0, f"objective.delta_scale must be > 0 (got {delta_scale})")
        require(real_weight >= 0, f"objective.real_weight must be >= 0 (got {real_weight})")
        self.lambda_, self.delta_scale, self.real_weight = lambda_, delta_scale, real_weight

    def critic_loss(self, real: Scored, fake: Scored) -> Terms:
        loss_real, loss_fake = -real.score, -fake.score
        margin = l1_margin(real.x, fake.x, self.delta_scale)
        return {"real": self.real_weight * loss_real.mean(),
                "margin": self.lambda_ * F.relu(margin + loss_real - loss_fake).mean()}

    def generator_loss(self, fake: Scored) -> Terms:
        return {"adversarial": (-fake.score).mean()}
