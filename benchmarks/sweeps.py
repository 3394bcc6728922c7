"""Helpers shared by the benchmark scripts: run one Hydra multirun of the real entry point, read back every
job's metrics.json, and summarise values as mean ± standard error."""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

QUIET = ["logger=csv", "~callbacks.critic_plots", "~callbacks.progress_bar", "+trainer.enable_progress_bar=false"]


def slug(name: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else "_" for c in name.lower()).strip("_")


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


def collect_jobs(sweep_dir: Path) -> list[tuple[dict[str, str], dict]]:
    """(overrides, metrics) of every finished job of one multirun."""
    jobs = []
    for job in sorted(sweep_dir.glob("[0-9]*"), key=lambda p: int(p.name)):
        if not (job / "metrics.json").exists():
            continue  # unfinished job
        overrides = dict(line.removeprefix("- ").split("=", 1)
                         for line in (job / ".hydra" / "overrides.yaml").read_text().splitlines())
        jobs.append((overrides, json.loads((job / "metrics.json").read_text())))
    return jobs


def mean_se(values: list[float], digits: int, scale: float = 1.0, kind: str = "f") -> str:
    """mean ± standard error of the finite values (kind "g" for significant digits)."""
    values = [v * scale for v in values if not math.isnan(v)]
    if not values:
        return "–"
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return f"{mean:.{digits}{kind}}±{se:.{digits}{kind}}"
