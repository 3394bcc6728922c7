"""The original GAN objective (Goodfellow et al. 2014) with saturating and non-saturating generators."""

from __future__ import annotations

import torch.nn.functional as F

from gan_zoo.nets.base import Scored
from gan_zoo.objectives.base import Objective, Terms


class MinimaxGAN(Objective):
    """Minimax GAN, Goodfellow et al. 2014, eq. 1.

    L_D = −E[log σ(D(x))] − E[log(1 − σ(D(x̃)))] = E[softplus(−D(x))] + E[softplus(D(x̃))]
    L_G =  E[log(1 − σ(D(x̃)))]                  = −E[softplus(D(x̃))]   (saturating)
    """

    def critic_loss(self, real: Scored, fake: Scored) -> Terms:
        return {"real": F.softplus(-real.score).mean(), "fake": F.softplus(fake.score).mean()}

    def generator_loss(self, fake: Scored) -> Terms:
        return {"adversarial": -F.softplus(fake.score).mean()}


class NonSaturatingGAN(MinimaxGAN):
    """Non-saturating GAN, Goodfellow et al. 2014, §3.

    L_D as in MinimaxGAN;  L_G = −E[log σ(D(x̃))] = E[softplus(−D(x̃))]
    """

    def generator_loss(self, fake: Scored) -> Terms:
        return {"adversarial": F.softplus(-fake.score).mean()}
