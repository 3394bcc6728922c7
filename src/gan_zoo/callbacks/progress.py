"""A rich progress bar that counts the epoch's critic batches and names its generator iterations."""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl

from gan_zoo.compat import DescribedRichProgressBar
from gan_zoo.contracts import PlannedData, ShowsProgress
from gan_zoo.training.schedule import TrainingPlan


class GenIterProgressBar(DescribedRichProgressBar):
    """Lightning's RichProgressBar with the epoch sized from the training plan (the batch stream is
    endless, so Lightning alone would show '?') and described in generator iterations.

    Training numbers come from the module's `progress_bar_values`, floats read on logging steps: Lightning's
    own prog_bar metrics are converted with `.item()` after every batch, a host-device sync per step.
    """

    @property
    def total_train_batches(self) -> int | float:
        plan = self._plan()
        if plan is None:
            return super().total_train_batches
        return plan.schedule.critic_batches(*plan.epoch_gen_iters(self.trainer.current_epoch))

    def train_epoch_description(self, current_epoch: int) -> str:
        plan = self._plan()
        if plan is None:
            return super().train_epoch_description(current_epoch)
        start, stop = plan.epoch_gen_iters(current_epoch)
        return f"G iters {start}-{stop} of {plan.gen_iters}"

    def get_metrics(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> dict[str, Any]:
        shown = pl_module.progress_bar_values if isinstance(pl_module, ShowsProgress) else {}
        return {**super().get_metrics(trainer, pl_module), **shown}

    def _plan(self) -> TrainingPlan | None:
        datamodule = self.trainer.datamodule
        return datamodule.plan if isinstance(datamodule, PlannedData) else None
