"""One diverging point does not sink a sweep: the job records its divergence in metrics.json, the sweep goes on,
a re-run does not train it again, and the report counts it as a failure of its configuration."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import FAST, run_train

SWEEP = [*FAST, "logger=none", "~callbacks.critic_plots", "optim.critic.lr=1e9,1e-4"]  # job 0 diverges at once
NAN_LINE = "non-finite critic loss term 'real' (-inf) at generator iteration 0: lower the learning rates"


def metrics(job: Path) -> dict:
    return json.loads((job / "metrics.json").read_text())


def snapshot(sweep: Path) -> dict[str, bytes]:
    """Every file a training job writes (metrics and checkpoints), by path."""
    return {str(p.relative_to(sweep)): p.read_bytes() for p in sorted(sweep.rglob("*"))
            if p.is_file() and (p.name == "metrics.json" or p.suffix == ".ckpt")}


def swept_lr(job: Path) -> str:
    lines = yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())
    return next(line.split("=", 1)[1] for line in lines if line.startswith("optim.critic.lr="))


def report(sweep: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gan_zoo.report", str(sweep), *args], capture_output=True, text=True,
                          timeout=120)


def test_a_diverging_point_is_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    result = run_train(SWEEP, sweep, multirun=True)
    assert result.returncode == 0, result.stderr[-3000:]
    diverged = metrics(sweep / "0")
    assert diverged["diverged"] is True
    assert (diverged["gen_iter"], diverged["phase"], diverged["term"]) == (0, "critic", "real")
    assert diverged["value"] is None and diverged["non_finite"] == {"value": "-inf"}  # valid JSON, nothing lost
    assert diverged["error"].startswith(NAN_LINE)
    assert not (sweep / "0" / "checkpoints").exists()  # a non-finite state is never checkpointed
    normal = metrics(sweep / "1")
    assert "diverged" not in normal and normal["gen_iter"] == 4 and "val/w_estimate" in normal

    # A re-run into the same sweep folder trains neither job again.
    before = snapshot(sweep)
    result = run_train(SWEEP, sweep, multirun=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert snapshot(sweep) == before
    for job in ("0", "1"):
        assert "this run finished before; not training it again" in (sweep / job / "train.log").read_text()

    # The report shows the diverged configuration as a failure, not as a missing job.
    result = report(sweep, "--metrics", "val/w_estimate")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    low, high = (swept_lr(sweep / job) for job in ("1", "0"))  # as Hydra wrote them: 0.0001, 1000000000.0
    assert lines[:4] == ["| optim.critic.lr | n | diverged | val/w_estimate |", "| --- | --- | --- | --- |",
                         f"| {low} | 1 | 0 of 1 | {lines[2].split(' | ')[-1]}", f"| {high} | 0 | 1 of 1 | – |"]
    assert (f"diverged (1): job 0 (optim.critic.lr={high}; critic loss term 'real' non-finite at generator "
            "iteration 0)") in lines
    assert not any(line.startswith("unfinished") for line in lines)


def test_fail_on_divergence_stops_a_sweep_after_recording_and_a_rerun_runs_the_rest(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    result = run_train([*SWEEP, "fail_on_divergence=true"], sweep, multirun=True)
    assert result.returncode == 3, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1].startswith(f"gan_zoo: error: {NAN_LINE}")
    assert "Traceback" not in result.stderr
    assert metrics(sweep / "0")["diverged"] is True
    assert not (sweep / "1").exists()  # the sweep stopped at its first job
    # A re-run stops again, without training, and says why and how to train the job again.
    result = run_train([*SWEEP, "fail_on_divergence=true"], sweep, multirun=True)
    assert result.returncode == 3, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1] == (
        f"gan_zoo: error: this run diverged before ({metrics(sweep / '0')['error']}); {sweep / '0' / 'metrics.json'} "
        "records it: delete it to train the run again")
    # Without it, a re-run does not train the diverged job again but runs the one the stop left out.
    recorded = (sweep / "0" / "metrics.json").read_bytes()
    result = run_train(SWEEP, sweep, multirun=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (sweep / "0" / "metrics.json").read_bytes() == recorded
    assert metrics(sweep / "1")["gen_iter"] == 4


def test_a_single_run_still_exits_3_and_false_lets_it_exit_0(tmp_path: Path) -> None:
    args = [*FAST, "logger=none", "~callbacks.critic_plots", "optim.critic.lr=1e9"]
    result = run_train(args, tmp_path / "run")
    assert result.returncode == 3, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1].startswith(f"gan_zoo: error: {NAN_LINE}")
    assert metrics(tmp_path / "run")["diverged"] is True
    result = run_train([*args, "fail_on_divergence=false"], tmp_path / "quiet")
    assert result.returncode == 0, result.stderr[-3000:]
    assert metrics(tmp_path / "quiet")["term"] == "real"


def write_job(sweep: Path, number: int, overrides: list[str], metrics: dict) -> None:
    (sweep / str(number) / ".hydra").mkdir(parents=True)
    (sweep / str(number) / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    (sweep / str(number) / "metrics.json").write_text(json.dumps(metrics))


def test_the_report_counts_a_diverged_job_as_a_failure_never_averaged(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    record = {"diverged": True, "gen_iter": 37, "phase": "generator", "term": "adversarial", "value": None,
              "non_finite": {"value": "nan"}, "error": "non-finite generator loss term 'adversarial' (nan) ...",
              "wall_time_s": 9.0}
    for number, (lr, seed) in enumerate((lr, seed) for lr in ("1e-4", "1e-2") for seed in (0, 1, 2)):
        done = {"val/w1_exact": 0.1 * (seed + 1), "gen_iter": 100, "wall_time_s": 5.0}
        write_job(sweep, number, [f"optim.critic.lr={lr}", f"seed={seed}"],
                  record if (lr, seed) == ("1e-2", 1) else done)
    result = report(sweep)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == ["| optim.critic.lr | n | diverged | val/w1_exact | gen_iter | wall_time_s |",
                         "| --- | --- | --- | --- | --- | --- |",
                         "| 1e-4 | 3 | 0 of 3 | 0.20 ± 0.10 | 100 ± 0 | 5 ± 0 |",
                         "| 1e-2 | 2 | 1 of 3 | 0.20 ± 0.14 | 100 ± 0 | 5 ± 0 |"]  # the 37 and 9.0 are not in
    assert ("diverged (1): job 4 (optim.critic.lr=1e-2 seed=1; generator loss term 'adversarial' non-finite at "
            "generator iteration 37)") in lines
    with (sweep / "report.csv").open(newline="") as file:
        rows = {row["optim.critic.lr"]: row for row in csv.DictReader(file)}
    assert (rows["1e-2"]["n"], rows["1e-2"]["diverged"]) == ("2", "1")
    assert (rows["1e-4"]["n"], rows["1e-4"]["diverged"]) == ("3", "0")
    assert float(rows["1e-2"]["gen_iter_mean"]) == 100.0


def test_a_sweep_where_every_job_diverged_is_still_a_report(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    for number, lr in enumerate(("1e9", "1e10")):
        write_job(sweep, number, [f"optim.critic.lr={lr}"], {"diverged": True, "gen_iter": 0, "phase": "critic",
                                                             "term": "real", "error": "non-finite"})
    result = report(sweep)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:4] == ["| optim.critic.lr | n | diverged |", "| --- | --- | --- |",
                                              "| 1e9 | 0 | 1 of 1 |", "| 1e10 | 0 | 1 of 1 |"]
