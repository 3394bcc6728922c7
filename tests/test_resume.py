"""Resuming: a run continued from its checkpoint at generator iteration K ends exactly where an uninterrupted
run ends; checkpoint files are replaced atomically and never hold non-finite weights."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from conftest import read_metrics, run_train
from gan_zoo.runtime.checkpoint_io import AtomicCheckpointIO

RESUMABLE = ["gen_iters=8", "eval_every=4", "n_critic=2", "data=ring", "data.batch_size=32", "data.val_size=64",
             "model.generator.width=32", "model.critic.width=32", "logger=csv", "trainer.log_every_n_steps=1",
             "callbacks.model_checkpoint.save_top_k=-1", "ema_decay=0.5"]


def logged_after(run: Path, k: int) -> list[dict[str, str]]:
    (metrics,) = run.glob("csv/**/metrics.csv")
    return [row for row in csv.DictReader(metrics.open()) if row.get("step") and float(row["step"]) > k]


@pytest.mark.parametrize("pair", [["objective=wgan", "lipschitz=gp"], ["objective=hinge", "lipschitz=sn"],
                                  ["objective=wgan", "lipschitz=ct"]], ids=["gp", "sn", "ct-dropout"])
def test_resume_from_iteration_k_matches_an_uninterrupted_run(tmp_path: Path, pair: list[str]) -> None:
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    assert run_train([*RESUMABLE, *pair], whole).returncode == 0
    result = run_train([*RESUMABLE, *pair, f"ckpt_path={whole / 'checkpoints' / 'gen_iter_4.ckpt'}"], resumed)
    assert result.returncode == 0, result.stderr[-3000:]
    a = torch.load(whole / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    b = torch.load(resumed / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert a["gan_zoo_progress"] == b["gan_zoo_progress"] == {"gen_iter": 8, "critic_steps": 16, "phase": 0}
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for key, value in a["state_dict"].items():  # G, D, EMA copy, spectral-norm u vectors
        assert torch.allclose(value.float(), b["state_dict"][key].float(), atol=1e-6, rtol=0), key
    rows_a, rows_b = logged_after(whole, 4), logged_after(resumed, 4)
    assert len(rows_a) == len(rows_b) > 0
    for row_a, row_b in zip(rows_a, rows_b, strict=True):
        for key, value in row_a.items():
            if value and key != "epoch":
                assert float(value) == pytest.approx(float(row_b[key]), abs=1e-6, nan_ok=True), key
    assert read_metrics(whole)["val/w_estimate"] == pytest.approx(read_metrics(resumed)["val/w_estimate"], abs=1e-6)


class Unpicklable:
    def __reduce__(self):
        raise RuntimeError("killed mid-write")


def test_a_failed_write_leaves_the_previous_checkpoint_and_no_temporary_file(tmp_path: Path) -> None:
    io = AtomicCheckpointIO()
    target = tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"weights": torch.ones(3)}, target)
    with pytest.raises(RuntimeError, match="killed mid-write"):
        io.save_checkpoint({"weights": torch.zeros(3), "bad": Unpicklable()}, target)
    assert torch.equal(torch.load(target, weights_only=True)["weights"], torch.ones(3))
    assert [p.name for p in target.parent.iterdir()] == ["last.ckpt"]


def test_a_resumed_run_continues_the_same_wandb_run(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    args = [*RESUMABLE, "logger=wandb"]
    assert run_train(args, first).returncode == 0
    result = run_train([*args, f"ckpt_path={first / 'checkpoints' / 'gen_iter_4.ckpt'}"], second)
    assert result.returncode == 0, result.stderr[-3000:]
    (run_a,) = (first / "wandb").glob("offline-run-*")
    (run_b,) = (second / "wandb").glob("offline-run-*")
    run_id = run_a.name.rsplit("-", 1)[1]
    assert run_b.name.rsplit("-", 1)[1] == run_id  # `wandb sync` of both folders gives one run
    assert torch.load(first / "checkpoints" / "last.ckpt", weights_only=True)["gan_zoo_wandb_run_id"] == run_id
