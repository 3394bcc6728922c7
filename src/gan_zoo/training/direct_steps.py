"""When Lightning's manual-optimization calls add nothing but Python to `loss.backward()` and `optimizer.step()`."""

from __future__ import annotations

import pytorch_lightning as pl
from pytorch_lightning.plugins.precision import DoublePrecision, MixedPrecision, Precision
from pytorch_lightning.profilers import PassThroughProfiler
from pytorch_lightning.strategies import SingleDeviceStrategy
from pytorch_lightning.utilities.model_helpers import is_overridden

from gan_zoo import compat
from gan_zoo.parallel.distributed import SeparateDDPStrategy

# The hooks that Lightning's manual_backward and LightningOptimizer.step call around the backward and the step.
CALLBACK_HOOKS = ("on_before_backward", "on_after_backward", "on_before_optimizer_step")
MODULE_HOOKS = (*CALLBACK_HOOKS, "backward")


def lightning_adds_nothing(trainer: pl.Trainer) -> bool:
    """True when `manual_backward(loss)` + `LightningOptimizer.step()` would do exactly `loss.backward()` +
    `optimizer.step()` and count the step: a precision without a loss scaler (32-true, 64-true, bf16-mixed), one
    device or gan_zoo's separate DDP (its wrappers reduce in their own autograd hooks), no profiler, and no
    callback or module hook in between. Lightning's way costs about 0.3 ms of Python per update (measured in
    benchmarks/speed.py, docs/benchmarks.md): little next to a CPU step, a large share of a small net's GPU step.
    """
    plugin = compat.precision_plugin(trainer)
    if type(plugin) not in (Precision, DoublePrecision, MixedPrecision) or compat.grad_scaler(trainer) is not None:
        return False
    if type(trainer.strategy) not in (SingleDeviceStrategy, SeparateDDPStrategy):
        return False
    if compat.averages_in_optimizer_step(trainer.strategy):  # post-local-SGD averages in its step
        return False
    if not isinstance(trainer.profiler, PassThroughProfiler):
        return False
    module = trainer.lightning_module
    if any(is_overridden(hook, module, pl.LightningModule) for hook in MODULE_HOOKS):
        return False
    return not any(is_overridden(hook, callback, pl.Callback) for callback in trainer.callbacks for hook in CALLBACK_HOOKS)
