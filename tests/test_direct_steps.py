"""Updates skip Lightning's manual_backward / LightningOptimizer.step machinery only when it would add nothing."""

from __future__ import annotations

import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_module
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from pytorch_lightning.plugins.precision import MixedPrecision, Precision
from pytorch_lightning.profilers import PassThroughProfiler, SimpleProfiler
from pytorch_lightning.strategies import SingleDeviceStrategy

from gan_zoo.training.direct_steps import lightning_adds_nothing
from gan_zoo.parallel.distributed import SeparateDDPStrategy, WholeModuleDDPStrategy
from gan_zoo.training.module import GANModule
from gan_zoo.runtime.build import build

OVERRIDES = ["gen_iters=6", "eval_every=3", "n_critic=3", "data.batch_size=32", "data.val_size=64", "logger=none",
             "model.generator.width=16", "model.critic.width=16", "trainer.accelerator=cpu", "lipschitz=gp",
             "ema_decay=0.5"]


class WatchesGradients(pl.Callback):
    """A callback that reads gradients after each backward: Lightning's hooks must then run."""

    def __init__(self) -> None:
        self.calls = 0

    def on_after_backward(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.calls += 1


def train(tmp_path: Path, callbacks: list[pl.Callback]) -> tuple[GANModule, pl.Trainer]:
    logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)
    with initialize_config_module("gan_zoo.conf", version_base="1.3"):
        cfg = compose("train", overrides=[*OVERRIDES, f"output_dir={tmp_path}"], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    pl.seed_everything(cfg.seed, verbose=False)
    module, datamodule, plan = build(cfg)
    trainer = instantiate(cfg.trainer, max_epochs=plan.num_epochs, logger=False,
                          callbacks=[*(instantiate(c) for c in cfg.callbacks.values()), *callbacks])
    trainer.fit(module, datamodule=datamodule)
    return module, trainer


def test_direct_updates_train_exactly_like_lightnings(tmp_path: Path) -> None:
    direct, direct_trainer = train(tmp_path / "direct", [])
    watcher = WatchesGradients()
    hooked, hooked_trainer = train(tmp_path / "hooked", [watcher])
    assert direct._direct_steps and not hooked._direct_steps
    assert watcher.calls == hooked.critic_steps + hooked.gen_iter  # every backward went through Lightning
    assert direct_trainer.global_step == hooked_trainer.global_step == 18 + 6  # every optimizer step counted
    for key, value in direct.state_dict().items():
        assert torch.equal(value, hooked.state_dict()[key]), key


def _trainer(**changes: object) -> SimpleNamespace:
    module = GANModule.__new__(GANModule)  # the class's hooks are what is checked
    fields = {"precision_plugin": Precision(), "strategy": SingleDeviceStrategy(torch.device("cpu")),
              "profiler": PassThroughProfiler(), "lightning_module": module, "callbacks": []}
    return SimpleNamespace(**{**fields, **changes})


def _with_model_averaging(strategy: SeparateDDPStrategy) -> SeparateDDPStrategy:
    strategy._model_averager = object()  # what DDPStrategy's set-up leaves when model_averaging_period is set
    return strategy


@pytest.mark.parametrize(("changes", "direct"), [
    ({}, True),
    ({"precision_plugin": MixedPrecision("bf16-mixed", "cpu")}, True),
    ({"precision_plugin": MixedPrecision("16-mixed", "cpu", scaler=torch.amp.GradScaler("cpu"))}, False),
    ({"strategy": WholeModuleDDPStrategy()}, False),
    ({"strategy": SeparateDDPStrategy()}, True),
    ({"strategy": _with_model_averaging(SeparateDDPStrategy())}, False),
    ({"profiler": SimpleProfiler()}, False),
    ({"callbacks": [WatchesGradients()]}, False),
], ids=["32-true", "bf16-mixed", "16-mixed with a scaler", "whole-module DDP", "separate DDP",
        "separate DDP with post-local-SGD averaging", "a profiler",
        "a gradient hook"])
def test_when_lightning_adds_nothing(changes: dict, direct: bool) -> None:
    assert lightning_adds_nothing(_trainer(**changes)) is direct
