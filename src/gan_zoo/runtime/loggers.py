"""Experiment loggers; W&B goes offline by itself when there is no account."""

from __future__ import annotations

import netrc
import os
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import WandbLogger

from gan_zoo.errors import ConfigError
from gan_zoo.runtime.history import ResumableWandbLogger
from gan_zoo.runtime.wandb_network import check_network

WANDB_MODES = ("auto", "online", "offline", "disabled")


def wandb_api_key_available() -> bool:
    """True when W&B has credentials: WANDB_API_KEY or an api.wandb.ai entry in ~/.netrc."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        hosts = netrc.netrc(os.environ.get("NETRC")).hosts
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False
    return any("wandb" in host for host in hosts)


def resolve_wandb_mode(mode: str) -> str:
    """`auto`: WANDB_MODE if set, else online with credentials and offline without (never prompts)."""
    if mode not in WANDB_MODES:
        raise ConfigError(f"logger.wandb.mode must be one of {', '.join(WANDB_MODES)} (got {mode!r})")
    if mode != "auto":
        return mode
    env_mode = os.environ.get("WANDB_MODE")
    if env_mode in ("online", "offline", "disabled", "dryrun", "run"):
        return "offline" if env_mode == "dryrun" else "online" if env_mode == "run" else env_mode
    return "online" if wandb_api_key_available() else "offline"


CHECKPOINT_KEY = "gan_zoo_wandb_run_id"


class RememberWandbRun(pl.Callback):
    """Stores the W&B run id in every checkpoint, so that a resumed run continues the same W&B run."""

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        ids = [logger.version for logger in trainer.loggers if isinstance(logger, WandbLogger)]
        if ids:
            checkpoint[CHECKPOINT_KEY] = ids[0]


def wandb_run_id(checkpoint_path: str | None) -> str | None:
    """The W&B run id stored in a checkpoint by RememberWandbRun (memory-mapped: the weights are not read)."""
    if not checkpoint_path or not Path(checkpoint_path).is_file():
        return None
    try:
        checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # noqa: BLE001 - the trainer reports unreadable checkpoints itself
        return None
    return checkpoint.get(CHECKPOINT_KEY)


def wandb_logger(save_dir: str, mode: str = "auto", resume_from: str | None = None, **kwargs: Any) -> WandbLogger:
    """A Lightning WandbLogger writing under save_dir, in the resolved mode; resuming from a checkpoint
    (`resume_from`, i.e. ckpt_path) continues that checkpoint's W&B run (same id)."""
    resolved = resolve_wandb_mode(mode)
    if resolved == "online" and not wandb_api_key_available():
        raise ConfigError("logger.wandb.mode=online needs W&B credentials: run `wandb login` or set WANDB_API_KEY, "
                          "or use logger.wandb.mode=offline")
    resolved = check_network(resolved, explicit=mode == "online")  # no network: offline (gan_zoo.runtime.wandb_network)
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("WANDB_SILENT", "true")
    run_id = wandb_run_id(resume_from)
    if run_id is not None:
        kwargs.update(id=run_id, resume="allow")
    # Rows the W&B run already holds (a killed part of this run logged them) are not logged again.
    return ResumableWandbLogger(save_dir=save_dir, offline=resolved == "offline", mode=resolved,
                                resume_from=resume_from, **kwargs)
