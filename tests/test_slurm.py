"""Sweeps on a real SLURM cluster (hydra/launcher=slurm): `.ci/run` starts a one-node cluster with
scripts/local_slurm.sh; where there is no `sbatch` these tests are skipped."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FAST, read_metrics, run_train

pytestmark = pytest.mark.skipif(shutil.which("sbatch") is None,
                                reason="no SLURM here (sbatch not found); scripts/local_slurm.sh starts a local cluster")

# The local node has 2 CPUs and a few GB: ask for what it has.
SLURM = ["hydra/launcher=slurm", "hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=2",
         "hydra.launcher.timeout_min=15", "trainer.accelerator=cpu", "~callbacks.critic_plots"]


def job_logs(sweep: Path) -> str:
    files = [*sweep.glob(".submitit/*/*_log.*"), *sweep.glob("*/train.log")]
    return "\n".join(f.read_text(errors="replace") for f in files)


def array_tasks(sweep: Path) -> list[str]:
    """The SLURM ids of a sweep's jobs, from submitit's folders: <array>_<task>, or <job> for a one-job sweep."""
    names = [p.name for p in (sweep / ".submitit").iterdir()] if (sweep / ".submitit").is_dir() else []
    tasks = sorted(n for n in names if re.fullmatch(r"\d+_\d+", n))
    return tasks or sorted(n for n in names if n.isdigit())


def test_a_lambda_sweep_runs_as_slurm_jobs_and_is_reported(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    args = [*SLURM, *FAST, "logger=wandb", "lipschitz=gp", "lipschitz.lambda_=0.1,10"]
    result = run_train(args, sweep, multirun=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:] + job_logs(sweep)[-3000:]
    assert len(array_tasks(sweep)) == 2  # one SLURM array, a task per job
    for job, lambda_ in (("0", 0.1), ("1", 10.0)):
        assert f"lipschitz.lambda_={lambda_:g}" in (sweep / job / ".hydra" / "overrides.yaml").read_text()
        metrics = read_metrics(sweep / job)
        assert metrics["gen_iter"] == 4 and "val/w1_exact" in metrics
        # one W&B group per sweep: the sweep folder's name, in each job's (offline) run record
        (record,) = (sweep / job / "wandb").glob("offline-run-*/run-*.wandb")
        assert sweep.name.encode() in record.read_bytes()
    report = subprocess.run([sys.executable, "-m", "gan_zoo.report", str(sweep), "--metrics", "val/w1_exact"],
                            capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    rows = [line for line in report.stdout.splitlines() if re.match(r"\| (0\.1|10) \|", line)]
    assert len(rows) == 2, report.stdout
    assert (sweep / "report.csv").is_file() and (sweep / "report_val_w1_exact.png").is_file()


def test_a_job_warned_of_its_time_limit_checkpoints_is_requeued_and_resumes(tmp_path: Path) -> None:
    """SIGUSR2 is what SLURM sends signal_delay_s before the time limit of a submitit job; sent here by scancel."""
    sweep, gen_iters = tmp_path / "sweep", 6000
    command = [sys.executable, "-m", "gan_zoo.train", "-m", *SLURM, "logger=csv", "n_critic=1",
               f"gen_iters={gen_iters}", "eval_every=1000", "model.generator.width=32", "model.critic.width=32",
               "+trainer.enable_progress_bar=false", "~callbacks.progress_bar", f"hydra.sweep.dir={sweep}"]
    sweeper = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first_checkpoint = sweep / "0" / "checkpoints" / "gen_iter_1000.ckpt"
        deadline = time.monotonic() + 300
        while not first_checkpoint.exists():
            assert sweeper.poll() is None and time.monotonic() < deadline, job_logs(sweep)[-3000:]
            time.sleep(0.2)
        (job_id,) = array_tasks(sweep)
        subprocess.run(["scancel", "--signal=USR2", job_id], check=True)
        output, _ = sweeper.communicate(timeout=600)
    finally:
        if sweeper.poll() is None:
            sweeper.kill()
            subprocess.run(["scancel", *array_tasks(sweep)], check=False)
    logs = job_logs(sweep)
    assert sweeper.returncode == 0, output[-3000:] + logs[-3000:]
    stopped = re.search(r"stopped by a signal at generator iteration (\d+): checkpoint saved to (\S+)", logs)
    assert stopped, logs[-3000:]
    assert 1000 <= int(stopped[1]) < gen_iters
    assert f"resuming from {sweep / '0' / 'checkpoints' / 'last.ckpt'}" in logs
    metrics = read_metrics(sweep / "0")
    assert metrics["gen_iter"] == gen_iters and metrics["critic_steps"] == gen_iters


def test_a_ddp_job_gets_one_slurm_task_per_device(tmp_path: Path) -> None:
    """hydra/launcher=slurm with trainer.devices=2: two tasks on the node, ranks from SLURM (SLURMEnvironment needs
    SLURM_NTASKS_PER_NODE == devices), both evaluating the same samples."""
    sweep = tmp_path / "sweep"
    result = run_train([*SLURM, *FAST, "trainer.devices=2", "lipschitz=gp", "lipschitz.lambda_=1"], sweep,
                       multirun=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:] + job_logs(sweep)[-3000:]
    ranks = [read_metrics(sweep / "0"), json.loads((sweep / "0" / "metrics.rank1.json").read_text())]
    assert ranks[0]["val/w1_exact"] == ranks[1]["val/w1_exact"] and ranks[0]["gen_iter"] == 4
    (job_id,) = array_tasks(sweep)
    assert sorted(p.name for p in (sweep / ".submitit" / job_id).glob("*_log.out")) == \
        [f"{job_id}_0_log.out", f"{job_id}_1_log.out"]  # SLURM started both tasks (ranks)
