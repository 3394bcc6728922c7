"""The NaN guard: every loss term of every step is checked for NaN/Inf, with one host-device sync per check."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch import Tensor

from gan_zoo.errors import NonFiniteLossError


class NonFiniteGuard:
    """Records every update's loss terms on the device and checks them `every` updates at once.

    Reading a device value on the host (`bool`, `.item()`) waits for the GPU to finish all queued work, so a
    check of each update on its own would stall every step. Here an update (critic, generator or pre-training)
    costs one small stack on the device; `check()` (every `every` recorded updates, and whenever training
    pauses: validation, checkpoints, the end) reads all pending ones with one sync and names the first
    non-finite term and the generator iteration it came from. The updates between a bad one and its check are
    wasted, never saved: checkpoints refuse non-finite weights (GANModule.on_save_checkpoint), so the last good
    checkpoint stays as it was. Under DDP the processes agree (one all-reduce per check), so all stop together.
    """

    def __init__(self, every: int, hints: str) -> None:
        self.every = every
        self.hints = hints
        self._pending: list[tuple[str, int, tuple[str, ...], Tensor]] = []

    def record(self, phase: str, gen_iter: int, terms: dict[str, Tensor]) -> None:
        if not self.every or not terms:
            return
        values = torch.stack([value.detach() for value in terms.values()])  # no cast: a float64 term may exceed fp32
        self._pending.append((phase, gen_iter, tuple(terms), values))
        if len(self._pending) >= self.every:
            self.check()

    def check(self) -> None:
        """Raise NonFiniteLossError naming the first non-finite term recorded since the last check."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        finite = torch.isfinite(torch.cat([values for *_, values in pending])).all()
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            finite = finite.to(torch.int32)
            dist.all_reduce(finite, op=dist.ReduceOp.MIN)  # one process's NaN stops every process
        if bool(finite):  # the one sync
            return
        for phase, gen_iter, names, values in pending:
            bad = (~torch.isfinite(values)).nonzero()
            if len(bad):
                index = int(bad[0])
                value = values[index].item()
                raise NonFiniteLossError(f"non-finite {phase} loss term '{names[index]}' ({value}) "
                                         f"at generator iteration {gen_iter}: {self.hints}",
                                         phase=phase, term=names[index], value=value, gen_iter=gen_iter)
        raise NonFiniteLossError(f"non-finite loss in another process between generator iterations {pending[0][1]} "
                                 f"and {pending[-1][1]}: {self.hints}", gen_iter=pending[0][1])
