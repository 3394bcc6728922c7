"""`python -m gan_zoo.evaluate` on real checkpoints of short runs: one checkpoint, or every checkpoint of a run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FAST, run_train

KEEP_ALL = "keep_checkpoints=all"  # the default; named for what the tests rely on


def evaluate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gan_zoo.evaluate", *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("toy") / "run"
    result = run_train([*FAST, "logger=none", "data=ring", "data.val_size=500", "callbacks.toy_metrics.num_samples=300",
                        KEEP_ALL], run)
    assert result.returncode == 0, result.stderr[-2000:]
    return run


def test_one_checkpoint_gives_the_validation_metrics_and_more(tmp_path: Path, toy_run: Path) -> None:
    result = evaluate(f"ckpt_path={toy_run / 'checkpoints' / 'last.ckpt'}", f"out={tmp_path / 'e.json'}",
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    evaluation = json.loads((tmp_path / "e.json").read_text())
    for key in ("w1_exact", "w1_noise_floor", "modes", "high_quality", "precision", "recall", "density", "coverage"):
        assert key in evaluation, key
    # the toy-metrics callback's count (300 of the 500 held out), as the run's validation used
    assert evaluation["num_fake"] == evaluation["num_real"] == 300 and evaluation["num_modes"] == 8
    assert evaluation["gen_iter"] == 4 and 0 <= evaluation["precision"] <= 1
    # the same numbers as the run's own last validation (same held-out set, noise and seed)
    logged = json.loads((toy_run / "metrics.json").read_text())
    for key in ("w1_noise_floor", "w1_exact", "high_quality", "precision", "recall", "density", "coverage"):
        assert evaluation[key] == pytest.approx(logged[f"val/{key}"], rel=1e-6, abs=1e-9), key
    assert evaluation["modes"] == logged["val/modes"]


def test_a_run_gives_a_curve_and_names_its_best_checkpoint(tmp_path: Path, toy_run: Path) -> None:
    result = evaluate(f"run={toy_run}", f"out={tmp_path / 'run' / 'evaluation.json'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    evaluation = json.loads((tmp_path / "run" / "evaluation.json").read_text())
    assert [e["gen_iter"] for e in evaluation["checkpoints"]] == [2, 4]
    assert evaluation["best_by"] == "w1_exact"
    assert evaluation["best"]["w1_exact"] == min(e["w1_exact"] for e in evaluation["checkpoints"])
    assert (tmp_path / "run" / "curve.png").is_file() and "best checkpoint by w1_exact" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    ([], "give one of ckpt_path=<checkpoint> or run=<run folder>"),
    (["num_fake=1"], "num_fake must be >= 2 (got 1)"),
    (["run=/nonexistent/run"], "holds no gen_iter_<k>.ckpt"),
])
def test_bad_evaluate_settings_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = evaluate(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1].startswith("gan_zoo: error: ") and message in result.stderr


def test_image_checkpoint_gets_the_runs_image_metrics(tmp_path: Path) -> None:
    run = tmp_path / "digits"
    result = run_train(["data=digits", "model=dcgan", "model.generator.width=8", "model.critic.width=8",
                        "metrics=digits", "metrics.num_fake=200", "metrics.num_real=300", "gen_iters=2",
                        "eval_every=2", "n_critic=1", "data.batch_size=16", "logger=none"], run)
    assert result.returncode == 0, result.stderr[-2000:]
    result = evaluate(f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    evaluation = json.loads((run / "evaluation" / "last.json").read_text())
    assert evaluation["num_fake"] == 200 and evaluation["num_real"] == 300
    assert evaluation["features"].endswith("DigitClassifier") and len(evaluation["features_sha256"]) == 64
    logged = json.loads((run / "metrics.json").read_text())
    assert evaluation["fid"] == pytest.approx(logged["val/fid"], rel=1e-4)  # the same samples, features and seed
    assert evaluation["is_mean"] > 0 and "kid_mean" in evaluation
    assert evaluation["precision"] == pytest.approx(logged["val/precision"], rel=1e-6, abs=1e-9)
    assert 0 <= evaluation["coverage"] <= 1
