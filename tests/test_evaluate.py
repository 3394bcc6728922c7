"""`python -m gan_zoo.evaluate` on real checkpoints of short runs: one checkpoint, or every checkpoint of a run, against
the run's data or a folder of images."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
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
    ([], "give one of ckpt_path=<checkpoint> or run=<run folder> (with real=<folder> to compare with a folder's "
         "images), or fake=<folder> real=<folder>"),
    (["num_fake=1"], "num_fake must be >= 2 (got 1)"),
    (["run=/nonexistent/run"], "holds no gen_iter_<k>.ckpt"),
    (["ckpt_path=x.ckpt", "metrics.weights_path=/w.pth"], "metrics.weights_path=/w.pth: a checkpoint is measured with "
     "its run's stored metrics config; to replace it choose an option too, e.g. metrics=inception "
     "metrics.weights_path=/w.pth"),
])
def test_bad_evaluate_settings_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = evaluate(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1].startswith("gan_zoo: error: ") and message in result.stderr


TOY_ONLY = ("toy runs get exact W1, modes and precision/recall/density/coverage on coordinates instead")


@pytest.mark.parametrize(("args", "asked"), [
    (["ckpt_path={last}", "real={tmp}"], "real="),
    (["ckpt_path={last}", "metrics=inception"], "metrics="),
    (["run={run}", "best_by=fid"], "best_by=fid"),
])
def test_image_metrics_of_a_toy_run_are_refused(tmp_path: Path, toy_run: Path, args: list[str], asked: str) -> None:
    last = toy_run / "checkpoints" / "last.ckpt"
    result = evaluate(*(a.format(last=last, run=toy_run, tmp=tmp_path) for a in args), f"out={tmp_path / 'e.json'}",
                      cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    checkpoint = last if "ckpt_path" in args[0] else toy_run / "checkpoints" / "gen_iter_2.ckpt"
    assert result.stderr.strip().splitlines()[-1] == (
        f"gan_zoo: error: {checkpoint} is a toy run (points, not images): {asked} needs images; {TOY_ONLY} "
        f"(drop {asked})")


def test_a_checkpoint_of_another_program_is_refused(tmp_path: Path) -> None:
    torch.save({"state_dict": {}}, tmp_path / "other.ckpt")
    result = evaluate(f"ckpt_path={tmp_path / 'other.ckpt'}", cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == (
        f"gan_zoo: error: {tmp_path / 'other.ckpt'} is not a gan_zoo checkpoint (no gan_zoo_progress entry): use a "
        f"file from a run's checkpoints/ folder")


def test_an_earlier_evaluation_is_replaced_only_with_overwrite(tmp_path: Path, toy_run: Path) -> None:
    args = [f"ckpt_path={toy_run / 'checkpoints' / 'gen_iter_2.ckpt'}", f"out={tmp_path}"]  # a folder: JSON inside
    assert evaluate(*args, cwd=tmp_path).returncode == 0
    written = tmp_path / "gen_iter_2.json"
    first = written.read_text()
    result = evaluate(*args, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.strip().splitlines()[-1] == (
        f"gan_zoo: error: {written} exists (an earlier evaluation): choose another out=, or overwrite=true to replace "
        "it")
    result = evaluate(*args, "overwrite=true", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert written.read_text() == first  # the same seed: the same numbers


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("digits") / "run"
    result = run_train(["data=digits", "model=dcgan", "model.generator.width=8", "model.critic.width=8",
                        "metrics=digits", "metrics.num_fake=200", "metrics.num_real=300", "gen_iters=2",
                        "eval_every=2", "n_critic=1", "data.batch_size=16", "logger=none"], run)
    assert result.returncode == 0, result.stderr[-2000:]
    return run


def test_image_checkpoint_gets_the_runs_image_metrics(tmp_path: Path, digits_run: Path) -> None:
    run = digits_run
    result = evaluate(f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    evaluation = json.loads((run / "evaluation" / "last.json").read_text())
    assert evaluation["num_fake"] == 200 and evaluation["num_real"] == 300
    assert evaluation["features"].endswith("DigitClassifier") and len(evaluation["features_sha256"]) == 64
    assert evaluation["real_source"] == "run data" and evaluation["real"] == "gan_zoo.data.Digits"
    logged = json.loads((run / "metrics.json").read_text())
    assert evaluation["fid"] == pytest.approx(logged["val/fid"], rel=1e-4)  # the same samples, features and seed
    assert evaluation["is_mean"] > 0 and "kid_mean" in evaluation
    assert evaluation["precision"] == pytest.approx(logged["val/precision"], rel=1e-6, abs=1e-9)
    assert 0 <= evaluation["coverage"] <= 1


def test_a_folder_of_the_runs_own_real_images_gives_its_numbers(tmp_path: Path, digits_run: Path) -> None:
    from hydra.utils import instantiate

    import gan_zoo
    from gan_zoo.inference.writing import write_png_files

    last = digits_run / "checkpoints" / "last.ckpt"
    data = instantiate(gan_zoo.load(last, device="cpu").config.data)
    data.setup("fit")
    # the 300 training images validation used (seed 4321), as grey PNGs: read back, the same reference statistics
    write_png_files(data.real_images(300, seed=4321), tmp_path / "reference")
    result = evaluate(f"ckpt_path={last}", f"real={tmp_path / 'reference'}", f"out={tmp_path / 'e.json'}",
                      cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    evaluation = json.loads((tmp_path / "e.json").read_text())
    assert evaluation["real_source"] == "folder" and evaluation["real"] == str((tmp_path / "reference").resolve())
    assert evaluation["num_real"] == 300 and evaluation["num_fake"] == 200
    logged = json.loads((digits_run / "metrics.json").read_text())
    assert evaluation["fid"] == pytest.approx(logged["val/fid"], rel=1e-4)
    assert evaluation["precision"] == pytest.approx(logged["val/precision"], rel=1e-6, abs=1e-9)
    # a whole run against the folder: its own file names, next to the run-data evaluation
    result = evaluate(f"run={digits_run}", f"real={tmp_path / 'reference'}", "num_real=100", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    evaluation = json.loads((digits_run / "evaluation" / "evaluation_real-reference.json").read_text())
    assert [e["num_real"] for e in evaluation["checkpoints"]] == [100]
    assert evaluation["checkpoints"][0]["real_source"] == "folder"
    assert (digits_run / "evaluation" / "evaluation_real-reference.png").is_file()
