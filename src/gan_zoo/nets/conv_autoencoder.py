"""EBGAN's convolutional autoencoder critic (Zhao et al. 2017, §2.3 and App. C): energy = ‖Dec(Enc(x)) − x‖.

The encoder is the DCGAN critic's body followed by a linear map to a `code_dim` code; the decoder is the
DCGAN generator's body from that code (its tanh keeps reconstructions in the data range [−1, 1]).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from gan_zoo.errors import require
from gan_zoo.nets.base import AutoencoderCritic, check_sizes, image_shape
from gan_zoo.nets.dcgan import STAGES, critic_body, dcgan_init, generator_body


class ConvAutoencoderCritic(AutoencoderCritic):
    def __init__(self, data_shape: Sequence[int], width: int = 64, code_dim: int = 64, norm: str = "none",
                 dropout: float = 0.0) -> None:
        super().__init__()
        check_sizes(width=width, code_dim=code_dim)
        require(0.0 <= dropout < 1.0, f"model.critic.dropout must be in [0, 1) (got {dropout})")
        channels, size, _ = image_shape(data_shape, tuple(STAGES))
        self.data_shape = (channels, size, size)
        body, features = critic_body(channels, size, width, norm, dropout)
        self.encoder = nn.Sequential(body, nn.Linear(features, code_dim))
        self.decoder = generator_body(code_dim, channels, size, width, norm=norm)  # no batch norm unless asked
        dcgan_init(self)

    def encode(self, x: Tensor) -> Tensor:
        return self.encoder(x)

    def decode(self, code: Tensor) -> Tensor:
        return self.decoder(code)
