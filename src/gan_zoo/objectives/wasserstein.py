"""Wasserstein GAN (Arjovsky et al. 2017) and the hinge loss (Lim & Ye 2017; Miyato et al. 2018)."""

from __future__ import annotations

import torch.nn.functional as F

from gan_zoo.nets.base import Scored
from gan_zoo.objectives.base import Objective, Terms


class WassersteinGAN(Objective):
    """WGAN, Arjovsky et al. 2017, Algorithm 1 (needs a Lipschitz strategy).

    L_D = E[D(x̃)] − E[D(x)];   L_G = −E[D(x̃)]
    """

    def critic_loss(self, real: Scored, fake: Scored) -> Terms:
        return {"real": -real.score.mean(), "fake": fake.score.mean()}

    def generator_loss(self, fake: Scored) -> Terms:
        return {"adversarial": -fake.score.mean()}


class HingeGAN(WassersteinGAN):
    """Hinge loss, Lim & Ye 2017; Miyato et al. 2018 (SNGAN) eq. 16–17.

    L_D = E[relu(1 − D(x))] + E[relu(1 + D(x̃))];   L_G = −E[D(x̃)]
    """

    def critic_loss(self, real: Scored, fake: Scored) -> Terms:
        return {"real": F.relu(1.0 - real.score).mean(), "fake": F.relu(1.0 + fake.score).mean()}
