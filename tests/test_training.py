"""Training through the real Hydra entry point: every pair, the schedule, logging, and learning."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch
from conftest import FAST, read_metrics, run_train

from gan_zoo.runtime.cli import group_options
from gan_zoo.data import eight_gaussians
from gan_zoo.nets import MLPGenerator

OBJECTIVES = [o for o in group_options("objective") if o != "ebgan"]
STRATEGIES = group_options("lipschitz")
PENALTY_TERMS = {"gp": ["gp"], "lp": ["lp"], "dragan": ["dragan"], "ct": ["gp", "ct"], "r1": ["r1"]}


def test_config_groups_are_complete() -> None:
    assert group_options("objective") == ["ebgan", "fgan", "hinge", "loss_sensitive", "lsgan", "minimax", "nsgan", "wgan"]
    assert STRATEGIES == ["clip", "ct", "dragan", "gp", "lp", "none", "r1", "sn"]


def check_sweep(sweep_dir: Path, objectives: list[str]) -> None:
    runs = sorted(p for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit())
    assert len(runs) == len(objectives) * len(STRATEGIES)
    seen = set()
    for run in runs:
        choices = {}
        for line in (run / ".hydra" / "overrides.yaml").read_text().splitlines():
            key, _, value = line.removeprefix("- ").partition("=")
            choices[key] = value
        metrics = read_metrics(run)
        assert metrics["gen_iter"] == 4 and metrics["critic_steps"] == 8, run
        for key in ("train/critic_loss", "train/generator_loss", "train/w_estimate", "val/w_estimate",
                    "train/grad_norm_mean", "train/grad_norm_max"):
            assert math.isfinite(metrics[key]), (run, key)
        for term in PENALTY_TERMS.get(choices["lipschitz"], []):
            assert math.isfinite(metrics[f"train/penalty/{term}"]), (run, term)
        seen.add((choices["objective"], choices["lipschitz"]))
    assert seen == {(o, s) for o in objectives for s in STRATEGIES}


def test_every_objective_and_strategy_trains(tmp_path: Path) -> None:
    sweep = tmp_path / "pairs"
    result = run_train([*FAST, "logger=none", f"objective={','.join(OBJECTIVES)}",
                        f"lipschitz={','.join(STRATEGIES)}"], sweep, multirun=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    check_sweep(sweep, OBJECTIVES)


def test_ebgan_trains_with_every_strategy(tmp_path: Path) -> None:
    sweep = tmp_path / "ebgan"
    result = run_train([*FAST, "logger=none", "objective=ebgan", "model=mlp_autoencoder",
                        f"lipschitz={','.join(STRATEGIES)}"], sweep, multirun=True)
    assert result.returncode == 0, result.stderr[-3000:]
    check_sweep(sweep, ["ebgan"])


def test_generator_steps_after_every_n_critic_updates(tmp_path: Path) -> None:
    result = run_train([*FAST, "n_critic=3", "gen_iters=5", "eval_every=5"], tmp_path / "run")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = read_metrics(tmp_path / "run")
    assert (metrics["gen_iter"], metrics["critic_steps"]) == (5, 15)


def test_wgan_warmup_and_ebgan_pretraining_extend_the_critic_schedule(tmp_path: Path) -> None:
    result = run_train([*FAST, "gen_iters=2", "wgan_warmup=true"], tmp_path / "warmup")
    assert result.returncode == 0, result.stderr[-3000:]
    assert read_metrics(tmp_path / "warmup")["critic_steps"] == 200
    result = run_train([*FAST, "objective=ebgan", "model=mlp_autoencoder", "objective.pretrain_steps=6"],
                       tmp_path / "pretrain")
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = read_metrics(tmp_path / "pretrain")
    assert metrics["critic_steps"] == 6 + 8 and math.isfinite(metrics["train/pretrain_loss"])


def test_metrics_are_logged_against_generator_iterations(tmp_path: Path) -> None:
    result = run_train([*FAST, "gen_iters=6", "eval_every=3"], tmp_path / "run")
    assert result.returncode == 0, result.stderr[-3000:]
    import csv

    rows = list(csv.DictReader((tmp_path / "run" / "csv" / "metrics.csv").open()))
    validations = [r for r in rows if r["val/w_estimate"]]
    assert [int(r["step"]) for r in validations] == [3, 6]  # every eval_every generator iterations
    steps = [int(r["step"]) for r in rows]
    assert steps == sorted(steps) and max(steps) == 6
    assert sorted((tmp_path / "run" / "checkpoints").iterdir())[-1].name == "last.ckpt"


def test_default_logger_is_wandb_offline_without_an_account(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB")}
    env.update(HOME=str(tmp_path), NETRC=str(tmp_path / "no-netrc"))
    args = [a for a in FAST if not a.startswith("logger=")]
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "gan_zoo.train", *args, f"hydra.run.dir={tmp_path / 'run'}"],
                            capture_output=True, text=True, timeout=300, env=env, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr[-3000:]
    offline_runs = list((tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert len(offline_runs) == 1
    assert list(offline_runs[0].glob("*.wandb"))


def test_train_returns_and_records_the_optimized_metric(tmp_path: Path) -> None:
    result = run_train([*FAST, "optimized_metric=train/w_estimate"], tmp_path / "run")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "train/w_estimate" in json.loads((tmp_path / "run" / "metrics.json").read_text())


def fraction_near_a_mode(checkpoint: Path | None, width: int) -> tuple[float, int]:
    generator = MLPGenerator((2,), z_dim=2, width=width)
    if checkpoint is not None:
        state = torch.load(checkpoint, weights_only=False)["state_dict"]
        generator.load_state_dict({k.removeprefix("generator."): v for k, v in state.items()
                                   if k.startswith("generator.")})
    with torch.no_grad():
        samples = generator(torch.randn(2500, 2, generator=torch.Generator().manual_seed(0)))
    distance = torch.cdist(samples, eight_gaussians().centers)
    near = distance.min(dim=1).values < 0.1  # modes are 1.08 apart; 0.1 is 7 standard deviations
    return float(near.float().mean()), int(distance.argmin(dim=1)[near].unique().numel())


def test_wgan_gp_learns_8gaussians(tmp_path: Path) -> None:
    """A quality check, not a timing: a seeded WGAN-GP puts most samples near one of the 8 modes."""
    args = ["objective=wgan", "lipschitz=gp", "lipschitz.lambda_=0.1", "data=8gaussians", "seed=0",
            "gen_iters=800", "eval_every=400", "model.generator.width=128", "model.critic.width=128",
            "optim.generator.lr=1e-3", "optim.critic.lr=1e-3", "logger=csv"]
    result = run_train(args, tmp_path / "run", timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    untrained, _ = fraction_near_a_mode(None, 128)
    fraction, modes = fraction_near_a_mode(tmp_path / "run" / "checkpoints" / "last.ckpt", 128)
    assert untrained < 0.1
    assert fraction > 0.5 and modes == 8, (fraction, modes)


def test_every_experiment_config_runs(tmp_path: Path) -> None:
    from test_image_training import PAPER_SETUPS  # the image set-ups run on digits there

    experiments = [e for e in group_options("experiment") if e not in PAPER_SETUPS]
    assert set(experiments) >= {"wgan_gp_toy", "wgan_clip_toy", "sngan_toy", "ebgan_toy", "toy_modes_r1"}
    sweep = tmp_path / "experiments"
    result = run_train([f"experiment={','.join(experiments)}", "gen_iters=2", "eval_every=2", "logger=none",
                        "data.val_size=64"], sweep, multirun=True)
    assert result.returncode == 0, result.stderr[-3000:]
    for job in range(len(experiments)):
        assert read_metrics(sweep / str(job))["gen_iter"] == 2


def test_sweep_over_the_clip_value_reaches_the_strategy(tmp_path: Path) -> None:
    sweep = tmp_path / "clip"
    result = run_train([*FAST, "logger=none", "objective=wgan", "lipschitz=clip", "optim=rmsprop",
                        "lipschitz.c=0.001,0.1", "seed=0,1"], sweep, multirun=True)
    assert result.returncode == 0, result.stderr[-3000:]
    by_c: dict[float, list[float]] = {}
    for job in sorted(p for p in sweep.iterdir() if p.name.isdigit()):
        c = float(next(line for line in (job / ".hydra" / "overrides.yaml").read_text().splitlines()
                       if "lipschitz.c=" in line).split("=")[1])
        by_c.setdefault(c, []).append(read_metrics(job)["train/grad_norm_max"])
    assert sorted(by_c) == [0.001, 0.1] and all(len(v) == 2 for v in by_c.values())
    # a critic clipped to ±0.001 is orders of magnitude flatter than one clipped to ±0.1
    assert max(by_c[0.001]) * 100 < min(by_c[0.1])


def test_gradient_norms_are_measured_for_strategies_without_penalty_points(tmp_path: Path) -> None:
    # logging every 4th critic step: the norms must be measured on exactly those steps
    result = run_train([*FAST, "lipschitz=sn", "objective=hinge", "trainer.log_every_n_steps=4"], tmp_path / "run")
    assert result.returncode == 0, result.stderr[-3000:]
    import csv

    rows = [r for r in csv.DictReader((tmp_path / "run" / "csv" / "metrics.csv").open()) if r["train/critic_loss"]]
    assert len(rows) == 2 and all(float(r["train/grad_norm_max"]) > 0 for r in rows)
