"""The end-of-run summary: final metrics beside their references, where the files are, and commands that work."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from conftest import FAST, run_train

from gan_zoo.runtime.run_summary import metric_lines


def test_metric_lines_put_each_metric_beside_its_reference() -> None:
    lines = metric_lines({"val/w1_exact": 0.086, "val/w1_noise_floor": 0.043, "val/modes": 7.0,
                          "val/high_quality": 0.8125, "val/w_estimate": 0.5}, modes_total=8)
    assert lines[0] == "exact W1 0.086 (noise floor 0.043: two real samples of the same size, 2.0× the floor)"
    assert lines[1] == "modes 7 of 8; 81.2 % of samples within 3σ of a mode (high quality)"
    assert lines[2] == "critic's held-out estimate E[D(x)] − E[D(G(z))] 0.5"
    assert metric_lines({"val/fid": 12.345, "val/precision": 0.5}, None) == ["fid 12.35, precision 0.5"]


def test_a_finished_run_prints_where_its_files_are_and_commands_that_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_train([*FAST, "logger=[csv,wandb]"], run)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "finished: 4 generator iterations in" in output
    assert "modes " in output and " of 8;" in output  # 8gaussians has 8 modes
    assert f"checkpoints {run.resolve() / 'checkpoints'}" in output
    assert "wandb sync " in output and (run / "wandb").is_dir()
    sample_line = next(line for line in output.splitlines() if "sample:" in line and "-m gan_zoo.sample" in line)
    command = shlex.split(sample_line.split("sample:", 1)[1])
    command[0] = sys.executable
    command = [arg.replace("num_samples=1000", "num_samples=20") for arg in command]
    sampled = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path,
                             env={**os.environ, "WANDB_MODE": "offline"})
    assert sampled.returncode == 0, sampled.stderr[-2000:]
    assert (run / "generated" / "samples.npy").is_file()
    evaluate_line = next(line for line in output.splitlines() if "evaluate:" in line and "-m gan_zoo.evaluate" in line)
    assert shlex.split(evaluate_line.split("evaluate:", 1)[1])[3] == f"run={run.resolve()}"
