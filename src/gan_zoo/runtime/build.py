"""From a composed config to the objects of a run: the data module, the GANModule and the training plan.

Every object comes from a `_target_` node through Hydra's `instantiate`: the `module` node of conf/train.yaml names
the module's parts (nets as `_partial_` factories that receive `data_shape`, the objective, the Lipschitz strategy,
the optimizers, the learning-rate schedule and the critic schedule), so a new module option is one YAML key and
one constructor argument.
"""

from __future__ import annotations

from typing import Any

import pytorch_lightning as pl
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from gan_zoo.training.module import GANModule
from gan_zoo.training.schedule import TrainingPlan


def describe_run(cfg: DictConfig) -> dict[str, Any]:
    """The run's config as plain values (interpolations resolved), for checkpoints: everything needed to rebuild
    the module, and to know its data and metrics, without any other file. A node that cannot be resolved outside
    the running job (e.g. `${hydra:...}` in a test's compose) is kept unresolved."""
    described: dict[str, Any] = {}
    raw = OmegaConf.to_container(cfg, resolve=False)
    for key in cfg:
        if key == "hydra":
            continue
        try:
            value = OmegaConf.select(cfg, str(key))
            described[str(key)] = OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
        except OmegaConfBaseException:
            described[str(key)] = raw[key]
    return described


def build_module(cfg: DictConfig, data_shape: tuple[int, ...]) -> GANModule:
    """The GANModule that cfg.module describes, for data of `data_shape`, remembering the run's config."""
    module: GANModule = instantiate(cfg.module, data_shape=tuple(data_shape))
    module.run_config = describe_run(cfg)
    return module


def build(cfg: DictConfig) -> tuple[GANModule, pl.LightningDataModule, TrainingPlan]:
    """The module, data and plan a config describes."""
    datamodule = instantiate(cfg.data)
    module = build_module(cfg, datamodule.data_shape)
    plan = TrainingPlan(module.schedule, gen_iters=cfg.gen_iters, eval_every=cfg.eval_every)
    datamodule.set_plan(plan)
    return module, datamodule, plan

