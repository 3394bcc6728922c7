"""`python -m gan_zoo.study`: the best-of-k bootstrap against its closed form, Spearman's ρ on hand-ranked cases,
reading runs (search trials, evaluation.json, config fallbacks), and the whole report on a real tiny sweep (two
methods × two seeds), its --reseed commands and their launched runs."""

from __future__ import annotations

import csv
import json
import math
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image
from scipy.stats import spearmanr

from conftest import run_train
from gan_zoo import study
from gan_zoo.reporting.study_report import build_study, header
from gan_zoo.reporting.study_runs import available_metrics, default_metric, read_run, values_at
from gan_zoo.reporting.study_stats import best_of_k, expected_best_of_k, run_rho, spearman, summarise_rhos, target_of

TINY = ["gen_iters=15", "eval_every=5", "n_critic=1", "data=8gaussians", "data.batch_size=32", "data.val_size=200",
        "model.generator.width=16", "model.critic.width=16", "logger=csv", "callbacks.toy_metrics.num_samples=200",
        "~callbacks.critic_plots", "~callbacks.sample_grid", "~callbacks.progress_bar", "optim.generator.lr=1e-3",
        "optim.critic.lr=1e-3"]


# ------------------------------------------------------------------------------------------ best of k (bootstrap)
def test_best_of_k_closed_form_on_four_values() -> None:
    values = [3.0, 1.0, 4.0, 2.0]
    assert expected_best_of_k(values, 1, lower_is_better=True) == pytest.approx(2.5)
    # min of 2 draws of {1,2,3,4}: 7 of the 16 pairs have min 1, 5 min 2, 3 min 3, 1 min 4 -> 30/16
    assert expected_best_of_k(values, 2, lower_is_better=True) == pytest.approx(30 / 16)
    assert expected_best_of_k(values, 2, lower_is_better=False) == pytest.approx(5 - 30 / 16)  # max, by symmetry
    # min of 3: P(min >= m) = ((5-m)/4)^3 -> 1 + (27 + 8 + 1)/64
    assert expected_best_of_k(values, 3, lower_is_better=True) == pytest.approx(1 + 36 / 64)


@pytest.mark.parametrize("lower", [True, False])
def test_the_bootstrap_curve_matches_the_closed_form(lower: bool) -> None:
    values = [3.0, 1.0, 4.0, 2.0, 10.0]
    curve = best_of_k(values, lower_is_better=lower, resamples=20000, seed=1)
    assert curve.k == (1, 2, 3, 4, 5)
    for k, mean, low, high in zip(curve.k, curve.mean, curve.low, curve.high):
        exact = expected_best_of_k(values, k, lower_is_better=lower)
        assert mean == pytest.approx(exact, abs=0.08)
        assert low <= exact <= high
    assert (curve.low[0], curve.high[0]) == (1.0, 10.0)  # one draw: anything from the best to the worst
    assert curve.high[-1] == (3.0 if lower else 10.0)  # 5 draws: the 97.5th percentile of the min is at most 3
    assert best_of_k(values, lower, resamples=500, seed=3) == best_of_k(values, lower, resamples=500, seed=3)


# ------------------------------------------------------------------------------------------------------ Spearman
def test_spearman_on_known_cases() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 41]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks d = (-1, 1, -1, 1, 0): 1 - 6·4 / (5·24) = 0.8
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    assert math.isnan(spearman([1, 2], [1, 2]))  # fewer than 3 validations
    assert math.isnan(spearman([1, 2, 3], [5, 5, 5]))  # constant: undefined
    summary = summarise_rhos([0.9, 0.5, math.nan, 1.0])
    assert (summary.median, summary.above, summary.counted, summary.excluded) == (0.9, 2, 3, 1)


# ------------------------------------------------------------------------------------------------ reading runs
def write_run(folder: Path, config: dict, rows: list[dict], evaluation: list[dict] | None = None,
              overrides: list[str] | None = None) -> Path:
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    (folder / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides or ["lipschitz.lambda_=3", "seed=0"]))
    (folder / "csv").mkdir()
    keys = sorted({k for row in rows for k in row})
    with (folder / "csv" / "metrics.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=keys)
        writer.writeheader()
        writer.writerows(rows)
    (folder / "metrics.json").write_text(json.dumps(rows[-1]))
    if evaluation is not None:
        (folder / "evaluation").mkdir()
        (folder / "evaluation" / "evaluation.json").write_text(json.dumps({"checkpoints": evaluation}))
    return folder


CONFIG = {"seed": 0, "search": {"trial": 7}, "objective": {"_target_": "gan_zoo.objectives.WassersteinGAN"},
          "lipschitz": {"_target_": "gan_zoo.lipschitz.GradientPenalty", "lambda_": 3.0}}
ROWS = [{"gen_iter": 5, "val/fid": 30.0, "val/precision": 0.1, "val/w_estimate": 3.0},
        {"gen_iter": 6, "train/critic_loss": 1.0},  # a training row: not a validation
        {"gen_iter": 10, "val/fid": 20.0, "val/precision": 0.2, "val/w_estimate": 2.0},
        {"gen_iter": 15, "val/fid": 25.0, "val/precision": 0.3, "val/w_estimate": 1.0}]


def test_a_run_without_hydra_choices_is_named_by_its_classes_and_keeps_its_search_trial(tmp_path: Path) -> None:
    run = read_run(write_run(tmp_path / "search" / "trial_7", CONFIG, ROWS), position=0)
    assert (run.method, run.trial, run.seed, run.finished) == ("wgan+gp", 7, 0, True)
    assert [row["gen_iter"] for row in run.validations] == [5.0, 10.0, 15.0]
    assert values_at(run, "val/fid") == {"gen_iter": 10.0, "val/fid": 20.0, "val/precision": 0.2, "val/w_estimate": 2.0}
    assert values_at(run, "val/fid", at="last")["val/fid"] == 25.0
    assert values_at(run, "val/precision")["val/precision"] == 0.3  # higher is better


def test_evaluation_json_takes_precedence_over_the_logged_validations(tmp_path: Path) -> None:
    evaluation = [{"gen_iter": 5, "fid": 12.0, "precision": 0.6, "seed": 1}, {"gen_iter": 10, "fid": None},
                  {"gen_iter": 15, "fid": 9.5, "precision": 0.4, "seed": 1}]
    run = read_run(write_run(tmp_path / "0", CONFIG, ROWS, evaluation), position=0)
    values = values_at(run, "val/fid")
    assert (values["val/fid"], values["val/precision"], values["gen_iter"]) == (9.5, 0.4, 15.0)


def test_stacked_digits_runs_compare_the_mode_kl_and_rank_the_estimate_against_it(tmp_path: Path) -> None:
    """Stacked digits trained with metrics=none log no FID: the default metric is the mode histogram's KL to
    uniform (lower is better), stacked modes are higher-is-better, and ρ ranks the estimate against the KL."""
    rows = [{"gen_iter": 10 * (i + 1), "val/stacked_kl": kl, "val/stacked_modes": modes, "val/w_estimate": kl / 2}
            for i, (kl, modes) in enumerate([(3.0, 40.0), (1.5, 300.0), (2.0, 250.0)])]
    run = read_run(write_run(tmp_path / "0", CONFIG, rows), position=0)
    assert default_metric(available_metrics([run])) == "val/stacked_kl"
    assert values_at(run, "val/stacked_kl")["gen_iter"] == 20.0
    assert values_at(run, "val/stacked_modes")["val/stacked_modes"] == 300.0
    assert target_of(run) == "val/stacked_kl"
    assert run_rho(run) == (pytest.approx(1.0), 3)
    report = build_study([run], "val/stacked_kl", available_metrics([run]), "best", 100, 0)
    assert "ρ(val/w_estimate, stacked-modes KL): median" in header(report)


def fid_rows(*fids: float) -> list[dict]:
    return [{"gen_iter": 5 * (i + 1), "val/fid": fid, "val/w_estimate": fid / 10} for i, fid in enumerate(fids)]


def test_a_search_and_its_reseeded_best(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Trials of a random search (search.trial, sampled values as overrides) and runs marked study.reseed_of: the
    reseed command keeps the sampled values and drops the search; the reseeded runs are seeds, not trials."""
    search = ["search=wide", "search.trial={t}", "optim.generator.lr={lr}", "seed=0", "hydra.sweep.dir=/x"]
    for t, (lr, fids) in enumerate([("1e-4", (30.0, 20.0, 25.0)), ("3e-3", (12.0, 10.0, 11.0)),
                                    ("5e-2", (50.0, 60.0, 40.0))]):
        config = {**CONFIG, "search": {"trial": t}}
        write_run(tmp_path / "sweep" / str(t), config, fid_rows(*fids),
                  overrides=[line.format(t=t, lr=lr) for line in search])
    for seed, fids in ((1, (14.0, 12.0, 13.0)), (2, (16.0, 15.0, 14.0))):
        config = {**CONFIG, "seed": seed, "search": {"trial": None}, "study": {"reseed_of": "wgan+gp"}}
        write_run(tmp_path / "reseed" / "wgan_gp" / str(seed - 1), config, fid_rows(*fids))
    with pytest.raises(SystemExit) as stopped:
        study.main([str(tmp_path / "sweep"), "--reseed", "3", "--resamples", "200"])
    assert stopped.value.code == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| wgan+gp "))
    # trials 3 | diverged 0 | best 10 | trial 1 | trial 0: 20 | median 20 | best of 3 | (no precision column) | –
    assert row.split(" | ")[1:7] == ["3", "0", "10", "1", "20", "20"]
    assert row.split(" | ")[-3:] == ["–", "1.00", "3 of 3 |"]  # estimate = FID / 10: ρ = 1 in every trial
    command = shlex.split(out.splitlines()[-1])
    assert command == ["python", "-m", "gan_zoo.train", "-m", "optim.generator.lr=3e-3", "seed=1,2,3",
                       '+study.reseed_of="wgan+gp"', f"hydra.sweep.dir={tmp_path / 'sweep' / 'reseed' / 'wgan_gp'}"]
    with pytest.raises(SystemExit):
        study.main([str(tmp_path / "sweep"), str(tmp_path / "reseed"), "--resamples", "200"])
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("| wgan+gp "))
    assert row.split(" | ")[1] == "3"  # the reseeded runs are not trials
    assert row.split(" | ")[-3] == "13.0 ± 1.4 (2 seeds)"  # best of each: 12 and 14


def test_bad_input_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    def error(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as stopped:
            study.main([*args, "--out", str(tmp_path / "out")])
        return stopped.value.code, capsys.readouterr().err.strip()

    code, line = error(str(tmp_path / "missing"))
    assert code == 2 and line == (f"gan_zoo: error: {tmp_path / 'missing'} does not exist: give the folder of a "
                                  "`python -m gan_zoo.train -m` sweep (or of a random search, or a study's reseed "
                                  "folder)")
    (tmp_path / "empty" / "0" / ".hydra").mkdir(parents=True)
    (tmp_path / "empty" / "0" / ".hydra" / "config.yaml").write_text(yaml.safe_dump(CONFIG))
    code, line = error(str(tmp_path / "empty"))
    assert code == 1 and line.startswith(f"gan_zoo: error: no finished run under {tmp_path / 'empty'}: none of its "
                                         "1 run folders has metrics.json")
    write_run(tmp_path / "done" / "0", CONFIG, ROWS)
    code, line = error(str(tmp_path / "done"), "--metric", "val/fdi")
    assert code == 2 and line == "gan_zoo: error: unknown metric val/fdi; choose from: val/fid, val/precision"
    code, line = error(str(tmp_path / "done"), "--launch")
    assert code == 2 and "add --reseed S" in line


# -------------------------------------------------------------------------------------- the report on real runs
def run_study(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gan_zoo.study", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two methods × two seeds, 3 validations each, with the real CLI."""
    folder = tmp_path_factory.mktemp("study") / "sweep"
    result = run_train([*TINY, "objective=wgan", "lipschitz=gp,clip", "seed=0,1"], folder, multirun=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder


def history(run: Path) -> list[dict[str, float]]:
    with (run / "csv" / "metrics.csv").open() as file:
        rows = [row for row in csv.DictReader(file) if row.get("val/w1_exact")]
    return [{k: float(v) for k, v in row.items() if v} for row in rows]


def test_the_report_on_a_real_sweep(sweep: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = run_study(sweep, "--out", out)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("| method | trials | diverged | best val/w1_exact (lower is better) | best trial |")
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in lines[2:4]}
    assert set(rows) == {"wgan+gp", "wgan+clip"}
    assert rows["wgan+gp"][1] == rows["wgan+clip"][1] == "2"
    # overrides expand in order: jobs 0, 1 are gp (seeds 0, 1), jobs 2, 3 clip
    jobs = {"wgan+gp": [sweep / "0", sweep / "1"], "wgan+clip": [sweep / "2", sweep / "3"]}
    with (out / "study.csv").open() as file:
        by_method = {row["method"]: row for row in csv.DictReader(file)}
    for method, folders in jobs.items():
        best = {folder: min(row["val/w1_exact"] for row in history(folder)) for folder in folders}
        winner = min(best, key=best.get)
        row = by_method[method]
        assert float(row["best"]) == pytest.approx(best[winner])
        assert row["best_folder"] == str(winner) and row["best_trial"] == winner.name
        assert float(row["median"]) == pytest.approx(sum(best.values()) / 2)
        assert float(row["best_of_k_low"]) == pytest.approx(min(best.values()))
        assert row["trials"] == "2" and row["reseed_n"] == "0"
        assert int(row["rho_counted"]) + int(row["rho_excluded"]) == 2
    assert by_method["wgan+gp"]["default"] != "" and by_method["wgan+clip"]["default"] == ""  # trial 0 = job 0
    with (out / "study_trials.csv").open() as file:
        trials = list(csv.DictReader(file))
    assert len(trials) == 4
    for trial in trials:
        rows_ = history(Path(trial["folder"]))
        assert trial["rho_validations"] == "3"
        expected = spearmanr([r["val/w_estimate"] for r in rows_], [r["val/w1_exact"] for r in rows_]).statistic
        assert (trial["rho"] == "") if math.isnan(expected) else float(trial["rho"]) == pytest.approx(expected)
    for name in ("study_budget_val_w1_exact.png", "study_trials_val_w1_exact.png", "study_estimate_curves.png"):
        with Image.open(out / name) as image:
            assert image.size[0] > 300 and image.size[1] > 200
    assert (out / "study.md").read_text().startswith(lines[0])


def test_reseed_commands_compose(sweep: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "report"
    with pytest.raises(SystemExit) as stopped:
        study.main([str(sweep), "--out", str(out), "--reseed", "2", "--resamples", "100"])
    assert stopped.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    commands = [shlex.split(line) for line in lines if line.startswith("python -m gan_zoo.train")]
    assert len(commands) == 2
    for command in commands:
        assert command[3] == "-m" and "seed=1,2" in command
        method = next(arg.split("=", 1)[1].strip('"') for arg in command if arg.startswith("+study.reseed_of="))
        assert f"hydra.sweep.dir={out / 'reseed' / method.replace('+', '_')}" in command
        assert f"lipschitz={method.split('+')[1]}" in command and not any(a.startswith("seed=0") for a in command)
        if method != "wgan+gp":
            continue
        # the single-job form of the same command composes (one is enough: they differ in lipschitz= only)
        single = [a if a != "seed=1,2" else "seed=1" for a in command[4:] if not a.startswith("hydra.sweep")]
        composed = subprocess.run([sys.executable, "-m", "gan_zoo.train", *single, "--cfg", "job"],
                                  capture_output=True, text=True, timeout=120)
        assert composed.returncode == 0, composed.stderr
        config = yaml.safe_load(composed.stdout)
        assert config["study"]["reseed_of"] == method and config["seed"] == 1 and config["gen_iters"] == 15
