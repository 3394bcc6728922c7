"""Historical averaging (Salimans et al. 2016, §3.3)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_zoo.errors import require
from gan_zoo.regularizers.base import PLAYERS, Regularizer

PLAYER_CHOICES = ("both", *PLAYERS)


class ParameterMean(nn.Module):
    """The running mean (1/t)·Σ_{i=1..t} θ[i] of a net's parameters θ[i] after each of its t updates so far, as
    buffers `mean<k>` (one per parameter, in `named_parameters` order) and `count` (t)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.register_buffer("count", torch.zeros((), dtype=torch.long))
        for k, parameter in enumerate(net.parameters()):
            self.register_buffer(f"mean{k}", torch.zeros_like(parameter))

    def means(self) -> list[Tensor]:
        return [buffer for name, buffer in self.named_buffers() if name != "count"]

    @torch.no_grad()
    def update(self, net: nn.Module) -> None:
        """Add θ[t+1] (the parameters now): mean += (θ − mean)/(t + 1), on the device (no host read)."""
        self.count += 1
        for mean, parameter in zip(self.means(), net.parameters(), strict=True):
            mean.add_((parameter.detach() - mean) / self.count.to(mean.dtype))

    def squared_distance(self, net: nn.Module) -> Tensor:
        """‖θ − mean‖²₂ over all parameters (differentiable in θ); 0 while t = 0 (no history yet)."""
        parameters = list(net.parameters())
        total = sum(((parameter - mean) ** 2).sum() for parameter, mean in zip(parameters, self.means(), strict=True))
        return total * (self.count > 0).to(parameters[0].dtype)


class HistoricalAveraging(Regularizer):
    """Historical averaging, Salimans et al. 2016, §3.3: λ‖θ − (1/t)Σ_{i=1..t} θ[i]‖²₂ added to a player's cost.

    θ[i] are that player's parameters after its i-th update, so t counts the player's own optimizer steps before
    the current one (critic pre-training excluded); with t = 0 the term is 0. The running mean is a buffer of the
    module (in every checkpoint: a resumed run continues it exactly). Under DDP every rank holds the same
    parameters, hence the same mean. `players`: both (the paper), critic or generator. λ = 1 is torchgan's
    default; the paper gives none.
    """

    def __init__(self, lambda_: float = 1.0, players: str = "both") -> None:
        super().__init__()
        require(lambda_ >= 0, f"regularizer.lambda_ must be >= 0 (got {lambda_})")
        require(players in PLAYER_CHOICES,
                f"regularizer.players must be one of {', '.join(PLAYER_CHOICES)} (got {players!r})")
        self.lambda_ = lambda_
        self.players = PLAYERS if players == "both" else (players,)
        self.averages = nn.ModuleDict()

    def bind(self, generator: nn.Module, critic: nn.Module) -> None:
        nets = {"generator": generator, "critic": critic}
        for player in self.players:
            self.averages[player] = ParameterMean(nets[player])

    def terms(self, player: str, net: nn.Module) -> dict[str, Tensor]:
        if player not in self.averages:
            return {}
        return {"historical_average": self.lambda_ * self.averages[player].squared_distance(net)}

    def after_step(self, player: str, net: nn.Module) -> None:
        if player in self.averages:
            self.averages[player].update(net)
