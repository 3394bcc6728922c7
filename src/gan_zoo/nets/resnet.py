"""The ResNet generator and critic of the WGAN-GP CIFAR-10 experiments (Gulrajani et al. 2017, App. F;
`gan_cifar_resnet.py`), also SNGAN's CIFAR nets (Miyato et al. 2018, Table 4).

Generator: z → linear → 4×4×ch → one up-block per doubling (BN, ReLU, 2× nearest upsample, 3×3 conv,
BN, ReLU, 3×3 conv; shortcut: upsample, 1×1 conv) → BN, ReLU, 3×3 conv, tanh.
Critic: an "optimized" first down-block (3×3 conv, ReLU, 3×3 conv, 2× average pool; shortcut: pool, 1×1
conv), down-blocks to 8×8, two plain blocks, ReLU, global pooling over space, linear score.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn
from torch.nn import functional as F

from gan_zoo.errors import require
from gan_zoo.nets.base import (Critic, CriticOutput, Generator, SampleDropout, check_sizes, conv_norm_layer,
                               image_shape, layers_and_dropout)

SIZES = (32, 64)
POOLS = ("mean", "sum")


class UpBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(channels), nn.Conv2d(channels, channels, 3, 1, 1)
        self.bn2, self.conv2 = nn.BatchNorm2d(channels), nn.Conv2d(channels, channels, 3, 1, 1)
        self.shortcut = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        h = F.interpolate(F.relu(self.bn1(x)), scale_factor=2.0)
        h = self.conv2(F.relu(self.bn2(self.conv1(h))))
        return h + self.shortcut(F.interpolate(x, scale_factor=2.0))


class CriticBlock(nn.Module):
    """Pre-activation residual block; `first` has no leading ReLU/norm (the optimized block)."""

    def __init__(self, c_in: int, c_out: int, downsample: bool, norm: str, first: bool = False) -> None:
        super().__init__()
        self.first, self.downsample = first, downsample
        self.norm1 = nn.Identity() if first else conv_norm_layer(norm, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, 1, 1)
        self.norm2 = conv_norm_layer(norm, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1)
        self.shortcut = nn.Conv2d(c_in, c_out, 1) if (downsample or c_in != c_out) else nn.Identity()
        # modules, not functions, so that gradient penalties can swap them (gan_zoo.nets.penalty_friendly)
        self.act1, self.act2, self.pool = nn.ReLU(), nn.ReLU(), nn.AvgPool2d(2)

    def forward(self, x: Tensor) -> Tensor:
        h = x if self.first else self.act1(self.norm1(x))
        h = self.conv2(self.act2(self.norm2(self.conv1(h))))
        skip = x
        if self.downsample:
            h = self.pool(h)
            # The optimized block pools before its 1×1 conv, the others after (as in both papers' code).
            skip = self.shortcut(self.pool(x)) if self.first else self.pool(self.shortcut(x))
        else:
            skip = self.shortcut(x)
        return h + skip


class ResNetGenerator(Generator):
    """ResNet generator; `width` is the channel count of every block (128 WGAN-GP, 256 SNGAN)."""

    def __init__(self, data_shape: Sequence[int], z_dim: int = 128, width: int = 128) -> None:
        super().__init__()
        check_sizes(z_dim=z_dim, width=width)
        channels, size, _ = image_shape(data_shape, SIZES)
        self.z_dim, self.data_shape, self.width = z_dim, (channels, size, size), width
        self.project = nn.Linear(z_dim, 4 * 4 * width)
        self.blocks = nn.Sequential(*[UpBlock(width) for _ in range(size.bit_length() - 3)])  # 4 → size
        self.out = nn.Sequential(nn.BatchNorm2d(width), nn.ReLU(), nn.Conv2d(width, channels, 3, 1, 1), nn.Tanh())

    def forward(self, z: Tensor) -> Tensor:
        return self.out(self.blocks(self.project(z).view(-1, self.width, 4, 4)))


class ResNetCritic(Critic):
    """ResNet critic; norm none | layer | batch; dropout after each block (p = 0 unless set here or by CT-GAN);
    pool mean (WGAN-GP) or sum (SNGAN)."""

    def __init__(self, data_shape: Sequence[int], width: int = 128, norm: str = "none", dropout: float = 0.0,
                 pool: str = "mean") -> None:
        super().__init__()
        check_sizes(width=width)
        require(0.0 <= dropout < 1.0, f"model.critic.dropout must be in [0, 1) (got {dropout})")
        require(pool in POOLS, f"model.critic.pool must be one of {', '.join(POOLS)} (got {pool!r})")
        channels, size, _ = image_shape(data_shape, SIZES)
        self.data_shape, self.pool = (channels, size, size), pool
        downs = size.bit_length() - 4  # down to 8×8
        blocks: list[nn.Module] = [CriticBlock(channels, width, True, norm, first=True)]
        blocks += [CriticBlock(width, width, True, norm) for _ in range(downs - 1)]
        blocks += [CriticBlock(width, width, False, norm) for _ in range(2)]
        self.blocks = layers_and_dropout([layer for block in blocks for layer in (block, SampleDropout(dropout))])
        self.act = nn.ReLU()
        self.out = nn.Linear(width, 1)

    def forward(self, x: Tensor) -> CriticOutput:
        h = self.act(self.blocks(x))
        features = h.mean(dim=(2, 3)) if self.pool == "mean" else h.sum(dim=(2, 3))
        return CriticOutput(self.out(features).squeeze(1), features)


__all__ = ["ResNetCritic", "ResNetGenerator"]
