"""The objective interface: pure functions from critic outputs to named loss terms."""

from __future__ import annotations

from torch import Tensor, nn

from gan_zoo.nets.base import Scored

Terms = dict[str, Tensor]


class Objective:
    """A critic objective and its generator loss.

    Both losses return named terms whose sum is the loss, so each can be logged on its own.
    Objectives never call backward or step: the module sums their terms with the Lipschitz
    strategy's penalty terms and does one backward (docs/methods.md#implementation-pitfalls, item 3).
    """

    #: critic-only steps on real data before adversarial training (EBGAN's autoencoder pre-training)
    pretrain_steps: int = 0

    def check_critic(self, critic: nn.Module) -> None:
        """Refuse a critic this objective cannot use (called once, when the module is built)."""

    def critic_loss(self, real: Scored, fake: Scored) -> Terms:
        raise NotImplementedError

    def generator_loss(self, fake: Scored) -> Terms:
        raise NotImplementedError

    def estimates(self, real: Scored, fake: Scored) -> Terms:
        """Named estimates of a divergence between the data and the generator read off the critic (e.g. f-GAN's
        variational bound), logged as train/<name> and, on held-out data, val/<name> beside the W estimate.
        None by default: every objective's E[D(x)] − E[D(x̃)] is logged as w_estimate anyway."""
        return {}

    def pretrain_loss(self, real: Scored) -> Terms:
        """Loss for the critic-only pre-training steps; only objectives with pretrain_steps > 0 need it."""
        raise NotImplementedError(f"{type(self).__name__} has no pre-training loss")
