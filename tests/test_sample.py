"""After training: `python -m gan_zoo.sample` and `gan_zoo.load` on real checkpoints of short runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import FAST, run_train
from PIL import Image

import gan_zoo

IMAGE_RUN = ["data=digits", "model=dcgan", "model.generator.width=8", "model.critic.width=8", "metrics=none",
             "gen_iters=2", "eval_every=2", "n_critic=1", "data.batch_size=16", "logger=none", "ema_decay=0.5"]


def sample(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gan_zoo.sample", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


@pytest.fixture(scope="module")
def toy_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("toy") / "run"
    result = run_train([*FAST, "logger=none"], run)
    assert result.returncode == 0, result.stderr[-2000:]
    return run / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="module")
def image_ckpt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("digits") / "run"
    result = run_train(IMAGE_RUN, run)
    assert result.returncode == 0, result.stderr[-2000:]
    return run / "checkpoints" / "last.ckpt"


def test_toy_samples_points_scatter_and_walks(tmp_path: Path, toy_ckpt: Path) -> None:
    result = sample(f"ckpt_path={toy_ckpt}", "num_samples=300", f"out={tmp_path / 'a'}", "batch_size=64", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    points = np.load(tmp_path / "a" / "samples.npy")
    assert points.shape == (300, 2) and np.isfinite(points).all()
    assert (tmp_path / "a" / "scatter.png").is_file() and (tmp_path / "a" / "interpolation.png").is_file()
    record = json.loads((tmp_path / "a" / "sample.json").read_text())
    assert record["gen_iter"] == 4 and record["num_samples"] == 300 and record["ema"] is False
    # the same seed gives the same points whatever the batch size; the notebook API gives them too
    again = sample(f"ckpt_path={toy_ckpt}", "num_samples=300", f"out={tmp_path / 'b'}", "batch_size=300",
                   cwd=tmp_path)
    assert again.returncode == 0
    np.testing.assert_array_equal(points, np.load(tmp_path / "b" / "samples.npy"))
    trained = gan_zoo.load(toy_ckpt, device="cpu")
    assert not trained.generator.training
    np.testing.assert_allclose(trained.sample(300, seed=0).numpy(), points, rtol=0, atol=1e-6)
    assert not torch.equal(trained.sample(10, seed=1), trained.sample(10, seed=0))


def test_image_samples_png_npz_grid_and_ema(tmp_path: Path, image_ckpt: Path) -> None:
    result = sample(f"ckpt_path={image_ckpt}", "num_samples=12", f"out={tmp_path / 'png'}", "grid=8",
                    "interpolation.rows=2", "interpolation.steps=4", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    files = sorted((tmp_path / "png" / "samples").glob("*.png"))
    assert [f.name for f in files] == [f"{i:06d}.png" for i in range(12)]
    assert Image.open(files[0]).size == (28, 28) and Image.open(files[0]).mode == "L"
    assert (tmp_path / "png" / "grid.png").is_file() and (tmp_path / "png" / "interpolation.png").is_file()
    result = sample(f"ckpt_path={image_ckpt}", "num_samples=12", f"out={tmp_path / 'npz'}", "format=npz", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    array = np.load(tmp_path / "npz" / "samples.npz")["images"]
    assert array.shape == (12, 28, 28, 1) and array.dtype == np.uint8
    np.testing.assert_array_equal(array[0, :, :, 0], np.asarray(Image.open(files[0])))
    trained, live = gan_zoo.load(image_ckpt, device="cpu"), gan_zoo.load(image_ckpt, ema=False, device="cpu")
    assert trained.uses_ema and not live.uses_ema
    assert not torch.equal(trained.sample(4, seed=0), live.sample(4, seed=0))  # the EMA copy is another net
    # overwrite=true replaces an earlier run's samples instead of mixing them with the new ones
    again = sample(f"ckpt_path={image_ckpt}", "num_samples=5", f"out={tmp_path / 'png'}", "overwrite=true", cwd=tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(list((tmp_path / "png" / "samples").glob("*.png"))) == 5


@pytest.mark.parametrize(("args", "message"), [
    (["num_samples=0"], "num_samples must be >= 1 (got 0)"),
    (["format=jpg"], "format must be one of png, npz (got 'jpg')"),
    (["num_sample=3"], "Could not override 'num_sample'"),
])
def test_bad_sample_settings_are_one_line(tmp_path: Path, toy_ckpt: Path, args: list[str], message: str) -> None:
    result = sample(f"ckpt_path={toy_ckpt}", f"out={tmp_path / 'out'}", *args, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("gan_zoo: error: ")
    assert message in result.stderr and "Traceback" not in result.stderr


def test_missing_settings_files_and_folders_are_one_line(tmp_path: Path, toy_ckpt: Path) -> None:
    missing = sample(f"out={tmp_path / 'out'}", cwd=tmp_path)
    assert missing.returncode == 2 and "ckpt_path must be given" in missing.stderr
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"weights": torch.zeros(2)}, foreign)
    result = sample(f"ckpt_path={foreign}", f"out={tmp_path / 'out'}", cwd=tmp_path)
    assert result.returncode == 2 and "is not a gan_zoo checkpoint" in result.stderr
    full = tmp_path / "full"
    full.mkdir()
    (full / "mine.txt").write_text("keep me")
    result = sample(f"ckpt_path={toy_ckpt}", f"out={full}", cwd=tmp_path)
    assert result.returncode == 2 and "is not empty" in result.stderr
    assert (full / "mine.txt").read_text() == "keep me" and len(list(full.iterdir())) == 1
    assert sample(f"ckpt_path={toy_ckpt}", f"out={full}", "overwrite=true", cwd=tmp_path).returncode == 0
    assert (full / "mine.txt").read_text() == "keep me"
