"""The original GAN objective (Goodfellow et al. 2014) with saturating and non-saturating generators, and
one-sided label smoothing (Salimans et al. 2016, §3.4)."""

from __future__ import annotations

import torch.nn.functional as F

from gan_zoo.errors import require
from gan_zoo.nets.base import Scored
from gan_zoo.objectives.base import Objective, Terms


class MinimaxGAN(Objective):
    """Minimax GAN, Goodfellow et al. 2014, eq. 1.

    L_D = −E[log σ(D(x))] − E[log(1 − σ(D(x̃)))] = E[softplus(−D(x))] + E[softplus(D(x̃))]
    L_G =  E[log(1 − σ(D(x̃)))]                  = −E[softplus(D(x̃))]   (saturating)

    `real_label` α < 1 is one-sided label smoothing (Salimans et al. 2016, §3.4; α = 0.9 there): the real
    samples' target becomes α, the fake target stays 0 (smoothing it too would be harmful, §3.4),
    L_D = −E[α log σ(D(x)) + (1−α) log(1 − σ(D(x)))] − E[log(1 − σ(D(x̃)))]
        = E[α softplus(−D(x)) + (1−α) softplus(D(x))] + E[softplus(D(x̃))].
    α = 1 (the default) is the plain loss.
    """

    def __init__(self, real_label: float = 1.0) -> None:
        require(0 < real_label <= 1, f"objective.real_label must be in (0, 1] (got {real_label}); 1 turns one-sided "
                                     "label smoothing off, 0.9 is Salimans et al. 2016")
        self.real_label = real_label

    def critic_loss(self, real: Scored, fake: Scored) -> Terms:
        real_term = F.softplus(-real.score)
        if self.real_label < 1:  # a Python float: the plain loss stays exactly as it was
            real_term = self.real_label * real_term + (1 - self.real_label) * F.softplus(real.score)
        return {"real": real_term.mean(), "fake": F.softplus(fake.score).mean()}

    def generator_loss(self, fake: Scored) -> Terms:
        return {"adversarial": -F.softplus(fake.score).mean()}


class NonSaturatingGAN(MinimaxGAN):
    """Non-saturating GAN, Goodfellow et al. 2014, §3.

    L_D as in MinimaxGAN (with its `real_label`);  L_G = −E[log σ(D(x̃))] = E[softplus(−D(x̃))]
    """

    def generator_loss(self, fake: Scored) -> Terms:
        return {"adversarial": F.softplus(-fake.score).mean()}
