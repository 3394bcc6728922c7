"""Does the checkpoint to resume from fit this run? Checked from the file before anything is built.

Without this check, a WGAN checkpoint resumed with `objective=lsgan` trains on as LSGAN and exits 0 (the weights
fit either objective), an Adam checkpoint resumed with `optim=rmsprop` stops with `KeyError: 'square_avg'` from
inside torch's optimizer, and a checkpoint already at `gen_iters` "finishes" at once without training.

Every gan_zoo checkpoint stores its run's resolved config under "gan_zoo_config" and its progress under
"gan_zoo_progress" (gan_zoo.training.checkpoint_state). Only those two entries are read: `torch.load` with
`mmap=True` maps the file instead of reading every tensor, and `weights_only=True` runs no pickled code.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from gan_zoo.errors import ConfigError
from gan_zoo.training.checkpoint_state import CONFIG_KEY, PROGRESS_KEY

CONFIG_PACKAGE = "gan_zoo.conf"
# The parts of a run whose class must be the same to resume: their state (weights, optimizer moments) is in
# the checkpoint, or they give that state its meaning.
COMPARED = ("objective", "lipschitz", "generator_loss", "regularizer", "optim.generator", "optim.critic",
            "model.generator", "model.critic")


def read_header(path: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(progress, stored config) of a gan_zoo checkpoint, reading little more than those entries."""
    try:
        checkpoint = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch's unpickling errors have many types
        raise ConfigError(f"ckpt_path {path} cannot be read ({type(error).__name__}): is it a gan_zoo "
                          "checkpoint? Use a file from a run's checkpoints/ folder") from error
    if not isinstance(checkpoint, dict) or PROGRESS_KEY not in checkpoint:
        raise ConfigError(f"ckpt_path {path} is not a gan_zoo checkpoint (no {PROGRESS_KEY} entry): use a file "
                          "from a run's checkpoints/ folder")
    return checkpoint[PROGRESS_KEY], checkpoint.get(CONFIG_KEY) or {}


def _short(target: str) -> str:
    return target.rsplit(".", 1)[-1]


def options_with_target(key: str, target: str) -> list[str]:
    """The shipped options of key's group (objective, model, ...) whose `<rest of key>._target_` is target,
    e.g. ("objective", "gan_zoo.objectives.WassersteinGAN") → ["objective=wgan"]."""
    group, _, inner = key.partition(".")
    folder = resources.files(CONFIG_PACKAGE) / group
    if not folder.is_dir():
        return []
    found = []
    for file in sorted(folder.iterdir(), key=lambda f: f.name):
        if not file.name.endswith(".yaml"):
            continue
        node = OmegaConf.create(file.read_text())
        selected = OmegaConf.select(node, f"{inner}._target_" if inner else "_target_", default=None)
        if selected == target:
            found.append(f"{group}={file.name[:-5]}")
    return found


def check_same_parts(cfg: DictConfig, path: str, trained: dict[str, Any]) -> None:
    stored = OmegaConf.create(trained)
    for key in COMPARED:
        before = OmegaConf.select(stored, f"{key}._target_", default=None, throw_on_missing=False)
        now = OmegaConf.select(cfg, f"{key}._target_", default=None, throw_on_missing=False)
        if before and now and before != now:
            options = options_with_target(key, before)
            how = f"resume with {' or '.join(options)}" if options else f"resume with {key} {before}"
            raise ConfigError(f"ckpt_path {path} was trained with {key} {_short(before)}; this run asks for "
                              f"{_short(now)}: {how}, or start a new run without ckpt_path")


def check_progress(cfg: DictConfig, path: str, progress: dict[str, Any]) -> None:
    done, wanted = int(progress.get("gen_iter", 0)), int(cfg.gen_iters)
    if done >= wanted:
        raise ConfigError(f"ckpt_path {path} is at generator iteration {done} and this run's gen_iters is {wanted}: "
                          f"nothing is left to train; set gen_iters above {done} to train it further (with a "
                          f"decaying schedule, lr_scheduler=linear or the default job's tuned one, the rate stays at "
                          f"the checkpoint's schedule, which ended at 0)")


def same_nets(cfg: DictConfig, trained: dict[str, Any]) -> bool:
    """Whether the nets are configured as in the checkpoint (every value of `model`, not just the classes)."""
    before = trained.get("model")
    now = OmegaConf.to_container(cfg.model, resolve=True) if "model" in cfg else None
    return before is None or before == now


def check_checkpoint(cfg: DictConfig) -> None:
    """The checkpoint at cfg.ckpt_path (if any) was trained with the same parts and has iterations left.

    Nets of the same classes but other sizes (model.critic.width) are left to the state-dict load, which names
    the first tensor that differs (gan_zoo.runtime.fit); the progress is checked only when the nets match, so
    that the more basic problem is the one reported."""
    if cfg.get("ckpt_path") is None:
        return
    progress, trained = read_header(cfg.ckpt_path)
    check_same_parts(cfg, str(cfg.ckpt_path), trained)
    if same_nets(cfg, trained):
        check_progress(cfg, str(cfg.ckpt_path), progress)
