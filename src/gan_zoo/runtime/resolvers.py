"""The OmegaConf resolvers gan_zoo's configs use, registered once when the package is imported."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf


def sweep_group(mode: object, sweep_dir: str) -> str | None:
    """W&B group of a sweep's runs: the sweep folder's name (None outside a sweep)."""
    return Path(sweep_dir).name if str(mode).endswith("MULTIRUN") else None


def gpus_per_node(accelerator: str, devices: object) -> object:
    """hydra/launcher=slurm: GPUs per node are the trainer's devices, unless it trains on CPUs."""
    return None if accelerator == "cpu" else devices


def register() -> None:
    """Register (or re-register) every resolver; safe to call more than once."""
    OmegaConf.register_new_resolver("min", lambda *values: min(values), replace=True)
    OmegaConf.register_new_resolver("sweep_group", sweep_group, replace=True)
    OmegaConf.register_new_resolver("gpus_per_node", gpus_per_node, replace=True)
