"""The regulariser interface: extra loss terms for the generator's and the critic's updates."""

from __future__ import annotations

from torch import Tensor, nn

PLAYERS = ("generator", "critic")


class Regularizer(nn.Module):
    """Extra terms of a player's cost, with any running state kept in buffers (so checkpoints hold it and a
    resumed run continues exactly), e.g. historical averaging (Salimans et al. 2016, §3.3).

    The module calls, for player "generator" or "critic" and that player's (plain, not DDP-wrapped) net:
      bind(generator, critic)  once, when the module is built (create buffers shaped like the parameters);
      terms(player, net)       named terms added to that player's loss in each of its updates, logged as
                               train/<player>/<name>;
      after_step(player, net)  after each optimizer step of that player (critic pre-training steps excluded).
    Each is a no-op by default.
    """

    def bind(self, generator: nn.Module, critic: nn.Module) -> None:
        pass

    def terms(self, player: str, net: nn.Module) -> dict[str, Tensor]:
        return {}

    def after_step(self, player: str, net: nn.Module) -> None:
        pass


class NoRegularizer(Regularizer):
    """No extra terms (`regularizer=none`, the default)."""
