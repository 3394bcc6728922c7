"""Fully connected nets for toy 2-D data (defaults: WGAN-GP gan_toy.py, 3×512 ReLU, z_dim 2)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from gan_zoo.errors import require
from gan_zoo.nets.base import (AutoencoderCritic, Critic, CriticOutput, Generator, SampleDropout, check_sizes,
                               layers_and_dropout, norm_layer)
from gan_zoo.nets.minibatch_discrimination import minibatch_layer


def _hidden_stack(in_dim: int, width: int, depth: int, norm: str, dropout: float | None) -> nn.Sequential:
    """Hidden ReLU layers, each followed by a SampleDropout(dropout) unless dropout is None (generators)."""
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(in_dim if i == 0 else width, width), norm_layer(norm, width), nn.ReLU()]
        if dropout is not None:
            layers.append(SampleDropout(dropout))
    return layers_and_dropout(layers)


class MLPGenerator(Generator):
    """z → `depth` hidden ReLU layers of `width` units → linear output of shape data_shape."""

    def __init__(self, data_shape: Sequence[int], z_dim: int = 2, width: int = 512, depth: int = 3,
                 norm: str = "none") -> None:
        super().__init__()
        check_sizes(z_dim=z_dim, width=width, depth=depth)
        self.z_dim = z_dim
        self.data_shape = tuple(data_shape)
        self.body = _hidden_stack(z_dim, width, depth, norm, dropout=None)
        self.out = nn.Linear(width, math.prod(self.data_shape))

    def forward(self, z: Tensor) -> Tensor:
        return self.out(self.body(z)).view(-1, *self.data_shape)


class MLPCritic(Critic):
    """x → `depth` hidden ReLU layers (optional norm and dropout) → [minibatch discrimination] → linear score.

    minibatch_kernels = B > 0 concatenates minibatch discrimination's B similarities o(x) (Salimans et al. 2016,
    §3.2; gan_zoo.nets.minibatch_discrimination, C = minibatch_kernel_dim) to the last hidden layer's output before
    the linear score. The returned features stay that hidden output f(x) without o(x): a per-sample quantity, the
    same with or without the layer (CT-GAN's D_, feature matching's f).
    """

    def __init__(self, data_shape: Sequence[int], width: int = 512, depth: int = 3, norm: str = "none",
                 dropout: float = 0.0, minibatch_kernels: int = 0, minibatch_kernel_dim: int = 5) -> None:
        super().__init__()
        check_sizes(width=width, depth=depth)
        require(0.0 <= dropout < 1.0, f"model.critic.dropout must be in [0, 1) (got {dropout})")
        self.data_shape = tuple(data_shape)
        self.body = _hidden_stack(math.prod(self.data_shape), width, depth, norm, dropout)
        self.minibatch = minibatch_layer(width, minibatch_kernels, minibatch_kernel_dim)
        self.out = nn.Linear(width + minibatch_kernels, 1)

    def forward(self, x: Tensor) -> CriticOutput:
        features = self.body(x.flatten(1))
        scored = features if self.minibatch is None else self.minibatch(features)
        return CriticOutput(self.out(scored).squeeze(1), features)


class MLPAutoencoderCritic(AutoencoderCritic):
    """EBGAN critic: MLP encoder to a `code_dim` code, MLP decoder back to data_shape."""

    def __init__(self, data_shape: Sequence[int], width: int = 512, depth: int = 2, code_dim: int = 32,
                 norm: str = "none", dropout: float = 0.0) -> None:
        super().__init__()
        check_sizes(width=width, depth=depth, code_dim=code_dim)
        require(0.0 <= dropout < 1.0, f"model.critic.dropout must be in [0, 1) (got {dropout})")
        self.data_shape = tuple(data_shape)
        dim = math.prod(self.data_shape)
        self.encoder = nn.Sequential(_hidden_stack(dim, width, depth, norm, dropout), nn.Linear(width, code_dim))
        self.decoder = nn.Sequential(_hidden_stack(code_dim, width, depth, norm, dropout), nn.Linear(width, dim))

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x.flatten(1))

    def decode(self, code: Tensor) -> Tensor:
        return self.decoder(code).view(-1, *self.data_shape)
