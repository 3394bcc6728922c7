"""A rich progress bar that counts the epoch's critic batches and names its generator iterations."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import RichProgressBar


class GenIterProgressBar(RichProgressBar):
    """Lightning's RichProgressBar with the epoch sized from the training plan (the batch stream is
    endless, so Lightning alone would show '?') and described in generator iterations.

    Training numbers come from the module's `progress_bar_values`, floats read on logging steps: Lightning's
    own prog_bar metrics are converted with `.item()` after every batch, a host-device sync per step.
    """

    @property
    def total_train_batches(self) -> int | float:
        plan = getattr(self.trainer.datamodule, "plan", None)
        if plan is None:
            return super().total_train_batches
        return plan.schedule.critic_batches(*plan.epoch_gen_iters(self.trainer.current_epoch))

    def _get_train_description(self, current_epoch: int) -> str:
        plan = getattr(self.trainer.datamodule, "plan", None)
        if plan is None:
            return super()._get_train_description(current_epoch)
        start, stop = plan.epoch_gen_iters(current_epoch)
        return f"G iters {start}-{stop} of {plan.gen_iters}"

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
        return {**super().get_metrics(trainer, pl_module), **getattr(pl_module, "progress_bar_values", {})}
