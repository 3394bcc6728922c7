"""Checkpoint before exiting on SIGTERM, SIGUSR1, a SLURM time-limit warning (a cluster's preemption signals) or
Ctrl-C (SIGINT)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import pytorch_lightning as pl
from pytorch_lightning.utilities import rank_zero_info
from pytorch_lightning.utilities.exceptions import SIGTERMException

from gan_zoo import compat
from gan_zoo.contracts import TrainingProgress
from gan_zoo.errors import Interrupted

Handler = Callable[[int, FrameType | None], object]


def submitit_signal() -> int | None:
    """The signal that submitit (hydra/launcher=slurm) asks SLURM to send before a job's time limit."""
    if not hasattr(signal, "SIGUSR2"):
        return None
    name = os.environ.get("SUBMITIT_PREEMPT_SIGNAL", "USR2")
    return getattr(signal, f"SIG{name}", None)


class CheckpointOnSignal(pl.Callback):
    """Lightning stops after the current batch on SIGTERM (raising SIGTERMException); this callback treats SIGUSR1
    the same way (unless a SLURM auto-requeue handler owns it) and, when that stop happens, writes
    `<dirpath>/last.ckpt` so the run resumes from the very batch it stopped at (`ckpt_path=`, or by itself with
    `auto_resume`).

    Under submitit (`hydra/launcher=slurm`) SLURM sends SIGUSR2 `signal_delay_s` before the time limit, and
    submitit's handler requeues the job and exits at once. This callback takes that signal over: training stops
    after the batch, last.ckpt is written, and only then is submitit's handler run, so the requeued job resumes
    from the batch the old one stopped at.

    Ctrl-C (SIGINT, when Python's own KeyboardInterrupt handler has it) stops the same way, after the batch, rather
    than through Lightning's KeyboardInterrupt handling: that one interrupts mid-step (a critic updated, its
    counters not) and exits with code 1 without a checkpoint. A second Ctrl-C gets Python's handler back and
    stops at once, without saving.
    """

    def __init__(self, dirpath: str, filename: str = "last.ckpt") -> None:
        self.path = Path(dirpath) / filename
        self.saved_path: Path | None = None
        self._replaced: dict[int, Handler] = {}  # signal → the handler it had before (to chain to and restore)
        self._received: int | None = None

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        def stop_after_this_batch(signum: int, frame: FrameType | None) -> None:
            self._received = signum
            compat.stop_after_this_batch(trainer)

        def stop_after_this_batch_once(signum: int, frame: FrameType | None) -> None:
            signal.signal(signum, self._replaced.get(signum, signal.default_int_handler))  # a second one: at once
            stop_after_this_batch(signum, frame)

        if hasattr(signal, "SIGUSR1") and signal.getsignal(signal.SIGUSR1) in (signal.SIG_DFL, None):
            self._take_over(signal.SIGUSR1, stop_after_this_batch)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not when SIGINT is ignored (`cmd &`)
            self._take_over(signal.SIGINT, stop_after_this_batch_once)
        preempt = submitit_signal()
        if preempt is not None and _is_submitit_handler(signal.getsignal(preempt)):
            self._take_over(preempt, stop_after_this_batch)

    def _take_over(self, signum: int, handler: Handler) -> None:
        self._replaced[signum] = signal.getsignal(signum)
        signal.signal(signum, handler)

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, SIGTERMException):
            return
        trainer.save_checkpoint(self.path, weights_only=False)  # explicit: Lightning logs its default otherwise
        self.saved_path = self.path
        gen_iter = pl_module.gen_iter if isinstance(pl_module, TrainingProgress) else "?"
        rank_zero_info(f"stopped by {self.cause} at generator iteration {gen_iter}: "
                       f"checkpoint saved to {self.path}")
        previous = self._replaced.get(self._received) if self._received is not None else None
        if _is_submitit_handler(previous):
            self.teardown(trainer, pl_module, "fit")
            previous(self._received, None)  # submitit: requeue this job, then exit

    @property
    def cause(self) -> str:
        """What stopped the run, in words."""
        return "Ctrl-C" if self._received == signal.SIGINT else "a signal"

    @property
    def exit_code(self) -> int:
        """What a shell reports for a process killed by the signal: 130 for Ctrl-C, 143 (SIGTERM's) for the
        preemption signals, whichever they were (README: "exits with code 143")."""
        return 128 + signal.SIGINT if self._received == signal.SIGINT else 128 + signal.SIGTERM

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        for signum, handler in self._replaced.items():
            signal.signal(signum, handler)
        self._replaced = {}


def interrupted(callbacks: list[pl.Callback], gen_iter: int) -> Interrupted:
    """The one line (and exit code) of a run that Lightning stopped after a batch on a signal: where it stopped,
    where the checkpoint is and how to resume from it."""
    savers = [c for c in callbacks if isinstance(c, CheckpointOnSignal)]
    saved = next((c for c in savers if c.saved_path), None)
    cause = savers[0].cause if savers else "a signal"
    where = (f"checkpoint saved to {saved.saved_path}; resume with ckpt_path={saved.saved_path}" if saved
             else "no checkpoint saved")
    error = Interrupted(f"stopped by {cause} at generator iteration {gen_iter}: {where}")
    error.exit_code = savers[0].exit_code if savers else Interrupted.exit_code
    return error


def _is_submitit_handler(handler: object) -> bool:
    return callable(handler) and type(getattr(handler, "__self__", None)).__module__.startswith("submitit.")
