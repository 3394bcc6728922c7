"""A real signal at a chosen point of training, for tests of preemption and resuming mid-interval."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytorch_lightning as pl

from gan_zoo.contracts import TrainingProgress


class SignalAt(pl.Callback):
    """Sends `signum` (default SIGTERM) to this process once, at the end of the first training batch after which
    the module has done `gen_iter` generator iterations (right after that generator update), or `critic_steps`
    critic updates (which can fall between two generator updates).

    The signal is a real one, delivered to Lightning's handler (or gan_zoo's CheckpointOnSignal) as a cluster's
    would be, but at a point a test can choose instead of one a timer happens to hit. Added with
    `+callbacks.stop._target_=gan_zoo.testing.SignalAt +callbacks.stop.gen_iter=<k>`.
    """

    def __init__(self, gen_iter: int | None = None, critic_steps: int | None = None,
                 signum: int | str = "SIGTERM") -> None:
        if (gen_iter is None) == (critic_steps is None):
            raise ValueError("SignalAt needs exactly one of gen_iter and critic_steps")
        self.gen_iter, self.critic_steps = gen_iter, critic_steps
        self.signum = getattr(signal, signum) if isinstance(signum, str) else signum
        self.sent = False

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        if self.sent or not isinstance(pl_module, TrainingProgress):
            return
        reached = (pl_module.critic_steps >= self.critic_steps if self.gen_iter is None
                   else pl_module.gen_iter >= self.gen_iter)
        if reached:
            self.sent = True
            os.kill(os.getpid(), self.signum)
