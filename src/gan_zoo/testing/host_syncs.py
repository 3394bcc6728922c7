"""Finds the places where training reads a tensor on the host, i.e. waits for the GPU (a "sync").

On a GPU, `.item()`, `bool(t)`, `float(t)`, `.tolist()`, `.cpu()`, `t.nonzero()` or `torch.tensor(x, device=...)`
block the CPU until the queued kernels have run (or a copy is done), so the CPU can no longer queue work ahead; a
sync in every step costs most in small nets. The same calls are visible on a CPU, which is how the test suite checks
that gan_zoo makes none between logging steps. CUDA's own `torch.cuda.set_sync_debug_mode` sees them only on a
GPU; `.to(device)` is not counted here (on a CPU every tensor is already on the device).
"""

from __future__ import annotations

import traceback
from collections import defaultdict
from typing import Any

import pytorch_lightning as pl
import torch
from torch.overrides import TorchFunctionMode

READS_ON_HOST = frozenset({"item", "tolist", "numpy", "cpu", "nonzero", "masked_select", "unique", "equal",
                           "__bool__", "__float__", "__int__", "__index__"})
COPIES_TO_DEVICE = frozenset({"tensor", "as_tensor"})  # with a device: a blocking host-to-device copy
# The optimizers' step counters are host tensors unless `capturable`: reading them waits for nothing. Only the
# optimizers' own files: swa_utils (EMA) and lr_scheduler (which calls user code) are counted.
HOST_SIDE_FILES = ("/torch/optim/optimizer.py", "/torch/optim/adam.py", "/torch/optim/adamw.py",
                   "/torch/optim/rmsprop.py", "/torch/optim/sgd.py", "/torch/optim/_functional.py")


def _reads_on_host(name: str | None, args: tuple, kwargs: dict) -> bool:
    if name in READS_ON_HOST:
        return True
    if name in COPIES_TO_DEVICE:
        return kwargs.get("device") is not None
    if name == "where":  # torch.where(condition) is nonzero(): its size depends on the values
        return len(args) + len(kwargs) == 1
    if name == "__getitem__" and len(args) == 2:  # x[mask] with a bool tensor: a nonzero() too
        index = args[1] if isinstance(args[1], tuple) else (args[1],)
        return any(isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in index)
    return False


class _HostReads(TorchFunctionMode):
    def __init__(self, on_read: Any) -> None:
        super().__init__()
        self.on_read = on_read

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        name = getattr(func, "__name__", None)
        if _reads_on_host(name, args, kwargs or {}):
            self.on_read(name)
        return func(*args, **(kwargs or {}))


class HostSyncCounter(pl.Callback):
    """Counts host reads of tensors during training, per training batch (critic step).

    `by_batch[i]` lists "name @ file:line" for each read from the start of batch i to the start of batch i + 1
    (Lightning's end-of-batch work included); reads at epoch ends, validation and checkpoints are under None.
    """

    def __init__(self) -> None:
        self.by_batch: dict[int | None, list[str]] = defaultdict(list)
        self.batch: int | None = None
        self._mode: _HostReads | None = None
        self._seen = 0

    def _record(self, name: str) -> None:
        stack = traceback.extract_stack()[:-2]  # without _record and __torch_function__: the read's line is last
        if any(marker in frame.filename for frame in stack[-6:] for marker in HOST_SIDE_FILES):
            return
        caller = next((f for f in reversed(stack) if "/torch/" not in f.filename), stack[-1])
        self.by_batch[self.batch].append(f"{name} @ {caller.filename}:{caller.lineno}")

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._mode = _HostReads(self._record)
        self._mode.__enter__()

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        self.batch = self._seen
        self._seen += 1

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.batch = None

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.batch = None

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._stop()

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._mode is not None:
            self._mode.__exit__(None, None, None)
            self._mode = None
