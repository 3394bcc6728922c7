"""Energy-based GAN (Zhao, Mathieu & LeCun 2016)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from gan_zoo.errors import ConfigError, require
from gan_zoo.nets.base import AutoencoderCritic, Scored
from gan_zoo.objectives.base import Objective, Terms


def pulling_away_term(codes: Tensor) -> Tensor:
    """EBGAN eq. 6: PT(S) = 1/(N(N−1)) Σ_{i≠j} (S_iᵀS_j / (‖S_i‖‖S_j‖))²."""
    n = codes.shape[0]
    unit = F.normalize(codes.flatten(1), dim=1)
    cosine_sq = (unit @ unit.T) ** 2
    return (cosine_sq.sum() - cosine_sq.diagonal().sum()) / (n * (n - 1))


class EnergyBasedGAN(Objective):
    """EBGAN, Zhao et al. 2016, eq. 1–2 and 6, with an autoencoder critic.

    Energy D(x) = ‖Dec(Enc(x)) − x‖ (the critic scores −D(x)).
    L_D = E[D(x)] + E[relu(m − D(x̃))];   L_G = E[D(x̃)] + w_PT · PT(Enc(x̃))
    Optionally `pretrain_steps` critic steps minimise E[D(x)] on real data first.
    """

    def __init__(self, margin: float = 1.0, pull_away_weight: float = 0.1, pretrain_steps: int = 0) -> None:
        require(margin > 0, f"objective.margin must be > 0 (got {margin})")
        require(pull_away_weight >= 0, f"objective.pull_away_weight must be >= 0 (got {pull_away_weight})")
        require(pretrain_steps >= 0, f"objective.pretrain_steps must be >= 0 (got {pretrain_steps})")
        self.margin = margin
        self.pull_away_weight = pull_away_weight
        self.pretrain_steps = pretrain_steps

    def check_critic(self, critic: nn.Module) -> None:
        if not isinstance(critic, AutoencoderCritic):
            raise ConfigError(
                f"objective=ebgan needs an autoencoder critic, got {type(critic).__name__}: "
                "use model=mlp_autoencoder (toy data) or model=conv_autoencoder (images), or a critic subclassing "
                "gan_zoo.nets.AutoencoderCritic")

    def critic_loss(self, real: Scored, fake: Scored) -> Terms:
        return {"real_energy": (-real.score).mean(), "fake_margin": F.relu(self.margin + fake.score).mean()}

    def generator_loss(self, fake: Scored) -> Terms:
        terms = {"energy": (-fake.score).mean()}
        if self.pull_away_weight > 0:
            terms["pull_away"] = self.pull_away_weight * pulling_away_term(fake.features)
        return terms

    def pretrain_loss(self, real: Scored) -> Terms:
        return {"real_energy": (-real.score).mean()}



