"""Real processes killed mid-run: SIGTERM/SIGUSR1 checkpoint before exiting; SIGKILL loses at most one checkpoint
interval; a kill during a checkpoint write leaves the previous file intact. Each run then resumes and completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import read_metrics, run_train

LONG = ["gen_iters=3000", "eval_every=100", "n_critic=2", "data=ring", "data.batch_size=32", "data.val_size=64",
        "model.generator.width=32", "model.critic.width=32", "logger=csv", "callbacks.toy_metrics.num_samples=64",
        "~callbacks.critic_plots", "~callbacks.progress_bar", "+trainer.enable_progress_bar=false"]


def start(run: Path, args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "WANDB_MODE": "offline"}
    return subprocess.Popen([sys.executable, "-m", "gan_zoo.train", *args, f"hydra.run.dir={run}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=run.parent)


def progress(checkpoint: Path) -> int:
    return torch.load(checkpoint, map_location="cpu", weights_only=True)["gan_zoo_progress"]["gen_iter"]


def wait_for(path: Path, process: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def resume_and_finish(run: Path, checkpoint: Path) -> None:
    result = run_train([*LONG, "gen_iters=400", f"ckpt_path={checkpoint}"], run.parent / f"{run.name}_resumed")
    assert result.returncode == 0, result.stderr[-3000:]
    assert read_metrics(run.parent / f"{run.name}_resumed")["gen_iter"] == 400


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGUSR1], ids=["SIGTERM", "SIGUSR1"])
def test_a_terminated_run_checkpoints_before_it_exits(tmp_path: Path, signum: int) -> None:
    run = tmp_path / "run"
    process = start(run, LONG)
    wait_for(run / "checkpoints" / "last.ckpt", process)  # the first validation (gen_iter 100) is done
    time.sleep(1.0)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr[-3000:]
    last = run / "checkpoints" / "last.ckpt"
    stopped_at = progress(last)
    assert 100 < stopped_at < 3000  # saved at the batch it stopped at, not at the last validation
    assert (f"gan_zoo: stopped by a signal at generator iteration {stopped_at}: checkpoint saved to {last}; "
            f"resume with ckpt_path={last}") in stderr
    assert "error:" not in stderr and "Traceback" not in stderr  # a clean stop is not an error
    resume_and_finish(run, last)


def test_sigkill_mid_run_loses_at_most_one_checkpoint_interval(tmp_path: Path) -> None:
    run = tmp_path / "run"
    process = start(run, LONG)
    last = run / "checkpoints" / "last.ckpt"
    wait_for(last, process)
    time.sleep(1.5)
    killed_after = progress(last)
    process.kill()
    process.wait(timeout=60)
    saved = progress(last)  # loads: never a half-written file
    assert saved >= killed_after >= 100
    resume_and_finish(run, last)


WRITER = """
import sys, torch
from gan_zoo.runtime.checkpoint_io import AtomicCheckpointIO
AtomicCheckpointIO().save_checkpoint({"weights": torch.zeros(150_000_000)}, sys.argv[1])  # 600 MB: a slow write
"""


def test_sigkill_during_a_checkpoint_write_leaves_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "last.ckpt"
    torch.save({"weights": torch.ones(3)}, target)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(target)])
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".last.ckpt.*.tmp")):
        assert writer.poll() is None and time.monotonic() < deadline, "the write finished before it could be killed"
        time.sleep(0.002)
    writer.kill()
    writer.wait(timeout=60)
    assert torch.equal(torch.load(target, weights_only=True)["weights"], torch.ones(3))


def test_ctrl_c_checkpoints_and_says_how_to_resume(tmp_path: Path) -> None:
    """A real SIGINT (what Ctrl-C sends) to a real run: it stops after the batch, saves last.ckpt, prints one plain
    line and exits with 130 (128 + SIGINT, what a shell reports); the checkpoint resumes and finishes."""
    run = tmp_path / "run"
    process = start(run, LONG)
    wait_for(run / "checkpoints" / "last.ckpt", process)
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-3000:]
    last = run / "checkpoints" / "last.ckpt"
    stopped_at = progress(last)
    assert 100 < stopped_at < 3000  # saved at the batch it stopped at, not at the last validation
    lines = [line for line in stderr.splitlines() if line.startswith("gan_zoo:")]
    assert lines == [f"gan_zoo: stopped by Ctrl-C at generator iteration {stopped_at}: checkpoint saved to {last}; "
                     f"resume with ckpt_path={last}"], stderr[-3000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    resume_and_finish(run, last)
