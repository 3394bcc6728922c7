"""Helpers shared by the benchmark scripts: run one Hydra multirun of the real entry point, read back every
job's metrics.json, and summarise values as mean ± standard error."""

from __future__ import annotations

import argparse
import math
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from gan_zoo.reporting import job_folders, read_job, slug, summarise  # noqa: F401 - slug is used by the benchmarks

QUIET = ["logger=csv", "~callbacks.critic_plots", "~callbacks.progress_bar", "+trainer.enable_progress_bar=false"]


def run_multirun(name: str, overrides: list[str], sweep_dir: Path) -> float:
    """`python -m gan_zoo.train -m <overrides>` into sweep_dir; exits with the job's stderr if it fails."""
    command = [sys.executable, "-m", "gan_zoo.train", "-m", *overrides, f"hydra.sweep.dir={sweep_dir}"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{name} failed:\n{result.stderr[-3000:]}")
    elapsed = time.perf_counter() - started
    print(f"  {name}: {elapsed:.0f} s", file=sys.stderr, flush=True)
    return elapsed


def collect_jobs(sweep_dir: Path, diverged: bool = False) -> list[tuple[dict[str, str], dict[str, float]]]:
    """(overrides, metrics) of every finished job of one multirun, read by gan_zoo.reporting (none if no folder);
    with `diverged`, a job that diverged too, as {"diverged": 1.0} (no metrics: counted, never averaged)."""
    jobs = [read_job(folder) for folder in job_folders(sweep_dir)]
    return [(job.overrides, job.metrics if job.metrics is not None else {"diverged": 1.0}) for job in jobs
            if job.metrics is not None or (diverged and job.divergence is not None)]


def mean_se(values: list[float], digits: int, scale: float = 1.0, kind: str = "f") -> str:
    """mean ± standard error of the values that are not NaN (kind "g" for significant digits)."""
    summary = summarise([v * scale for v in values])
    if not summary.count:
        return "–"
    if summary.count == 1:  # one value: no spread to show
        return f"{summary.mean:.{digits}{kind}}"
    se = summary.sd / math.sqrt(summary.count) if summary.sd is not None else 0.0
    return f"{summary.mean:.{digits}{kind}}±{se:.{digits}{kind}}"


def add_run_arguments(parser: argparse.ArgumentParser, seeds: int, root: str) -> None:
    """The options every sweep benchmark takes: budget, seeds, device, where to run, what to write."""
    parser.add_argument("--gen-iters", type=int, default=1000, help="budget per run, in generator iterations")
    parser.add_argument("--seeds", type=int, default=seeds)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--root", type=Path, default=Path(root))
    parser.add_argument("--collect", type=Path, help="only build the table from this earlier --root")
    parser.add_argument("--out", type=Path, help="also write the table (with the command) to this markdown file")
    parser.add_argument("override", nargs="*", help="extra Hydra overrides for every run, e.g. model.critic.width=64")


def run_overrides(args: argparse.Namespace) -> list[str]:
    """The overrides every job of a sweep benchmark gets: seeds, budget, one final evaluation, quiet output."""
    return [f"seed={','.join(str(s) for s in range(args.seeds))}", f"gen_iters={args.gen_iters}",
            f"eval_every={args.gen_iters}", *QUIET, f"trainer.accelerator={args.device}", *args.override]


def publish(args: argparse.Namespace, table: str) -> None:
    """Print the command, the machine and the table; also write them to --out."""
    device = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    text = (f"Command: `python {' '.join(sys.argv)}`  \nMachine: {platform.machine()} {device}; budget "
            f"{args.gen_iters} generator iterations per run.\n\n{table}")
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
