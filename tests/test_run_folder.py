"""A run folder belongs to one run: a second run into a folder a live run holds is refused with the holder's PID,
the lock dies with its holder (kill -9 too), and a moved or copied run folder resumes under the same file names."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import FAST, run_train
from gan_zoo.errors import FolderInUseError
from gan_zoo.runtime import run_folder
from gan_zoo.runtime.run_folder import LOCK_FILE

LONG = ["gen_iters=3000", "eval_every=20", "n_critic=2", "data=ring", "data.batch_size=32", "data.val_size=64",
        "model.generator.width=32", "model.critic.width=32", "logger=none", "callbacks.toy_metrics.num_samples=64",
        "~callbacks.critic_plots", "~callbacks.progress_bar", "+trainer.enable_progress_bar=false"]
HOLD = "import sys, time; from gan_zoo.runtime import run_folder; run_folder.acquire(sys.argv[1]); print('held', " \
       "flush=True); time.sleep(600)"


def start_train(run: Path, args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "WANDB_MODE": "offline"}
    return subprocess.Popen([sys.executable, "-m", "gan_zoo.train", *args, f"hydra.run.dir={run}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=run.parent)


def start_holder(folder: Path) -> subprocess.Popen:
    """Another process that holds `folder` (as a run does) until it is killed."""
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def wait_for(condition, process: subprocess.Popen, what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.stderr.read()[-3000:]
        assert time.monotonic() < deadline, f"{what} never happened"
        time.sleep(0.05)


def lock_pid(run: Path) -> int | None:
    text = (run / LOCK_FILE).read_text() if (run / LOCK_FILE).exists() else ""
    return int(text.split()[0]) if text.strip() else None


def progress(checkpoint: Path) -> int:
    return torch.load(checkpoint, map_location="cpu", weights_only=True)["gan_zoo_progress"]["gen_iter"]


def refusal(folder: Path, pid: int, key: str = "hydra.run.dir") -> str:
    return (f"gan_zoo: error: {os.path.realpath(folder)} is in use by another run (PID {pid} on "
            f"{socket.gethostname()}): wait for it to finish or stop it, or choose another folder with {key}=<folder>")


def test_a_held_folder_refuses_a_second_holder_until_the_first_dies(tmp_path: Path) -> None:
    folder = tmp_path / "run"
    holder = start_holder(folder)
    try:
        with pytest.raises(FolderInUseError) as refused:
            run_folder.acquire(folder)
        assert f"gan_zoo: error: {refused.value}" == refusal(folder, holder.pid)
    finally:
        holder.kill()  # SIGKILL: no clean-up code runs
        holder.wait(timeout=60)
    with run_folder.hold(folder):  # the kernel dropped the dead holder's lock
        with run_folder.hold(folder / ".." / "run"):  # the same folder, spelled differently: held once per process
            assert lock_pid(folder) == os.getpid()
    holder = start_holder(folder)  # released at the end of the block: another process can take it
    holder.kill()
    holder.wait(timeout=60)


def test_other_ranks_do_not_lock_their_jobs_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "run"
    holder = start_holder(folder)  # rank 0 of the job
    try:
        monkeypatch.setenv("LOCAL_RANK", "1")  # as gan_zoo's DDP launcher starts rank 1
        assert not run_folder.owns_run_folder()
        with run_folder.hold(folder):
            pass
        run_folder.hold_requested_folder([f"hydra.run.dir={folder}", "hydra.job.name=rank1"])
        monkeypatch.setenv("LOCAL_RANK", "0")
        with pytest.raises(FolderInUseError):
            run_folder.hold_requested_folder([f'hydra.run.dir="{folder}"'])
    finally:
        holder.kill()
        holder.wait(timeout=60)


def test_a_second_sweep_into_a_held_sweep_folder_is_refused(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    holder = start_holder(sweep)
    try:
        with pytest.raises(FolderInUseError) as refused:
            run_folder.hold_requested_folder(["-m", "seed=0,1", f"hydra.sweep.dir={sweep}"])
        assert f"gan_zoo: error: {refused.value}" == refusal(sweep, holder.pid, "hydra.sweep.dir")
        run_folder.hold_requested_folder(["-m", "--cfg", "job", f"hydra.sweep.dir={sweep}"])  # prints, runs nothing
    finally:
        holder.kill()
        holder.wait(timeout=60)


def test_a_second_run_into_a_live_runs_folder_is_refused_and_touches_nothing(tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = start_train(run, LONG)
    try:
        wait_for(lambda: lock_pid(run) == first.pid and (run / ".hydra" / "overrides.yaml").is_file(), first,
                 "the first run's lock")
        record = {p.name: p.read_bytes() for p in (run / ".hydra").iterdir()}
        second = run_train([*LONG, "seed=1"], run, timeout=300)
        assert second.returncode == 2, second.stderr[-3000:]
        assert second.stderr.strip() == refusal(run, first.pid)
        assert first.poll() is None  # the first run goes on
        assert {p.name: p.read_bytes() for p in (run / ".hydra").iterdir()} == record  # its config record too
        assert lock_pid(run) == first.pid
    finally:
        first.kill()
        first.wait(timeout=60)


def test_after_kill_9_of_the_holder_a_new_run_resumes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = start_train(run, LONG)
    last = run / "checkpoints" / "last.ckpt"
    wait_for(last.exists, first, "the first checkpoint")
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=60)
    saved = progress(last)
    result = run_train([*LONG, f"gen_iters={saved + 20}"], run, timeout=300)  # auto_resume, same folder
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"resuming from {last}" in (run / "train.log").read_text()
    assert progress(last) == saved + 20


def test_a_copied_run_folder_resumes_from_its_last_ckpt_under_the_same_names(tmp_path: Path) -> None:
    original, copy = tmp_path / "original", tmp_path / "elsewhere" / "copy"
    result = run_train([*FAST, "logger=none", "gen_iters=2"], original)
    assert result.returncode == 0, result.stderr[-3000:]
    (original / "metrics.json").unlink()  # as if it had stopped at generator iteration 2 of 4
    shutil.copytree(original, copy)
    before = {p: p.read_bytes() for p in original.rglob("*") if p.is_file()}
    result = run_train([*FAST, "logger=none"], copy)  # gen_iters=4, auto_resume from the copy's own last.ckpt
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"resuming from {copy / 'checkpoints' / 'last.ckpt'}" in (copy / "train.log").read_text()
    names = sorted(p.name for p in (copy / "checkpoints").iterdir())
    assert {"gen_iter_4.ckpt", "last.ckpt"} <= set(names) and not [n for n in names if "-v" in n], names  # last-v1
    assert progress(copy / "checkpoints" / "last.ckpt") == 4
    assert {p: p.read_bytes() for p in original.rglob("*") if p.is_file()} == before  # the original is left alone
    result = run_train([*FAST, "logger=none"], copy)  # finished: not trained again
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in (copy / "checkpoints").iterdir()) == names
