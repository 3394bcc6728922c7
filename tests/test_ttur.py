"""TTUR (Heusel et al. 2017): separate critic and generator learning rates in every optimizer config, and the
ttur_toy / ttur_digits experiments through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from conftest import read_metrics, run_train
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from gan_zoo.runtime.cli import group_options


def composed(*overrides: str) -> dict:
    """The config with interpolations resolved where they can be outside a job (the optimizers' nodes)."""
    with initialize_config_module("gan_zoo.conf", version_base="1.3"):
        cfg = compose("train", overrides=list(overrides))
    return {"optim": OmegaConf.to_container(cfg.optim, resolve=True),
            "module": {key: OmegaConf.to_container(cfg.module[key], resolve=True)
                       for key in ("generator_optimizer", "critic_optimizer")},
            "n_critic": cfg.n_critic}


def test_every_optimizer_config_is_listed() -> None:
    assert group_options("optim") == ["adam", "adam_sngan", "rmsprop"]


@pytest.mark.parametrize("optim", group_options("optim"))
def test_each_player_s_rate_is_overridden_alone(optim: str) -> None:
    default = composed(f"optim={optim}")["optim"]
    critic_only = composed(f"optim={optim}", "optim.critic.lr=0.123")
    generator_only = composed(f"optim={optim}", "optim.generator.lr=0.456")
    assert critic_only["optim"]["critic"]["lr"] == 0.123
    assert critic_only["optim"]["generator"] == default["generator"]
    assert generator_only["optim"]["generator"]["lr"] == 0.456
    assert generator_only["optim"]["critic"] == default["critic"]
    # what the module is built from follows its own player's node
    assert critic_only["module"]["critic_optimizer"]["lr"] == 0.123
    assert critic_only["module"]["generator_optimizer"]["lr"] == default["generator"]["lr"]
    assert generator_only["module"]["generator_optimizer"]["lr"] == 0.456
    assert generator_only["module"]["critic_optimizer"]["lr"] == default["critic"]["lr"]


@pytest.mark.parametrize("experiment", ["ttur_toy", "ttur_digits"])
def test_ttur_experiments_update_the_critic_faster_once_per_generator_update(experiment: str) -> None:
    cfg = composed(f"experiment={experiment}")
    assert cfg["n_critic"] == 1
    for player, lr in (("generator", 1e-4), ("critic", 4e-4)):
        assert cfg["optim"][player] == {"_target_": "torch.optim.Adam", "_partial_": True, "lr": lr,
                                        "betas": [0.0, 0.9]}
    slower_critic = composed(f"experiment={experiment}", "optim.critic.lr=3e-4")["optim"]
    assert slower_critic["critic"]["lr"] == 3e-4 and slower_critic["generator"]["lr"] == 1e-4


def test_ttur_experiments_train_through_the_cli(tmp_path: Path) -> None:
    sweep = tmp_path / "ttur"
    result = run_train(["experiment=ttur_toy,ttur_digits", "gen_iters=3", "eval_every=3", "data.batch_size=16",
                        "data.val_size=64", "model.generator.width=8", "model.critic.width=8",
                        "metrics.num_fake=64", "logger=none"], sweep, multirun=True)
    assert result.returncode == 0, result.stderr[-3000:]
    for job, key in ((0, "val/w1_exact"), (1, "val/fid")):  # the toy's and the digits' own metrics
        run = sweep / str(job)
        metrics = read_metrics(run)
        assert metrics["gen_iter"] == 3 and metrics[key] == metrics[key], (job, key)  # logged, not NaN
        checkpoint = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
        assert checkpoint["gan_zoo_progress"]["critic_steps"] == 3  # n_critic = 1
        generator, critic = checkpoint["optimizer_states"]  # GANModule.configure_optimizers' order
        assert [group["lr"] for group in generator["param_groups"]] == [1e-4]
        assert [group["lr"] for group in critic["param_groups"]] == [4e-4]
        assert {float(state["step"]) for state in critic["state"].values()} == {3.0}  # one Adam step per iteration
