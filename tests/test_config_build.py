"""The module is built from the config alone, and a checkpoint alone rebuilds it (GANModule.load_from_checkpoint)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import FAST, run_train
from hydra import compose, initialize_config_module

from gan_zoo.errors import ConfigError
from gan_zoo.objectives import HingeGAN
from gan_zoo.runtime.build import build
from gan_zoo.training.module import GANModule


def composed(*overrides: str, tmp_path: Path):
    with initialize_config_module("gan_zoo.conf", version_base="1.3"):
        return compose("train", overrides=[*overrides, f"output_dir={tmp_path}"], return_hydra_config=True)


def test_the_module_node_describes_every_part(tmp_path: Path) -> None:
    cfg = composed("objective=hinge", "lipschitz=sn", "n_critic=3", "ema_decay=0.5", "model.critic.width=16",
                   tmp_path=tmp_path)
    module, datamodule, plan = build(cfg)
    assert isinstance(module.objective, HingeGAN)
    assert module.schedule.n_critic == 3 and plan.schedule == module.schedule
    assert module.critic.body[0].parametrizations.weight  # spectral norm was applied at build time
    assert module.critic.body[0].out_features == 16 and module.data_shape == datamodule.data_shape == (2,)
    assert module.generator_ema is not None
    # the described run is plain data: objective, strategy and their values, resolved
    assert module.run_config["module"]["objective"]["_target_"] == "gan_zoo.objectives.HingeGAN"
    assert module.run_config["n_critic"] == 3 and module.run_config["schedule"]["n_critic"] == 3


def test_a_checkpoint_alone_rebuilds_its_module(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_train([*FAST, "logger=none", "objective=hinge", "lipschitz=sn", "ema_decay=0.5"], run)
    assert result.returncode == 0, result.stderr[-3000:]
    path = run / "checkpoints" / "last.ckpt"
    module = GANModule.load_from_checkpoint(path)
    stored = torch.load(path, map_location="cpu", weights_only=True)
    assert not module.training and module.gen_iter == 4
    assert isinstance(module.objective, HingeGAN)
    loaded = module.state_dict()
    assert loaded.keys() == stored["state_dict"].keys()  # G, D with spectral-norm vectors, the EMA copy
    for key, value in stored["state_dict"].items():
        assert torch.equal(loaded[key], value), key
    samples = module.sample(8, seed=0)
    assert samples.shape == (8, 2) and torch.equal(samples, module.sample(8, seed=0))
    assert module.run_config["gen_iters"] == 4


def test_a_file_that_is_not_a_gan_zoo_checkpoint_is_one_clear_error(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {}}, foreign)
    with pytest.raises(ConfigError, match="is not a gan_zoo checkpoint"):
        GANModule.load_from_checkpoint(foreign)
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(ConfigError, match="is truncated or not a checkpoint"):
        GANModule.load_from_checkpoint(garbage)
