"""The composed callbacks and data configs: one YAML per callback, checkpointing not dropped by accident, shared
data keys in bases (conf/data/base/) that are not options themselves."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from gan_zoo.errors import ConfigError
from gan_zoo.runtime.cli import check_group_overrides, group_options

EVERY_CALLBACK = ["progress_bar", "model_checkpoint", "checkpoint_on_signal", "remember_wandb_run",
                  "remember_logged_rows", "toy_metrics", "stacked_modes", "critic_plots", "image_metrics", "sample_grid"]
CHECKPOINTING = ["model_checkpoint", "checkpoint_on_signal", "remember_wandb_run", "remember_logged_rows"]


def composed(*overrides: str) -> dict:
    with initialize_config_module("gan_zoo.conf", version_base="1.3"):
        return OmegaConf.to_container(compose("train", overrides=list(overrides)), resolve=False)


def test_the_default_callbacks_are_every_callback() -> None:
    assert list(composed()["callbacks"]) == EVERY_CALLBACK


@pytest.mark.parametrize("name", EVERY_CALLBACK)
def test_each_callback_can_be_dropped(name: str) -> None:
    default = composed()["callbacks"]
    dropped = composed(f"~callbacks.{name}")["callbacks"]
    assert dropped == {key: value for key, value in default.items() if key != name}


def test_minimal_callbacks_keep_checkpointing() -> None:
    default = composed()["callbacks"]
    assert composed("callbacks=minimal")["callbacks"] == {name: default[name] for name in CHECKPOINTING}


def test_no_option_drops_checkpointing_silently() -> None:
    assert group_options("callbacks") == ["default", "minimal"]
    with pytest.raises(ConfigError, match="unknown callbacks 'none'; choose one of: default, minimal"):
        check_group_overrides(["callbacks=none"])
    assert "callbacks" not in composed("~callbacks")  # no callbacks at all has to be asked for by name


def test_data_bases_are_not_options() -> None:
    assert group_options("data") == ["25gaussians", "8gaussians", "celeba", "cifar10", "digits", "fashion_mnist",
                                     "folder", "grid", "mnist", "ring", "stacked_digits", "swissroll"]
    with pytest.raises(ConfigError, match="unknown data 'base/toy'"):
        check_group_overrides(["data=base/toy"])


@pytest.mark.parametrize("name", ["8gaussians", "25gaussians", "ring", "grid", "swissroll"])
def test_toy_data_options_differ_only_in_their_distribution(name: str) -> None:
    data = composed(f"data={name}", "data.batch_size=128")["data"]
    assert data.pop("distribution")["_target_"].startswith("gan_zoo.data.")
    assert data == {"_target_": "gan_zoo.data.ToyDataModule", "batch_size": 128, "val_size": 2500,
                    "seed": "${seed}", "val_seed": 1234}  # the base's keys, overridable as data.<key>


@pytest.mark.parametrize("name", ["mnist", "fashion_mnist", "cifar10", "digits", "folder", "celeba"])
def test_image_data_options_keep_their_keys(name: str) -> None:
    data = composed(f"data={name}")["data"]
    assert {"_target_", "image_size", "channels", "batch_size", "val_size", "in_memory", "num_workers", "seed",
            "val_seed"} <= set(data)
    assert data["in_memory"] is (name != "celeba")
