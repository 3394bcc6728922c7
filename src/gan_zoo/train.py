"""The training entry point: `python -m gan_zoo.train` or `gan-zoo-train`, configured by Hydra."""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import hydra
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities.exceptions import SIGTERMException

from gan_zoo.runtime.cli import check_group_overrides, check_output_folder, report, user_error
from gan_zoo.callbacks import CheckpointOnSignal
from gan_zoo.errors import ConfigError, GanZooError, Interrupted, require
from gan_zoo.training.module import GANModule
from gan_zoo.training.schedule import CriticSchedule, TrainingPlan

METRICS_FILE = "metrics.json"
log = logging.getLogger(__name__)

OmegaConf.register_new_resolver("min", lambda *values: min(values), replace=True)
# W&B group of a sweep's runs: the sweep folder's name (None outside a sweep).
OmegaConf.register_new_resolver(
    "sweep_group", lambda mode, sweep_dir: Path(sweep_dir).name if str(mode).endswith("MULTIRUN") else None,
    replace=True)
# hydra/launcher=slurm: GPUs per node are the trainer's devices, unless it trains on CPUs.
OmegaConf.register_new_resolver(
    "gpus_per_node", lambda accelerator, devices: None if accelerator == "cpu" else devices, replace=True)

# Lightning 2.6 with torch >= 2.10 warns about its own use of a torch pytree API on every run.
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
# Under DDP every rank evaluates the same samples (gan_zoo.parallel.sharding), so epoch-level values need no sync_dist.
warnings.filterwarnings("ignore", message=r"It is recommended to use `self.log\('(val/|gen_iter|step)")


def validate_config(cfg: DictConfig) -> None:
    """Checks that no single constructor can make: values that span config groups."""
    for net in ("generator", "critic"):
        lr = cfg.optim[net].get("lr")
        require(lr is None or lr > 0, f"optim.{net}.lr must be > 0 (got {lr})")
    require(0 <= cfg.ema_decay < 1, f"ema_decay must be in [0, 1) (got {cfg.ema_decay}); 0 turns EMA off")
    require(cfg.ckpt_path is None or Path(cfg.ckpt_path).is_file(),
            f"ckpt_path {cfg.ckpt_path} is not a file: point it at a checkpoint, e.g. <run>/checkpoints/last.ckpt")
    # torch.save writes a zip archive whose directory is at the end: a truncated file is not a valid zip.
    require(cfg.ckpt_path is None or zipfile.is_zipfile(cfg.ckpt_path),
            f"ckpt_path {cfg.ckpt_path} is truncated or not a checkpoint: resume from an earlier one in the same folder")
    require(cfg.check_finite_every >= 0, f"check_finite_every must be >= 0 (got {cfg.check_finite_every})")


def build(cfg: DictConfig) -> tuple[GANModule, pl.LightningDataModule, TrainingPlan]:
    """The module, data and plan a config describes (everything through Hydra `_target_`s)."""
    validate_config(cfg)
    datamodule = instantiate(cfg.data)
    objective = instantiate(cfg.objective)
    schedule = CriticSchedule(n_critic=cfg.n_critic, wgan_warmup=cfg.wgan_warmup,
                              pretrain_steps=objective.pretrain_steps)
    plan = TrainingPlan(schedule, gen_iters=cfg.gen_iters, eval_every=cfg.eval_every)
    datamodule.set_plan(plan)
    module = GANModule(
        generator=instantiate(cfg.model.generator, data_shape=datamodule.data_shape),
        critic=instantiate(cfg.model.critic, data_shape=datamodule.data_shape),
        objective=objective,
        lipschitz=instantiate(cfg.lipschitz),
        generator_optimizer=instantiate(cfg.optim.generator),
        critic_optimizer=instantiate(cfg.optim.critic),
        lr_scheduler=instantiate(cfg.lr_scheduler),
        schedule=schedule,
        val_seed=cfg.data.get("val_seed", 1234),
        check_finite_every=cfg.check_finite_every,
        ema_decay=cfg.ema_decay,
        seed=cfg.seed,
    )
    return module, datamodule, plan


def _scalar(value: Any) -> float:
    return float(value.item() if isinstance(value, torch.Tensor) else value)


def resume_automatically(cfg: DictConfig) -> dict[str, Any] | None:
    """With auto_resume and no ckpt_path: point ckpt_path at checkpoint_dir/last.ckpt when it exists (a requeued
    job, a sweep re-run into the same folder). Returns the metrics of a run that had already finished."""
    if cfg.ckpt_path is not None or not cfg.get("auto_resume", False):
        return None
    finished = Path(cfg.output_dir) / METRICS_FILE
    if finished.is_file():
        log.info("%s exists: this run finished before; not training it again", finished)
        return json.loads(finished.read_text())
    last = Path(cfg.checkpoint_dir) / "last.ckpt"
    if last.is_file():
        log.info("resuming from %s (auto_resume)", last)
        cfg.ckpt_path = str(last)
    return None


def train(cfg: DictConfig) -> float:
    """Train one configuration; write metrics.json to the run folder; return cfg.optimized_metric."""
    started = time.perf_counter()
    if os.environ.get("SLURM_CPUS_PER_TASK", "").isdigit():  # SLURM does not pin CPUs on every cluster
        torch.set_num_threads(int(os.environ["SLURM_CPUS_PER_TASK"]))
    finished = resume_automatically(cfg)
    if finished is not None:
        return _optimized_metric(cfg, finished)
    # The same seed in every DDP process: they draw the global batch together and keep a slice (gan_zoo.parallel.sharding).
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    module, datamodule, plan = build(cfg)
    loggers = [instantiate(c) for c in (cfg.get("logger") or {}).values()]
    callbacks = [instantiate(c) for c in (cfg.get("callbacks") or {}).values()]
    trainer: pl.Trainer = instantiate(cfg.trainer, logger=loggers or False, callbacks=callbacks,
                                      max_epochs=plan.num_epochs)
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.ckpt_path)
    except RuntimeError as error:
        if "Error(s) in loading state_dict" not in str(error):
            raise
        detail = str(error).splitlines()[1].strip() if len(str(error).splitlines()) > 1 else str(error)
        raise ConfigError(f"ckpt_path {cfg.ckpt_path} holds a different model ({detail}): resume with the model, "
                          f"objective and lipschitz settings it was trained with") from error
    except SIGTERMException as stop:
        saved = [c.saved_path for c in callbacks if isinstance(c, CheckpointOnSignal) and c.saved_path]
        where = f"checkpoint saved to {saved[0]}; resume with ckpt_path={saved[0]}" if saved else "no checkpoint saved"
        raise Interrupted(f"stopped by a signal at generator iteration {module.gen_iter}: {where}") from stop

    metrics = {k: _scalar(v) for k, v in trainer.callback_metrics.items() if k not in ("step",)}
    metrics.update(gen_iter=module.gen_iter, critic_steps=module.critic_steps,
                   wall_time_s=round(time.perf_counter() - started, 3))
    output = Path(cfg.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    # Under DDP every rank evaluates; rank r > 0 writes metrics.rank<r>.json beside rank 0's metrics.json.
    name = METRICS_FILE if trainer.global_rank == 0 else f"metrics.rank{trainer.global_rank}.json"
    (output / name).write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    return _optimized_metric(cfg, metrics)


def _optimized_metric(cfg: DictConfig, metrics: dict[str, Any]) -> float:
    value = metrics.get(cfg.optimized_metric)
    if value is None:
        raise ConfigError(f"optimized_metric '{cfg.optimized_metric}' was not logged; "
                          f"choose one of: {', '.join(sorted(metrics))}")
    return value if math.isfinite(value) else float("nan")


@hydra.main(version_base="1.3", config_path="pkg://gan_zoo.conf", config_name="train")
def _hydra_main(cfg: DictConfig) -> float:
    try:
        return train(cfg)
    except Exception as error:  # noqa: BLE001 - user errors become one line, the rest propagate
        cause = user_error(error)
        if cause is None:
            raise
        report(cause)
        sys.exit(cause.exit_code)


def main() -> None:
    try:
        check_group_overrides(sys.argv[1:])
        check_output_folder(sys.argv[1:])
    except GanZooError as error:
        report(error)
        sys.exit(error.exit_code)
    _hydra_main()


if __name__ == "__main__":
    main()
