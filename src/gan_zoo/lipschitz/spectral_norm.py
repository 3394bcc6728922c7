"""Spectral normalisation (Miyato et al. 2018)."""

from __future__ import annotations

from typing import ContextManager

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from gan_zoo.errors import require
from gan_zoo.lipschitz.base import LipschitzStrategy

WEIGHT_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                 nn.ConvTranspose3d)


class SpectralNorm(LipschitzStrategy):
    """SN-GAN, Miyato et al. 2018, eq. 8: W̄ = W / σ(W) on every critic weight layer.

    σ(W) is estimated by power iteration with u persisting across steps (Algorithm 1). Every forward of
    one update runs under parametrize.cached(), so a critic update costs one power iteration however many
    times it calls the critic (docs/methods.md#implementation-pitfalls, item 5).
    """

    def __init__(self, n_power_iterations: int = 1) -> None:
        require(n_power_iterations >= 1, f"lipschitz.n_power_iterations must be >= 1 (got {n_power_iterations})")
        self.n_power_iterations = n_power_iterations

    def prepare_critic(self, critic: nn.Module) -> nn.Module:
        for module in list(critic.modules()):
            if isinstance(module, WEIGHT_LAYERS) and not parametrize.is_parametrized(module, "weight"):
                spectral_norm(module, n_power_iterations=self.n_power_iterations)
        return critic

    def forward_context(self, critic: nn.Module) -> ContextManager:
        return parametrize.cached()
