"""The contracts every generator and critic follows."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import Tensor, nn

from gan_zoo.parallel import sharding
from gan_zoo.errors import require


class CriticOutput(NamedTuple):
    """What a critic says about a batch.

    score: (N,) — higher means "more real" for every critic, including energy-based ones
        (an autoencoder critic scores −energy), so E[score(x)] − E[score(G(z))] is always the
        Wasserstein-style estimate.
    features: (N, F) — the penultimate activations D_(x) (CT-GAN's consistency term) or, for an
        autoencoder critic, the encoder code S (EBGAN's pulling-away term).
    """

    score: Tensor
    features: Tensor


class Scored(NamedTuple):
    """A batch x together with the critic's output on it, as objectives and penalties receive it."""

    x: Tensor
    score: Tensor
    features: Tensor

    @classmethod
    def of(cls, critic: nn.Module, x: Tensor) -> Scored:
        return cls(x, *critic(x))


class Generator(nn.Module):
    """Maps noise z ~ N(0, I_{z_dim}) to samples of shape `data_shape`."""

    z_dim: int
    data_shape: tuple[int, ...]

    def sample_noise(self, n: int, device: torch.device | None = None) -> Tensor:
        """z ~ N(0, I): this process's rows of the global batch's noise (gan_zoo.parallel.sharding)."""
        return sharding.randn(n, self.z_dim, device=device)


class Critic(nn.Module):
    """Maps a batch of samples to a CriticOutput."""

    data_shape: tuple[int, ...]

    def forward(self, x: Tensor) -> CriticOutput:  # pragma: no cover - abstract
        raise NotImplementedError


class AutoencoderCritic(Critic):
    """A critic whose score is minus the reconstruction energy ‖Dec(Enc(x)) − x‖₂ (EBGAN)."""

    def encode(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def decode(self, code: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: Tensor) -> CriticOutput:
        code = self.encode(x)
        energy = (self.decode(code) - x).flatten(1).norm(dim=1)
        return CriticOutput(-energy, code)


class CouplesSamples:
    """Marks a module whose output for one sample depends on the other samples of its batch (minibatch
    discrimination, gan_zoo.nets.minibatch_discrimination). The per-sample gradient penalties refuse such a module in
    the critic unless forced (gan_zoo.lipschitz.gradient_penalty), as they refuse batch norm.

    coupling: what the refusal calls it; coupling_off: how to turn it off, for the same message.
    """

    coupling: str = "a layer that couples the samples of a batch"
    coupling_off: str = "remove it from the critic"


NORMS = ("none", "layer", "batch")


def norm_layer(kind: str, width: int) -> nn.Module:
    """The normalisation after a hidden layer: none, layer norm, or batch norm."""
    require(kind in NORMS, f"model norm must be one of {', '.join(NORMS)} (got {kind!r})")
    if kind == "layer":
        return nn.LayerNorm(width)
    if kind == "batch":
        return nn.BatchNorm1d(width)
    return nn.Identity()


def conv_norm_layer(kind: str, channels: int) -> nn.Module:
    """The normalisation after a convolution: none, layer norm over (C, H, W), or batch norm.

    Layer norm is GroupNorm with one group: statistics over (C, H, W) per sample, a per-channel affine —
    the WGAN-GP paper's drop-in for batch norm in critics with a gradient penalty.
    """
    require(kind in NORMS, f"model norm must be one of {', '.join(NORMS)} (got {kind!r})")
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    return nn.Identity()


def image_shape(data_shape: Sequence[int], sizes: Sequence[int]) -> tuple[int, int, int]:
    """(C, H, W) of square images whose side is one of `sizes`, or a clear error."""
    require(len(data_shape) == 3 and data_shape[1] == data_shape[2],
            f"this model needs square images (C, H, W); the data has shape {tuple(data_shape)}")
    channels, size, _ = data_shape
    require(size in sizes, f"this model supports image sizes {', '.join(map(str, sizes))} px (got {size}); "
                           f"set data.image_size to one of them")
    return int(channels), int(size), int(size)


def check_sizes(**sizes: float) -> None:
    for name, value in sizes.items():
        require(value >= 1, f"model {name} must be >= 1 (got {value})")


class SampleDropout(nn.Dropout):
    """Dropout whose mask is this process's rows of a mask drawn for the global batch (gan_zoo.parallel.sharding), so a
    data-parallel run drops the same units of each sample as a single-process run with the whole batch."""

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.p == 0:
            return x
        keep = sharding.rand_like(x) >= self.p
        return x * keep / (1.0 - self.p)


def layers_and_dropout(layers: Sequence[nn.Module]) -> nn.Sequential:
    """nn.Sequential running `layers` in order, numbered 0, 1, … as if its SampleDropout modules were not there
    (those are named dropout0, dropout1, …). Dropout has no parameters or buffers, so the state-dict keys are the
    same whatever the dropout: the bundled critics always hold their dropout modules, p = 0 (the identity) unless
    model.critic.dropout or CT-GAN (gan_zoo.lipschitz.consistency) sets it."""
    named: OrderedDict[str, nn.Module] = OrderedDict()
    dropouts = 0
    for layer in layers:
        if isinstance(layer, SampleDropout):
            named[f"dropout{dropouts}"] = layer
            dropouts += 1
        else:
            named[str(len(named) - dropouts)] = layer
    return nn.Sequential(named)
