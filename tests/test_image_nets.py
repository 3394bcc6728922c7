"""Every image net at every size: output shapes, value ranges, critic contracts, and refusals."""

from __future__ import annotations

import pytest
import torch

from gan_zoo.errors import ConfigError
from gan_zoo.lipschitz import GradientPenalty
from gan_zoo.nets import ConvAutoencoderCritic, DCGANCritic, DCGANGenerator, ResNetCritic, ResNetGenerator

CASES = [(net, channels, size) for channels in (1, 3)
         for net, sizes in (("dcgan", (28, 32, 64)), ("resnet", (32, 64))) for size in sizes]


@pytest.mark.parametrize(("kind", "channels", "size"), CASES)
def test_generator_and_critic_shapes_and_ranges(kind: str, channels: int, size: int) -> None:
    shape = (channels, size, size)
    generator = (DCGANGenerator(shape, z_dim=16, width=8) if kind == "dcgan"
                 else ResNetGenerator(shape, z_dim=16, width=8))
    critic = DCGANCritic(shape, width=8, norm="layer") if kind == "dcgan" else ResNetCritic(shape, width=8)
    x = generator(generator.sample_noise(5))
    assert x.shape == (5, *shape)
    assert x.min() >= -1 and x.max() <= 1  # tanh output, the data range
    assert x.std() > 0
    out = critic(x)
    assert out.score.shape == (5,) and out.features.shape[0] == 5 and out.features.dim() == 2
    assert torch.isfinite(out.score).all()


@pytest.mark.parametrize("size", [28, 32, 64])
def test_autoencoder_critic_reconstructs_in_range_and_scores_minus_energy(size: int) -> None:
    critic = ConvAutoencoderCritic((1, size, size), width=8, code_dim=12)
    x = torch.rand(4, 1, size, size) * 2 - 1
    reconstruction = critic.decode(critic.encode(x))
    assert reconstruction.shape == x.shape and reconstruction.abs().max() <= 1
    out = critic(x)
    assert out.features.shape == (4, 12)
    assert torch.allclose(out.score, -(reconstruction - x).flatten(1).norm(dim=1), atol=1e-5)


def test_dcgan_has_the_papers_channel_progression_at_64px() -> None:
    generator = DCGANGenerator((3, 64, 64), z_dim=100, width=64)
    transposed = [m for m in generator.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels) for m in transposed] == [(512, 256), (256, 128), (128, 64), (64, 3)]
    critic = DCGANCritic((3, 64, 64), width=64)
    convs = [m for m in critic.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(m.in_channels, m.out_channels) for m in convs] == [(3, 64), (64, 128), (128, 256), (256, 512)]


def test_resnet_critic_sum_pool_is_spatial_sum_of_mean_pool() -> None:
    torch.manual_seed(0)
    mean_critic = ResNetCritic((3, 32, 32), width=8, pool="mean")
    sum_critic = ResNetCritic((3, 32, 32), width=8, pool="sum")
    sum_critic.load_state_dict(mean_critic.state_dict())
    x = torch.randn(2, 3, 32, 32)
    assert torch.allclose(sum_critic(x).features, 64 * mean_critic(x).features, rtol=1e-5)  # 8×8 map


@pytest.mark.parametrize("net", [DCGANCritic, ResNetCritic, ConvAutoencoderCritic])
def test_dropout_is_in_the_critic_when_asked(net) -> None:
    critic = net((1, 32, 32), width=8, dropout=0.5)
    assert any(isinstance(m, torch.nn.Dropout) for m in critic.modules())


def test_batch_norm_critic_is_refused_with_a_gradient_penalty() -> None:
    with pytest.raises(ConfigError, match="batch"):
        GradientPenalty(lambda_=10.0).prepare_critic(DCGANCritic((1, 28, 28), width=8, norm="batch"))


def test_unsupported_sizes_and_norms_say_what_to_do() -> None:
    with pytest.raises(ConfigError, match="supports image sizes 28, 32, 64 px .got 48.; set data.image_size"):
        DCGANGenerator((1, 48, 48))
    with pytest.raises(ConfigError, match="supports image sizes 32, 64"):
        ResNetCritic((3, 28, 28))
    with pytest.raises(ConfigError, match="norm must be one of none, layer, batch"):
        DCGANCritic((1, 28, 28), norm="instance")
    with pytest.raises(ConfigError, match="pool must be one of mean, sum"):
        ResNetCritic((3, 32, 32), pool="max")
