"""Least-squares GAN (Mao et al. 2017)."""

from __future__ import annotations

from gan_zoo.nets.base import Scored
from gan_zoo.objectives.base import Objective, Terms


class LeastSquaresGAN(Objective):
    """LSGAN, Mao et al. 2017, eq. 2 (linear critic output, no sigmoid).

    L_D = ½E[(D(x) − b)²] + ½E[(D(x̃) − a)²];   L_G = ½E[(D(x̃) − c)²]
    a=0, b=c=1 is the 0-1 coding used in the paper's experiments; a=−1, b=1, c=0 minimises the
    Pearson χ² divergence (§3.2).
    """

    def __init__(self, a: float = 0.0, b: float = 1.0, c: float = 1.0) -> None:
        self.a, self.b, self.c = a, b, c

    def critic_loss(self, real: Scored, fake: Scored) -> Terms:
        return {"real": 0.5 * ((real.score - self.b) ** 2).mean(),
                "fake": 0.5 * ((fake.score - self.a) ** 2).mean()}

    def generator_loss(self, fake: Scored) -> Terms:
        return {"adversarial": 0.5 * ((fake.score - self.c) ** 2).mean()}
