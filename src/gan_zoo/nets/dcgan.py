"""DCGAN generator and critic (Radford et al. 2016, arXiv:1511.06434) for 28, 32 and 64 px images.

The generator projects z to a c₀ × s₀ × s₀ map and doubles the side with stride-2 transposed
convolutions (batch norm, ReLU) up to the image, tanh at the end; the critic mirrors it with stride-2
convolutions and LeakyReLU(0.2). 64 px: 4→8→16→32→64 (c₀ = 8·width, the paper's net); 32 px: 4→8→16→32;
28 px (MNIST): 7→14→28, as in the WGAN-GP MNIST net.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from gan_zoo.errors import require
from gan_zoo.nets.base import (Critic, CriticOutput, Generator, SampleDropout, check_sizes, conv_norm_layer,
                               image_shape, layers_and_dropout)
from gan_zoo.nets.minibatch_discrimination import minibatch_layer

# image side → (side of the first feature map, number of stride-2 stages)
STAGES = {28: (7, 2), 32: (4, 3), 64: (4, 4)}


def dcgan_init(module: nn.Module) -> None:
    """DCGAN §4 initialisation: conv and linear weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02), biases 0."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def generator_body(z_dim: int, channels: int, size: int, width: int, norm: str = "batch") -> nn.Sequential:
    """z → image in [−1, 1] (batch norm after every hidden layer, as in the paper); the convolutional
    autoencoder critic's decoder reuses it with the critic's norm."""
    start, stages = STAGES[size]
    c0 = width * 2 ** (stages - 1)
    layers: list[nn.Module] = [nn.Linear(z_dim, c0 * start * start, bias=norm == "none"),
                               nn.Unflatten(1, (c0, start, start)), conv_norm_layer(norm, c0), nn.ReLU()]
    c = c0
    for stage in range(stages):
        last = stage == stages - 1
        out = channels if last else c // 2
        layers.append(nn.ConvTranspose2d(c, out, 4, 2, 1, bias=last or norm == "none"))
        layers += [nn.Tanh()] if last else [conv_norm_layer(norm, out), nn.ReLU()]
        c = out
    return nn.Sequential(*layers)


def critic_body(channels: int, size: int, width: int, norm: str, dropout: float) -> tuple[nn.Sequential, int]:
    """image → flat features (and their number): stride-2 convolutions, LeakyReLU(0.2), no norm on the first."""
    start, stages = STAGES[size]
    layers: list[nn.Module] = []
    c_in, c = channels, width
    for stage in range(stages):
        layers += [nn.Conv2d(c_in, c, 4, 2, 1), conv_norm_layer("none" if stage == 0 else norm, c),
                   nn.LeakyReLU(0.2), SampleDropout(dropout)]
        c_in, c = c, c * 2
    layers.append(nn.Flatten())
    return layers_and_dropout(layers), c_in * start * start


class DCGANGenerator(Generator):
    """DCGAN generator: z ~ N(0, I_{z_dim}) → (C, H, W) image in [−1, 1].

    norm: batch (the paper) | layer | none. Under DDP on CPUs batch norm normalises each process's own batch
    (SyncBatchNorm, `trainer.sync_batchnorm=true`, needs GPUs).
    """

    def __init__(self, data_shape: Sequence[int], z_dim: int = 100, width: int = 64, norm: str = "batch") -> None:
        super().__init__()
        check_sizes(z_dim=z_dim, width=width)
        channels, size, _ = image_shape(data_shape, tuple(STAGES))
        self.z_dim, self.data_shape = z_dim, (channels, size, size)
        self.body = generator_body(z_dim, channels, size, width, norm)
        dcgan_init(self)

    def forward(self, z: Tensor) -> Tensor:
        return self.body(z)


class DCGANCritic(Critic):
    """DCGAN discriminator with a linear score (no sigmoid: objectives take raw scores).

    norm: none | layer | batch (the paper's batch norm is refused with gradient penalties);
    dropout after each block (p = 0 unless set here or by CT-GAN).
    minibatch_kernels = B > 0: minibatch discrimination (Salimans et al. 2016, §3.2;
    gan_zoo.nets.minibatch_discrimination, C = minibatch_kernel_dim) on the flat features before the linear
    score, where the official CIFAR-10 discriminator has it (100 kernels there, after global pooling); its T keeps
    its own N(0, 0.05²) initialisation. The returned
    features stay the flat convolutional features f(x), without o(x) (see MLPCritic).
    """

    def __init__(self, data_shape: Sequence[int], width: int = 64, norm: str = "none", dropout: float = 0.0,
                 minibatch_kernels: int = 0, minibatch_kernel_dim: int = 5) -> None:
        super().__init__()
        check_sizes(width=width)
        require(0.0 <= dropout < 1.0, f"model.critic.dropout must be in [0, 1) (got {dropout})")
        channels, size, _ = image_shape(data_shape, tuple(STAGES))
        self.data_shape = (channels, size, size)
        self.body, features = critic_body(channels, size, width, norm, dropout)
        minibatch = minibatch_layer(features, minibatch_kernels, minibatch_kernel_dim)
        self.out = nn.Linear(features + minibatch_kernels, 1)
        dcgan_init(self)
        self.minibatch = minibatch  # registered after dcgan_init, which would redraw T from N(0, 0.02²)

    def forward(self, x: Tensor) -> CriticOutput:
        features = self.body(x)
        scored = features if self.minibatch is None else self.minibatch(features)
        return CriticOutput(self.out(scored).squeeze(1), features)
