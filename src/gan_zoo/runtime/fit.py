"""One training run, from a composed and validated config to metrics.json (imported only once the config has been
checked: this is where torch, Lightning and everything else get imported)."""

from __future__ import annotations

import logging
import math
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities.exceptions import SIGTERMException

from gan_zoo import compat
from gan_zoo.callbacks.preemption import interrupted
from gan_zoo.errors import ConfigError, NonFiniteLossError, require
from gan_zoo.runtime import divergence, preflight, quiet, run_folder
from gan_zoo.runtime.build import build
from gan_zoo.runtime.metrics_file import METRICS_FILE, read_metrics, write_metrics
from gan_zoo.runtime.run_summary import modes_of, summary
from gan_zoo.runtime.threads import set_threads
from gan_zoo.training.checkpoint_state import METRICS_KEY, PROGRESS_KEY

log = logging.getLogger(__name__)

# Lightning 2.6 with torch >= 2.10 warns about its own use of a torch pytree API on every run.
warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\).*")
# Under DDP every rank evaluates the same samples (gan_zoo.parallel.sharding), so epoch-level values need no sync_dist.
warnings.filterwarnings("ignore", message=r"It is recommended to use `self.log\('(val/|gen_iter|step)")


def validate_files(cfg: DictConfig) -> None:
    """The files a config names (the checkpoint to resume from) exist and are readable."""
    require(cfg.ckpt_path is None or Path(cfg.ckpt_path).is_file(),
            f"ckpt_path {cfg.ckpt_path} is not a file: point it at a checkpoint, e.g. <run>/checkpoints/last.ckpt")
    # torch.save writes a zip archive whose directory is at the end: a truncated file is not a valid zip.
    require(cfg.ckpt_path is None or zipfile.is_zipfile(cfg.ckpt_path),
            f"ckpt_path {cfg.ckpt_path} is truncated or not a checkpoint: resume from an earlier one in the same folder")


def _scalar(value: Any) -> float:
    return float(value.item() if isinstance(value, torch.Tensor) else value)


def resume_automatically(cfg: DictConfig) -> dict[str, Any] | None:
    """With auto_resume and no ckpt_path: point ckpt_path at checkpoint_dir/last.ckpt when it exists (a requeued
    job, a sweep re-run into the same folder). Returns the metrics of a run that had already finished, or its
    divergence record if it diverged (gan_zoo.runtime.divergence)."""
    if cfg.ckpt_path is not None or not cfg.get("auto_resume", False):
        return None
    finished = Path(cfg.output_dir) / METRICS_FILE
    if finished.is_file():
        log.info("%s exists: this run finished before; not training it again", finished)
        return read_metrics(finished)
    last = Path(cfg.checkpoint_dir) / "last.ckpt"
    if last.is_file():
        recorded = metrics_at_end(last, int(cfg.gen_iters))
        if recorded is not None:  # killed after the last checkpoint, before metrics.json was written
            log.info("%s is at the end of training: writing %s from the metrics it recorded", last, finished)
            write_metrics(finished, recorded)
            return recorded
        log.info("resuming from %s (auto_resume)", last)
        cfg.ckpt_path = str(last)
    return None


def metrics_at_end(checkpoint_path: Path, gen_iters: int) -> dict[str, Any] | None:
    """The metrics a checkpoint at the end of training recorded (the last validation's), with its progress; None
    when training is not over there (or the file is unreadable: resuming reports that)."""
    try:  # memory-mapped: the weights are not read
        checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # noqa: BLE001 - the trainer reports unreadable checkpoints itself
        return None
    progress, metrics = checkpoint.get(PROGRESS_KEY) or {}, checkpoint.get(METRICS_KEY)
    if metrics is None or int(progress.get("gen_iter", 0)) < gen_iters:
        return None
    metrics = {k: v for k, v in metrics.items() if k != "step"}  # as _train writes them
    return {**metrics, "gen_iter": progress["gen_iter"], "critic_steps": progress["critic_steps"]}


def train(cfg: DictConfig) -> float:
    """Train one configuration; write metrics.json to the run folder; return cfg.optimized_metric."""
    with run_folder.hold(cfg.output_dir):  # a run folder belongs to one run (gan_zoo.runtime.run_folder)
        return _train(cfg)


def _train(cfg: DictConfig) -> float:
    started = time.perf_counter()
    quiet.install(cfg)  # drop the frameworks' lines that tell a user nothing (gan_zoo.runtime.quiet)
    compat.check_versions()
    set_threads(cfg.get("threads"))  # null: SLURM_CPUS_PER_TASK if set, else torch's default
    finished = resume_automatically(cfg)
    if finished is not None:
        diverged = divergence.diverged(finished)  # a diverged run is finished too (gan_zoo.runtime.divergence)
        return divergence.replay(cfg, finished) if diverged else _optimized_metric(cfg, finished)
    # The same seed in every DDP process: they draw the global batch together and keep a slice (gan_zoo.parallel.sharding).
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    validate_files(cfg)
    preflight.check(cfg)  # optimized_metric is logged; the checkpoint fits this run
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
        if not compat.is_state_dict_mismatch(error):
            raise
        detail = compat.state_dict_mismatch_detail(error)
        raise ConfigError(f"ckpt_path {cfg.ckpt_path} holds a different model ({detail}): resume with the model, "
                          f"objective and lipschitz settings it was trained with") from error
    except NonFiniteLossError as error:  # recorded in metrics.json; the sweep goes on (gan_zoo.runtime.divergence)
        return divergence.diverge(cfg, error, gen_iter=module.gen_iter, wall_time_s=time.perf_counter() - started,
                                  write=trainer.global_rank == 0)
    except SIGTERMException as stop:
        raise interrupted(callbacks, module.gen_iter) from stop

    metrics = {k: _scalar(v) for k, v in trainer.callback_metrics.items() if k not in ("step",)}
    metrics.update(gen_iter=module.gen_iter, critic_steps=module.critic_steps,
                   wall_time_s=round(time.perf_counter() - started, 3))
    output = Path(cfg.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    # Under DDP every rank evaluates; rank r > 0 writes metrics.rank<r>.json beside rank 0's metrics.json.
    name = METRICS_FILE if trainer.global_rank == 0 else f"metrics.rank{trainer.global_rank}.json"
    write_metrics(output / name, metrics)
    if trainer.global_rank == 0:
        log.info(summary(output, metrics, modes_of(datamodule), loggers, toy=modes_of(datamodule) is not None or
                         "val/w1_exact" in metrics))
    return _optimized_metric(cfg, metrics)


def _optimized_metric(cfg: DictConfig, metrics: dict[str, Any]) -> float:
    value = metrics.get(cfg.optimized_metric)
    if value is None:
        raise ConfigError(f"optimized_metric '{cfg.optimized_metric}' was not logged; "
                          f"choose one of: {', '.join(sorted(metrics))}")
    return value if math.isfinite(value) else float("nan")
