"""Weight clipping (Arjovsky et al. 2017)."""

from __future__ import annotations

import torch
from torch import nn

from gan_zoo.errors import require
from gan_zoo.lipschitz.base import LipschitzStrategy


class WeightClipping(LipschitzStrategy):
    """WGAN Algorithm 1, line 7: after every critic update, w ← clip(w, −c, c) for every critic parameter.

    Clamped in place: a non-in-place clamp does nothing (docs/methods.md#implementation-pitfalls, item 4).
    """

    def __init__(self, c: float = 0.01) -> None:
        require(c > 0, f"lipschitz.c must be > 0 (got {c}); WGAN uses c=0.01")
        self.c = c

    @torch.no_grad()
    def after_critic_step(self, critic: nn.Module) -> None:
        for parameter in critic.parameters():
            parameter.clamp_(-self.c, self.c)
