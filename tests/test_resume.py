"""Resuming: a run continued from its checkpoint at generator iteration K, or stopped by SIGTERM anywhere between
two validations and resumed, ends exactly where an uninterrupted run ends, with the same logged rows; checkpoint
files are replaced atomically and never hold non-finite weights."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from conftest import read_metrics, run_train
from stopping import assert_same_rows, assert_same_weights, csv_rows, stop_and_resume
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


# ------------------------------------------------------------------------------------ stopped between validations
MID = ["gen_iters=8", "eval_every=4", "n_critic=2", "data.val_size=10", "logger=csv", "trainer.log_every_n_steps=1",
       "~callbacks.critic_plots", "callbacks.toy_metrics.num_samples=64"]
TOY = ["data=ring", "data.batch_size=32", "model.generator.width=32", "model.critic.width=32"]
IMAGES = ["model=dcgan", "model.generator.width=8", "model.critic.width=8", "data.image_size=28", "data.channels=1",
          "data.batch_size=8", "metrics=digits", "metrics.num_fake=32", "metrics.num_real=32"]


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 small random RGB images of another size than the model's (cropped and resized when read)."""
    from PIL import Image  # noqa: PLC0415

    folder = tmp_path_factory.mktemp("images")
    rng = torch.Generator().manual_seed(0)
    for i in range(40):
        pixels = torch.randint(0, 256, (36, 40, 3), dtype=torch.uint8, generator=rng)
        Image.fromarray(pixels.numpy()).save(folder / f"{i:03d}.png")
    return folder


CASES = {  # name: (overrides, where the signal stops the run)
    # after generator iteration 6 of 8, two past the checkpoint at 4; EMA on
    "toy-ema": ([*TOY, "ema_decay=0.5"], {"gen_iter": 6}),
    # between two critic updates (n_critic phase 1), logging every 3rd critic step (not a multiple of the stop)
    "toy-mid-phase-log3": ([*TOY, "trainer.log_every_n_steps=3"], {"critic_steps": 11}),
    # right after the last batch of the first interval (the validation has run, the next epoch has not begun)
    "toy-at-interval-end": ([*TOY, "ema_decay=0.5"], {"gen_iter": 4}),
    "digits-in-memory-ema": ([*IMAGES, "data=digits", "ema_decay=0.5"], {"gen_iter": 6}),
    "folder-streamed-0-workers": ([*IMAGES, "data=folder", "data.in_memory=false", "data.num_workers=0"],
                                  {"critic_steps": 11}),
    "folder-streamed-1-worker-ema": ([*IMAGES, "data=folder", "data.in_memory=false", "data.num_workers=1",
                                      "ema_decay=0.5"], {"gen_iter": 6}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_run_stopped_between_validations_and_resumed_is_the_uninterrupted_run(
        tmp_path: Path, image_folder: Path, case: str) -> None:
    overrides, where = CASES[case]
    args = [*MID, *overrides, *([f"data.path={image_folder}"] if "data=folder" in overrides else [])]
    whole, stopped = tmp_path / "whole", tmp_path / "stopped"
    result = run_train(args, whole)
    assert result.returncode == 0, result.stderr[-3000:]
    stop_and_resume(args, stopped, **where)
    assert_same_weights(whole, stopped)
    assert_same_rows(csv_rows(whole), csv_rows(stopped))  # every row, also those before the stop (one folder)
    metrics_a, metrics_b = read_metrics(whole), read_metrics(stopped)
    for key in ("val/w_estimate", "val/fid", "val/w1_exact"):
        if key in metrics_a:
            assert metrics_a[key] == pytest.approx(metrics_b[key], abs=1e-6), key
