"""f-GAN (Nowozin, Cseke & Tomioka 2016): variational divergence minimisation for any f-divergence."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from gan_zoo.errors import require
from gan_zoo.nets.base import Scored
from gan_zoo.objectives.base import Objective, Terms

LOG_2 = math.log(2.0)


class FDivergence(NamedTuple):
    """One row of Nowozin et al. 2016, Table 2 (conjugates f*) and Table 6 (output activations g_f).

    activation: g_f, mapping the critic's score V(x) ∈ ℝ into the domain of f*;
    conjugate_of_activation: f*(g_f(v)), composed and simplified by hand into a closed form that is exact and
        finite where the literal composition is not (e.g. Jensen–Shannon's −log(2 − exp(g_f(v))) cancels to
        softplus(v) − log 2, which never takes the log of a number rounded to 0).
    """

    activation: Callable[[Tensor], Tensor]
    conjugate_of_activation: Callable[[Tensor], Tensor]


# One transcription of Table 6 prints 1 − exp(v) (Neyman, squared Hellinger) and −exp(v) (reverse KL). Those also map
# into dom f*, but they decrease in v, so a higher score would mean "less real"; the rows use 1 − exp(−v) and
# −exp(−v), which increase in v, so that every critic's score means "more real" when higher (nets/base.py).
# Each comment is the hand derivation.
DIVERGENCES: dict[str, FDivergence] = {
    # g = v, f*(t) = exp(t − 1)
    "kl": FDivergence(lambda v: v, lambda v: torch.exp(v - 1)),
    # g = −exp(−v), f*(t) = −1 − log(−t) = −1 − log(exp(−v)) = −1 + v
    "reverse_kl": FDivergence(lambda v: -torch.exp(-v), lambda v: v - 1),
    # g = v, f*(t) = t²/4 + t
    "pearson": FDivergence(lambda v: v, lambda v: v * v / 4 + v),
    # g = 1 − exp(−v), f*(t) = 2 − 2√(1 − t) = 2 − 2√exp(−v) = 2 − 2exp(−v/2)
    "neyman": FDivergence(lambda v: -torch.expm1(-v), lambda v: 2 - 2 * torch.exp(-v / 2)),
    # g = 1 − exp(−v), f*(t) = t / (1 − t) = (1 − exp(−v)) / exp(−v) = exp(v) − 1
    "squared_hellinger": FDivergence(lambda v: -torch.expm1(-v), torch.expm1),
    # g = log 2 − log(1 + exp(−v)) = log 2σ(v), f*(t) = −log(2 − exp(t)) = −log(2 − 2σ(v)) = −log 2σ(−v)
    #   = softplus(v) − log 2
    "jensen_shannon": FDivergence(lambda v: LOG_2 - F.softplus(-v), lambda v: F.softplus(v) - LOG_2),
    # g = −log(1 + exp(−v)) = log σ(v), f*(t) = −log(1 − exp(t)) = −log(1 − σ(v)) = −log σ(−v) = softplus(v)
    "gan": FDivergence(F.logsigmoid, F.softplus),
    # g = ½tanh(v), f*(t) = t
    "total_variation": FDivergence(lambda v: 0.5 * torch.tanh(v), lambda v: 0.5 * torch.tanh(v)),
}
GENERATOR_LOSSES = ("alternative", "saturating")


class FGAN(Objective):
    """f-GAN, Nowozin et al. 2016, §2–3, with the conjugates of Table 2 and the output activations of Table 6.

    The critic's score is V(x); with T = g_f(V) the critic maximises the variational lower bound of §2 (eq. 4;
    tight for T = f'(p/q), eq. 5) in the form of §3,
        F = E[g_f(V(x))] − E[f*(g_f(V(x̃)))] ≤ D_f(P‖Q),
    so L_D = −F, as the terms {"real": −E[g_f(V(x))], "fake": E[f*(g_f(V(x̃)))]}. Generator losses:
        alternative (default; §3, after Goodfellow et al.'s non-saturating trick): L_G = −E[g_f(V(x̃))];
        saturating (the saddle point itself, minimise F's fake part):              L_G = −E[f*(g_f(V(x̃)))].
    divergence=gan is the minimax GAN term for term (critic: MinimaxGAN; alternative: NonSaturatingGAN's
    generator; saturating: MinimaxGAN's). F is logged as `divergence_estimate` (train/ and, held out, val/).

    In float32 every form is finite with finite gradients for |V| ≤ 50; those with an exponential (kl,
    reverse_kl, neyman, squared_hellinger) overflow to inf beyond |V| ≈ 88 (exp(88.7) is float32's largest
    number), which the non-finite check (`check_finite_every`) reports as a divergence.
    """

    def __init__(self, divergence: str = "kl", generator: str = "alternative") -> None:
        require(divergence in DIVERGENCES,
                f"objective.divergence must be one of {', '.join(DIVERGENCES)} (got {divergence!r})")
        require(generator in GENERATOR_LOSSES,
                f"objective.generator must be one of {', '.join(GENERATOR_LOSSES)} (got {generator!r})")
        self.divergence, self.saturating = divergence, generator == "saturating"
        self.f = DIVERGENCES[divergence]

    def critic_loss(self, real: Scored, fake: Scored) -> Terms:
        return {"real": -self.f.activation(real.score).mean(),
                "fake": self.f.conjugate_of_activation(fake.score).mean()}

    def generator_loss(self, fake: Scored) -> Terms:
        if self.saturating:
            return {"adversarial": -self.f.conjugate_of_activation(fake.score).mean()}
        return {"adversarial": -self.f.activation(fake.score).mean()}

    def estimates(self, real: Scored, fake: Scored) -> Terms:
        """F = E[g_f(V(x))] − E[f*(g_f(V(x̃)))], the lower bound on D_f(P‖Q) of eq. 4 that the critic maximises."""
        return {"divergence_estimate": self.f.activation(real.score).mean()
                - self.f.conjugate_of_activation(fake.score).mean()}
