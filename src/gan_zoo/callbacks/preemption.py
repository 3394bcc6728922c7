"""Checkpoint before exiting on SIGTERM or SIGUSR1 (a cluster's preemption and time-limit warnings)."""

from __future__ import annotations

import signal
from pathlib import Path
from types import FrameType

import pytorch_lightning as pl
from pytorch_lightning.utilities import rank_zero_info
from pytorch_lightning.utilities.exceptions import SIGTERMException


class CheckpointOnSignal(pl.Callback):
    """Lightning stops after the current batch on SIGTERM (raising SIGTERMException); this callback treats
    SIGUSR1 the same way (unless a SLURM auto-requeue handler owns it) and, when that stop happens, writes
    `<dirpath>/last.ckpt` so the run resumes from the very batch it stopped at (`ckpt_path=`)."""

    def __init__(self, dirpath: str, filename: str = "last.ckpt") -> None:
        self.path = Path(dirpath) / filename
        self.saved_path: Path | None = None

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if hasattr(signal, "SIGUSR1") and signal.getsignal(signal.SIGUSR1) in (signal.SIG_DFL, None):
            def stop_after_this_batch(signum: int, frame: FrameType | None) -> None:
                trainer._signal_connector.received_sigterm = True

            signal.signal(signal.SIGUSR1, stop_after_this_batch)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if isinstance(exception, SIGTERMException):
            trainer.save_checkpoint(self.path)
            self.saved_path = self.path
            rank_zero_info(f"stopped by a signal: checkpoint saved to {self.path}")
