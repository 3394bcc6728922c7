"""An exponential moving average of the generator that never waits for the device."""

from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn


class GeneratorEMA(AveragedModel):
    """EMA of G's weights and buffers (Yazıcı et al. 2019): after every generator step
    θ_ema ← decay·θ_ema + (1 − decay)·θ, starting from a copy of θ at the first update.

    The arithmetic, state-dict keys and checkpoints of torch's AveragedModel with get_ema_multi_avg_fn and
    use_buffers=True. Its update_parameters branches on the device-side counter (`if self.n_averaged == 0`,
    `if self.n_averaged > 0`): two host-device syncs per generator step on a GPU. This one keeps a host copy of
    the counter, read from the device only once after a checkpoint was loaded.
    """

    def __init__(self, generator: nn.Module, decay: float) -> None:
        super().__init__(generator, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)
        self.requires_grad_(False)  # no gradients: DDP must not wait for them
        self._updates: int | None = 0  # host copy of n_averaged (None: read it from the device at the next update)
        # Called with the EMA after any load_state_dict that reaches it (its own or a module's holding it).
        self.register_load_state_dict_post_hook(GeneratorEMA._after_state_dict_load)

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        if self._updates is None:
            self._updates = int(self.n_averaged)
        ours = [*self.module.parameters(), *self.module.buffers()]
        theirs = [t.detach() for t in (*model.parameters(), *model.buffers())]
        if self._updates == 0:
            for average, current in zip(ours, theirs, strict=True):
                average.copy_(current)
        else:
            groups: dict[tuple[torch.device, torch.dtype], tuple[list, list]] = {}
            for average, current in zip(ours, theirs, strict=True):
                group = groups.setdefault((average.device, average.dtype), ([], []))
                group[0].append(average)
                group[1].append(current.to(average.device))
            for averages, currents in groups.values():
                self.multi_avg_fn(averages, currents, self.n_averaged)
        self.n_averaged += 1
        self._updates += 1

    def _after_state_dict_load(self, incompatible_keys: object) -> None:
        self._updates = None  # n_averaged came from a checkpoint: read it again at the next update
