"""A rich progress bar that counts the epoch's critic batches and names its generator iterations; plain log lines
instead when the output is not a terminal."""

from __future__ import annotations

import logging
from typing import Any

import pytorch_lightning as pl
from rich.console import Console

from gan_zoo.callbacks.progress_lines import ProgressLines
from gan_zoo.compat import DescribedRichProgressBar
from gan_zoo.contracts import PlannedData, ShowsProgress, TrainingProgress
from gan_zoo.errors import ConfigError
from gan_zoo.training.schedule import TrainingPlan

log = logging.getLogger(__name__)


class GenIterProgressBar(DescribedRichProgressBar):
    """Lightning's RichProgressBar with the epoch sized from the training plan (the batch stream is
    endless, so Lightning alone would show '?') and described in generator iterations.

    Training numbers come from the module's `progress_bar_values`, floats read on logging steps: Lightning's
    own prog_bar metrics are converted with `.item()` after every batch, a host-device sync per step.

    When stdout is not a terminal (SLURM, `> file`), where Rich would draw nothing until the end, the bar is off and
    a plain line is logged every `log_every_s` seconds instead (gan_zoo.callbacks.progress_lines; 0: every batch).
    """

    def __init__(self, log_every_s: float = 30.0, **kwargs: Any) -> None:
        if not log_every_s >= 0:
            raise ConfigError(f"callbacks.progress_bar.log_every_s must be >= 0 (got {log_every_s})")
        super().__init__(**kwargs)
        self.log_every_s = log_every_s
        self.lines: ProgressLines | None = None

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        console = Console()  # Rich's own test: a terminal, Jupyter, or forced (FORCE_COLOR, TTY_COMPATIBLE)
        if trainer.is_global_zero and not (console.is_terminal or console.is_jupyter):
            self.lines = ProgressLines(self.log_every_s)
            self.disable()

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        if self.lines is not None:
            self.lines.start(pl_module.gen_iter if isinstance(pl_module, TrainingProgress) else 0)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any,
                           batch_idx: int) -> None:
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
        if self.lines is not None and self.lines.due():
            self._log_line(pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_end(trainer, pl_module)
        if self.lines is not None:
            self._log_line(pl_module)

    def _log_line(self, pl_module: pl.LightningModule) -> None:
        plan = self._plan()
        gen_iter = pl_module.gen_iter if isinstance(pl_module, TrainingProgress) else 0
        values = pl_module.progress_bar_values if isinstance(pl_module, ShowsProgress) else {}
        log.info(self.lines.line(gen_iter, plan.gen_iters if plan is not None else gen_iter, values))

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
