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


def save_top_k(keep: object) -> object:
    """keep_checkpoints → ModelCheckpoint's save_top_k (monitoring gen_iter, mode max): all → -1, last → 1, N → N.
    Anything else is passed on unchanged for the schema to refuse with a clear line."""
    return {"all": -1, "last": 1}.get(keep, keep) if isinstance(keep, str) else keep


def register() -> None:
    """Register (or re-register) every resolver; safe to call more than once."""
    OmegaConf.register_new_resolver("min", lambda *values: min(values), replace=True)
    OmegaConf.register_new_resolver("sweep_group", sweep_group, replace=True)
    OmegaConf.register_new_resolver("gpus_per_node", gpus_per_node, replace=True)
    OmegaConf.register_new_resolver("save_top_k", save_top_k, replace=True)
