"""Shared helpers: run the real entry point in a subprocess, with W&B offline and no network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from gan_zoo.nets import Critic, CriticOutput
from gan_zoo.runtime import metrics_file

FAST = ["gen_iters=4", "eval_every=2", "n_critic=2", "data.batch_size=32", "data.val_size=64",
        "model.generator.width=32", "model.critic.width=32", "logger=csv", "trainer.log_every_n_steps=1"]


def run_train(args: list[str], run_dir: Path, multirun: bool = False, timeout: int = 600,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    where = f"hydra.sweep.dir={run_dir}" if multirun else f"hydra.run.dir={run_dir}"
    command = [sys.executable, "-m", "gan_zoo.train", *(["-m"] if multirun else []), *args, where]
    full_env = {**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=full_env, cwd=run_dir.parent)


def read_metrics(run_dir: Path) -> dict:
    return metrics_file.read_metrics(run_dir / "metrics.json")  # non-finite values restored (null in the file)


class QuadraticCritic(Critic):
    """D(x) = ½‖x‖², so ∇D(x) = x and ‖∇D(x)‖ = ‖x‖ per sample: every penalty is computable by hand."""

    def forward(self, x: Tensor) -> CriticOutput:
        flat = x.flatten(1)
        return CriticOutput(0.5 * (flat**2).sum(dim=1), flat)


@pytest.fixture
def quadratic_critic() -> nn.Module:
    return QuadraticCritic()


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
