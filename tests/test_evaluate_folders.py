"""`python -m gan_zoo.evaluate fake=<folder> real=<folder>`: two folders of images compared with no checkpoint, the
same numbers as torchmetrics' FID/KID called directly on the same images; bad input is one line."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance
from torchvision.transforms.v2 import functional as TF

from gan_zoo.metrics.features import DigitClassifier, inception_v3, write_untrained_inception_weights

CLASSIFIER = Path(__file__).resolve().parents[1] / "conf" / "metrics" / "classifier.yaml"
N = 12  # images per folder: KID's subset (min(subset_size, counts)) is then every image, so no random draw matters


def evaluate(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gan_zoo.evaluate", *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


def write_images(folder: Path, n: int, size: tuple[int, int], seed: int, grey_every: int = 0) -> Path:
    """n random PNGs (width, height) = size; every grey_every-th one grey (mode L)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        image = Image.fromarray(pixels)
        if grey_every and i % grey_every == 0:
            image = image.convert("L")
        image.save(folder / f"{i:03d}.png")
    return folder


def read_as_rgb(folder: Path, size: int) -> torch.Tensor:
    """The folder's images read here with PIL alone: RGB, centre crop to a square, antialiased resize to size."""
    images = []
    for path in sorted(folder.glob("*.png")):
        with Image.open(path) as image:
            tensor = torch.from_numpy(np.array(image.convert("RGB"))).permute(2, 0, 1)
        side = min(tensor.shape[-2:])
        tensor = TF.center_crop(tensor, [side, side])
        images.append(TF.resize(tensor, [size, size], antialias=True) if side != size else tensor)
    return torch.stack(images)


def direct(feature: torch.nn.Module, fake: torch.Tensor, real: torch.Tensor) -> dict[str, float]:
    fid = FrechetInceptionDistance(feature=feature)
    kid = KernelInceptionDistance(feature=feature, subset_size=min(len(fake), len(real)))
    for metric in (fid, kid):
        metric.update(real, real=True)
        metric.update(fake, real=False)
    return {"fid": float(fid.compute()), "kid_mean": float(kid.compute()[0])}


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("folders")
    # fake: 20 × 20 RGB (its size is the default image_size); real: 24 × 32, some grey, cropped and resized to 20
    return write_images(root / "fake", N, (20, 20), 0), write_images(root / "real", N, (24, 32), 1, grey_every=4)


def test_digits_features_give_torchmetrics_numbers(tmp_path: Path, folders: tuple[Path, Path]) -> None:
    fake, real = folders
    out = tmp_path / "e.json"
    result = evaluate(f"fake={fake}", f"real={real}", "metrics=digits", f"out={out}", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    evaluation = json.loads(out.read_text())
    expected = direct(DigitClassifier(output="features"), read_as_rgb(fake, 20), read_as_rgb(real, 20))
    assert evaluation["fid"] == pytest.approx(expected["fid"], rel=1e-4)
    assert evaluation["kid_mean"] == pytest.approx(expected["kid_mean"], rel=1e-4)
    weights = Path("~/.cache/gan_zoo/digit_classifier.pt").expanduser()
    assert evaluation["features_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert evaluation["features"] == "gan_zoo.metrics.features.DigitClassifier"
    assert (evaluation["num_fake"], evaluation["num_real"], evaluation["image_size"]) == (N, N, 20)
    assert evaluation["real"] == str(real.resolve()) and evaluation["real_source"] == "folder"
    assert evaluation["kid_subset_size"] == N and 0 <= evaluation["coverage"] <= 1
    # the same out again: refused, an earlier evaluation is never replaced silently
    again = evaluate(f"fake={fake}", f"real={real}", "metrics=digits", f"out={out}", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines()[-1] == (f"gan_zoo: error: {out} exists (an earlier evaluation): choose "
                                                     "another out=, or overwrite=true to replace it")


def test_inception_features_give_torchmetrics_numbers(tmp_path: Path, folders: tuple[Path, Path]) -> None:
    fake, real = folders
    weights = write_untrained_inception_weights(tmp_path / "inception.pth")  # offline: random weights, same net
    result = evaluate(f"fake={fake}", f"real={real}", f"metrics.weights_path={weights}", "image_size=16",
                      "num_fake=6", "num_real=6", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    evaluation = json.loads(result.stdout)  # no out=: the JSON on stdout
    # num_fake=6 of the 12: the ones drawn with the seed, kept in file order (few: Inception is slow on a CPU)
    chosen = torch.randperm(N, generator=torch.Generator().manual_seed(evaluation["seed"]))[:6].sort().values
    expected = direct(inception_v3("2048", str(weights)), read_as_rgb(fake, 16)[chosen], read_as_rgb(real, 16)[chosen])
    assert evaluation["fid"] == pytest.approx(expected["fid"], rel=1e-4)
    assert evaluation["kid_mean"] == pytest.approx(expected["kid_mean"], rel=1e-4)
    assert evaluation["features"] == "gan_zoo.metrics.features.InceptionV3" and evaluation["image_size"] == 16
    assert evaluation["features_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    assert (evaluation["num_fake"], evaluation["num_real"], evaluation["seed"]) == (6, 6, 4321)


@pytest.mark.parametrize(("args", "message"), [
    (["fake={fake}"], "fake=<folder> needs real=<folder>, the images to compare it with"),
    (["fake={fake}", "real={real}", "ckpt_path=x.ckpt"], "fake= compares two folders without a checkpoint: drop "
     "ckpt_path=/run= (a checkpoint's samples against a folder: ckpt_path=<ckpt> real=<folder>)"),
    (["fake={fake}", "real={tmp}/nowhere"], "real={tmp}/nowhere does not exist: point real= at a folder of images"),
    (["fake={tmp}/empty", "real={real}"], "fake={tmp}/empty holds no image files (read: .png, .jpg, .jpeg, .bmp, .gif, "
     ".webp, .tif, .tiff, in the folder and its subfolders): point fake= at a folder of images"),
    (["fake={fake}", "real={real}", "num_fake=0"], "num_fake must be >= 2 (got 0)"),
    (["fake={fake}", "real={real}", "num_real=-1"], "num_real must be >= 2 (got -1)"),
    (["fake={fake}", "real={real}", "num_real=13"], "num_real=13 but real= holds 12 readable images: lower num_real "
     "(or null: all of them)"),
    (["fake={fake}", "real={real}", "metrics=none"], "metrics=none computes no image metrics: choose "
     "metrics=inception or metrics=digits"),
    pytest.param(["fake={fake}", "real={real}", "metrics=classifier"], "this metrics= option trains its feature "
                 "network on a run's labelled data, which fake= real= does not have: choose metrics=inception or "
                 "metrics=digits, or measure a checkpoint of that run against the folder (ckpt_path=<ckpt> "
                 "real=<folder>)", marks=pytest.mark.skipif(not CLASSIFIER.is_file(), reason="no metrics=classifier")),
    (["ckpt_path=x.ckpt", "image_size=32"], "image_size= is for fake= real=: a checkpoint's samples and real= images "
     "take the run's image size"),
])
def test_bad_folder_settings_are_one_line(tmp_path: Path, folders: tuple[Path, Path], args: list[str],
                                          message: str) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not an image")
    fake, real = folders
    values = {"fake": fake, "real": real, "tmp": tmp_path}
    result = evaluate(*(a.format(**values) for a in args), cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == f"gan_zoo: error: {message.format(**values)}"
