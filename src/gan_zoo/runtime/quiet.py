"""Silence what the frameworks print on every run that tells a gan_zoo user nothing, and nothing else.

Each entry is the narrowest filter that works: one exact message, on the one logger (or warning) that emits it, so
a new or changed message from the same source still shows. `install()` runs once at the start of every training
run (gan_zoo.runtime.fit.train); tests/test_logs.py checks that a default run prints none of these lines and that
a message next to them still does.
"""

from __future__ import annotations

import logging
import re
import warnings
from typing import Any

from gan_zoo import compat

# logger name → the start of the one message dropped from it.
LOG_MESSAGES: dict[str, str] = {
    # An advertisement for another logging service, printed by Trainer() whenever no LitLogger is used.
    "pytorch_lightning.utilities.rank_zero": "💡 Tip: For seamless cloud logging and experiment tracking",
    # trainer.save_checkpoint(path) without weights_only: a full checkpoint, which is what gan_zoo always wants.
    "pytorch_lightning.trainer.connectors.checkpoint_connector": "`weights_only` was not set, defaulting to `False`.",
}
# Warnings, by the start of their exact text.
WARNINGS: tuple[str, ...] = (
    # Wherever `srun` is installed (a login node, a SLURM cluster's nodes): gan_zoo starts SLURM jobs through its
    # launcher (hydra/launcher=slurm), and a job that submitit starts does use srun, so the hint is wrong for us.
    r"The `srun` command is available on your system but is not used",
)
# W&B's own terminal warnings (wandb.termwarn), exact text.
WANDB_WARNINGS: tuple[str, ...] = (
    # Lightning's WandbLogger always passes `anonymous`; the setting is unused by W&B and never set by gan_zoo.
    "The anonymous setting has no effect and will be removed in a future version.",
)


class DropMessage(logging.Filter):
    """Drops the records of one logger whose message starts with `start`."""

    def __init__(self, start: str) -> None:
        super().__init__()
        self.start = start

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().lstrip().startswith(self.start)


def install(cfg: Any = None) -> None:
    """Install every filter (once per process; calling again changes nothing). The W&B part only when the config
    has a W&B logger (`cfg.logger.wandb`), since it imports wandb."""
    for name, start in LOG_MESSAGES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropMessage) and f.start == start for f in logger.filters):
            logger.addFilter(DropMessage(start))
    for message in WARNINGS:
        warnings.filterwarnings("ignore", message=re.escape(message))  # an identical filter replaces itself
    loggers = (cfg.get("logger") or {}) if cfg is not None else {}
    if "wandb" in loggers:
        for message in WANDB_WARNINGS:
            compat.mark_wandb_warning_shown(message)
