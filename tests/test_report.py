"""`python -m gan_zoo.report`: grouping over seeds, sorting, table, CSV, plots and errors, on hand-made multiruns
(plus one real two-job sweep)."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image

from conftest import FAST, run_train
from gan_zoo.reporting import (Summary, build_report, format_mean_sd, group_jobs, markdown_table, plot_metric,
                               read_jobs, swept_parameters, x_scale)

LAMBDA = "lipschitz.lambda_"
# val/w1_exact per (λ, seed), listed in an order that is neither numeric nor lexicographic
W1 = {("10", 0): 0.5, ("10", 1): 0.7, ("10", 2): 0.9,
      ("0.1", 0): 1.0, ("0.1", 1): 2.0, ("0.1", 2): 4.0,
      ("1", 0): 0.25, ("1", 1): 0.25, ("1", 2): 0.25}


def write_job(sweep: Path, number: int, overrides: list[str], metrics: dict | None) -> None:
    """One job folder as Hydra and gan_zoo.train write it (metrics None: the job has not finished)."""
    hydra = sweep / str(number) / ".hydra"
    hydra.mkdir(parents=True)
    (hydra / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if metrics is not None:
        (sweep / str(number) / "metrics.json").write_text(json.dumps(metrics))


def lambda_sweep(sweep: Path, unfinished: tuple[tuple[str, int], ...] = ()) -> Path:
    """λ ∈ {10, 0.1, 1} × seed ∈ {0, 1, 2}, with the same fixed overrides in every job, and the .submitit/ folder
    the SLURM launcher adds."""
    (sweep / ".submitit" / "1234_0").mkdir(parents=True)
    for number, ((lam, seed), w1) in enumerate(W1.items()):
        metrics = {"val/w1_exact": w1, "val/modes": 8.0, "gen_iter": 4, "wall_time_s": 1.5}
        write_job(sweep, number, ["gen_iters=4", "objective=wgan", f"{LAMBDA}={lam}", f"seed={seed}"],
                  None if (lam, seed) in unfinished else metrics)
    return sweep


def run_report(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gan_zoo.report", *map(str, args)], capture_output=True, text=True,
                          timeout=120)


def test_seeds_are_grouped_with_mean_and_sample_sd(tmp_path: Path) -> None:
    jobs = read_jobs(lambda_sweep(tmp_path / "sweep"))
    assert [job.number for job in jobs] == list(range(9))
    parameters = swept_parameters(jobs)
    assert parameters == [LAMBDA]  # seed is grouped over; gen_iters and objective are the same everywhere
    groups = {group.values: group for group in group_jobs(jobs, parameters)}
    assert {values: group.n for values, group in groups.items()} == {("0.1",): 3, ("1",): 3, ("10",): 3}
    low = groups[("0.1",)].summary("val/w1_exact")  # 1, 2, 4: mean 7/3, variance ((4/3)² + (1/3)² + (5/3)²) / 2
    assert low.mean == pytest.approx(7 / 3) and low.sd == pytest.approx(math.sqrt(7 / 3)) and low.count == 3
    high = groups[("10",)].summary("val/w1_exact")
    assert high.mean == pytest.approx(0.7) and high.sd == pytest.approx(0.2)
    assert groups[("1",)].summary("val/w1_exact").sd == 0


def test_swept_values_sort_numerically(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    for number, (lam, objective) in enumerate([("10", "wgan"), ("1e-3", "hinge"), ("0.1", "wgan"), ("1", "hinge"),
                                               ("10", "hinge"), ("2", "wgan")]):
        write_job(sweep, number, [f"objective={objective}", f"{LAMBDA}={lam}"], {"val/w1_exact": 1.0})
    report = build_report(sweep)
    assert report.parameters == ("objective", LAMBDA)
    assert [group.values for group in report.groups] == [
        ("hinge", "1e-3"), ("hinge", "1"), ("hinge", "10"), ("wgan", "0.1"), ("wgan", "2"), ("wgan", "10")]


def test_one_value_per_run_and_significant_digits() -> None:
    assert format_mean_sd(Summary(0.12345, 0.0321, 3)) == "0.123 ± 0.032"
    assert format_mean_sd(Summary(33.14, 2.5, 2)) == "33.1 ± 2.5"
    assert format_mean_sd(Summary(7 / 3, math.sqrt(7 / 3), 3)) == "2.3 ± 1.5"
    assert format_mean_sd(Summary(0.123456789, None, 1)) == "0.1235"  # n = 1: just the value
    assert format_mean_sd(Summary(8.0, 0.0, 3)) == "8 ± 0"
    assert format_mean_sd(Summary(1.2e-7, 3e-8, 2)) == "1.2e-07 ± 3e-08"
    assert format_mean_sd(Summary(math.nan, None, 0)) == "–"


def test_markdown_table(tmp_path: Path) -> None:
    report = build_report(lambda_sweep(tmp_path / "sweep"))
    lines = markdown_table(report).splitlines()
    assert lines[0] == f"| {LAMBDA} | n | val/modes | val/w1_exact | gen_iter | wall_time_s |"  # bookkeeping last
    assert lines[2:] == ["| 0.1 | 3 | 8 ± 0 | 2.3 ± 1.5 | 4 ± 0 | 1.5 ± 0 |",
                         "| 1 | 3 | 8 ± 0 | 0.25 ± 0 | 4 ± 0 | 1.5 ± 0 |",
                         "| 10 | 3 | 8 ± 0 | 0.70 ± 0.20 | 4 ± 0 | 1.5 ± 0 |"]


def test_a_metric_missing_in_some_runs_says_so(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    for seed, kl in enumerate([0.5, math.nan, 1.5]):
        write_job(sweep, seed, [f"seed={seed}", "lipschitz=gp"], {"val/reverse_kl": kl})
    table = markdown_table(build_report(sweep))
    assert table.splitlines()[:3] == ["| n | val/reverse_kl |", "| --- | --- |", "| 3 | 1.00 ± 0.71 (2 of 3) |"]
    assert "only k of the group's n runs had a value" in table


def test_cli_writes_csv_and_one_png_per_metric(tmp_path: Path) -> None:
    sweep = lambda_sweep(tmp_path / "sweep", unfinished=(("10", 2),))
    result = run_report(sweep, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    with (tmp_path / "out" / "report.csv").open(newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == [LAMBDA, "n", "diverged", "val/modes_mean", "val/modes_sd", "val/w1_exact_mean", "val/w1_exact_sd",
                             "gen_iter_mean", "gen_iter_sd", "wall_time_s_mean", "wall_time_s_sd"]
    assert [(r[LAMBDA], r["n"]) for r in rows] == [("0.1", "3"), ("1", "3"), ("10", "2")]
    assert float(rows[0]["val/w1_exact_mean"]) == pytest.approx(7 / 3)
    assert float(rows[0]["val/w1_exact_sd"]) == pytest.approx(math.sqrt(7 / 3))
    assert float(rows[2]["val/w1_exact_mean"]) == pytest.approx(0.6)
    assert float(rows[2]["val/w1_exact_sd"]) == pytest.approx(math.sqrt(0.02))
    pngs = sorted(p.name for p in (tmp_path / "out").glob("*.png"))
    assert pngs == ["report_val_modes.png", "report_val_w1_exact.png"]  # bookkeeping is not plotted
    for name in pngs:
        with Image.open(tmp_path / "out" / name) as image:
            image.verify()
            assert image.format == "PNG" and min(image.size) > 100
        assert f"wrote {tmp_path / 'out' / name}" in result.stdout
    assert not (sweep / "report.csv").exists()


def test_png_for_two_numeric_parameters_and_bar_chart_without_any(tmp_path: Path) -> None:
    grid, labels = tmp_path / "grid", tmp_path / "labels"
    for number, (c, lr, seed) in enumerate([(c, lr, s) for c in ("0.001", "0.01", "0.1") for lr in ("1e-4", "1e-3")
                                            for s in (0, 1)]):
        write_job(grid, number, [f"lipschitz.c={c}", f"optim.critic.lr={lr}", f"seed={seed}"],
                  {"val/w1_exact": float(c) + seed})
    for number, strategy in enumerate(("gp", "sn", "clip")):
        write_job(labels, number, [f"lipschitz={strategy}"], {"val/fid": 30.0 + number})
    for folder, metric in ((grid, "val/w1_exact"), (labels, "val/fid")):
        path = plot_metric(build_report(folder), metric, tmp_path / f"{folder.name}.png")
        with Image.open(path) as image:
            assert image.format == "PNG" and min(image.size) > 100


def test_log_x_for_lipschitz_weights_and_wide_positive_ranges() -> None:
    assert x_scale("lipschitz.lambda_", [0.1, 1.0, 10.0]) == "log"
    assert x_scale("lipschitz.c", [0.001, 0.01]) == "log"
    assert x_scale("lipschitz.gamma", [1.0, 2.0]) == "log"  # a weight is log-scaled even over a small range
    assert x_scale("lipschitz.lambda_ct", [0.0, 2.0, 20.0]) == "symlog"  # swept from 0: log cannot show 0
    assert x_scale("optim.critic.lr", [1e-5, 1e-3]) == "log"  # positive, spans 100x
    assert x_scale("n_critic", [1.0, 5.0, 10.0]) == "linear"
    assert x_scale("data.offset", [-1.0, 100.0]) == "linear"


def test_unfinished_jobs_are_listed_after_the_table(tmp_path: Path) -> None:
    sweep = lambda_sweep(tmp_path / "sweep", unfinished=(("0.1", 1), ("10", 0)))
    result = run_report(sweep, "--metrics", "val/w1_exact")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"| {LAMBDA} | n | val/w1_exact |"
    assert lines[2:5] == ["| 0.1 | 2 | 2.5 ± 2.1 |", "| 1 | 3 | 0.25 ± 0 |", "| 10 | 2 | 0.80 ± 0.14 |"]
    assert (f"unfinished or failed, no metrics.json (2): job 0 ({LAMBDA}=10 seed=0), job 4 ({LAMBDA}=0.1 seed=1)"
            in lines)
    assert [line for line in lines if line.startswith("wrote")] == [
        f"wrote {sweep / 'report.csv'}", f"wrote {sweep / 'report_val_w1_exact.png'}"]


def test_no_finished_job_is_one_line_and_exit_1(tmp_path: Path) -> None:
    sweep = lambda_sweep(tmp_path / "sweep", unfinished=tuple(W1))
    result = run_report(sweep)
    assert result.returncode == 1
    assert result.stderr.strip() == (f"gan_zoo: error: no job of {sweep} has finished: none of its 9 job folders "
                                     "has metrics.json (still running, or failed: see each job's train.log)")


@pytest.mark.parametrize("kind", ["empty", "single run", "missing"])
def test_a_folder_that_is_not_a_multirun_is_one_line_and_exit_2(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "run"
    if kind != "missing":
        (folder / "checkpoints").mkdir(parents=True)
        (folder / "0").mkdir()  # numbered, but no .hydra/overrides.yaml
    if kind == "single run":
        (folder / ".hydra").mkdir()
        (folder / ".hydra" / "overrides.yaml").write_text("- seed=0\n")
    result = run_report(folder)
    assert result.returncode == 2
    what = {"empty": "is not a multirun folder", "single run": "is a single run, not a multirun",
            "missing": "does not exist"}[kind]
    assert result.stderr.strip() == (f"gan_zoo: error: {folder} {what}: expected numbered job folders (0/, 1/, ...) "
                                     "each with .hydra/overrides.yaml, as `python -m gan_zoo.train -m ...` writes them")
    assert result.stdout == ""


def test_an_unknown_metric_lists_the_known_ones(tmp_path: Path) -> None:
    result = run_report(lambda_sweep(tmp_path / "sweep"), "--metrics", "val/w1_exact,val/fid")
    assert result.returncode == 2
    assert result.stderr.strip() == ("gan_zoo: error: unknown metric val/fid; choose from: val/modes, val/w1_exact, "
                                     "gen_iter, wall_time_s")


def test_report_on_a_real_sweep(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    result = run_train([*FAST, "logger=none", "~callbacks.critic_plots", "~callbacks.progress_bar",
                        f"{LAMBDA}=10,0.1"], sweep, multirun=True)
    assert result.returncode == 0, result.stderr[-3000:]
    result = run_report(sweep, "--metrics", "val/w_estimate,val/w1_exact,val/modes,wall_time_s")
    assert result.returncode == 0, result.stderr
    print(result.stdout)
    table = [line for line in result.stdout.splitlines() if line.startswith("|")]
    assert table[0] == f"| {LAMBDA} | n | val/w_estimate | val/w1_exact | val/modes | wall_time_s |"
    assert [row.split(" | ")[:2] for row in table[2:]] == [["| 0.1", "1"], ["| 10", "1"]]
    assert len(list(sweep.glob("report_*.png"))) == 4 and (sweep / "report.csv").exists()
