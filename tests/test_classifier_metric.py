"""metrics=classifier: a classifier trained on the run's own labelled data, cached by a hash of it, as the feature
network of FID/KID/IS/PRDC (gan_zoo.metrics.classifier)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from PIL import Image
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance

import gan_zoo  # noqa: F401 - registers the configs' resolvers (min)
from conftest import read_metrics, run_train
from gan_zoo.callbacks.image_metrics import ImageMetrics
from gan_zoo.data import Digits, ImageFolder
from gan_zoo.errors import ConfigError
from gan_zoo.metrics.classifier import DataClassifier
from gan_zoo.metrics.features import SharedFeatures

CONF = Path(__file__).resolve().parents[1] / "conf"


@pytest.fixture(scope="module")
def digits() -> Digits:
    data = Digits(val_size=297)
    data.setup()
    return data


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("classifiers")


@pytest.fixture(scope="module")
def digit_classifier(digits: Digits, cache: Path) -> DataClassifier:
    classifier = DataClassifier(cache_dir=str(cache))
    classifier.fit_to_data(digits)
    return classifier


def test_digits_classifier_is_accurate_and_trained_once(digits: Digits, cache: Path,
                                                         digit_classifier: DataClassifier) -> None:
    assert digit_classifier.trained and digit_classifier.summary["classifier_accuracy"] >= 0.9
    assert digit_classifier.held_out == 1797 // 5  # a fifth of the labelled images, never trained on
    assert digit_classifier.num_features == {"features": 128, "logits": 10}
    [path] = cache.glob("*.pt")
    assert path == digit_classifier.path
    written = path.stat().st_mtime_ns
    again = DataClassifier(cache_dir=str(cache))
    again.fit_to_data(digits)
    assert not again.trained and path.stat().st_mtime_ns == written  # loaded, not trained again
    assert again.summary == digit_classifier.summary
    for (name, mine), theirs in zip(digit_classifier.net.state_dict().items(), again.net.state_dict().values()):
        assert torch.equal(mine, theirs), name


def test_real_against_real_fid_is_zero_and_against_noise_is_not(digits: Digits,
                                                                 digit_classifier: DataClassifier) -> None:
    shared = SharedFeatures(digit_classifier)
    real = digits.real_images(400, seed=0).expand(-1, 3, -1, -1)
    noise = torch.randint(0, 256, real.shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(0))

    def fid(fake: torch.Tensor) -> float:
        metric = FrechetInceptionDistance(feature=shared.output("features"))
        metric.update(real, real=True)
        metric.update(fake, real=False)
        return float(metric.compute())

    assert abs(fid(real)) < 1e-3
    assert fid(noise) > 10.0


def _stripes(label: int, rng: np.random.Generator) -> np.ndarray:
    """16×16 grey: horizontal stripes (0), vertical stripes (1) or a centred square (2), with noise."""
    image = np.zeros((16, 16))
    phase = rng.integers(0, 4)
    if label == 0:
        image[phase::4] = 1.0
    elif label == 1:
        image[:, phase::4] = 1.0
    else:
        image[4 + phase // 2: 12 - phase // 2, 4 + phase // 2: 12 - phase // 2] = 1.0
    return np.clip(image * 200 + rng.normal(0, 30, image.shape) + 20, 0, 255).astype(np.uint8)


def _write_folder(root: Path, classes: bool, per_class: int = 40) -> Path:
    rng = np.random.default_rng(0)
    for label, name in enumerate(["horizontal", "vertical", "square"]):
        folder = root / name if classes else root
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(_stripes(label, rng), "L").save(folder / f"{name}_{i}.png")
    return root


def test_folder_with_class_sub_folders(tmp_path: Path) -> None:
    data = ImageFolder(str(_write_folder(tmp_path / "images", classes=True)), image_size=16, channels=1, val_size=10)
    data.setup()
    classifier = DataClassifier(cache_dir=str(tmp_path / "cache"))
    classifier.fit_to_data(data)
    assert classifier.classes == ["horizontal", "square", "vertical"]
    assert classifier.held_out == 24 and classifier.summary["classifier_accuracy"] >= 0.9
    other = DataClassifier(cache_dir=str(tmp_path / "other"))  # trained again, from scratch, with the same seed
    other.fit_to_data(data)
    assert other.trained and other.path.name == classifier.path.name  # same data, same key
    for mine, theirs in zip(classifier.net.parameters(), other.net.parameters()):
        assert torch.equal(mine, theirs)  # same key, same weights


def test_folder_without_class_sub_folders_says_how_to_fix(tmp_path: Path) -> None:
    root = _write_folder(tmp_path / "flat", classes=False, per_class=3)
    data = ImageFolder(str(root), image_size=16, channels=1, val_size=2)
    data.setup()
    expected = (f"metrics=classifier needs one sub-folder per class in data.path, but 9 of the 9 images in {root} are "
                f"in no sub-folder (e.g. horizontal_0.png): move each class's images into {root}/<class name>/, or "
                f"use metrics=inception (or metrics=digits for grey digits)")
    with pytest.raises(ConfigError, match=f"^{re.escape(expected)}$"):
        DataClassifier(cache_dir=str(tmp_path / "cache")).fit_to_data(data)


def _metrics(config_overrides: dict) -> ImageMetrics:
    config = OmegaConf.create({"metrics": OmegaConf.load(CONF / "metrics" / "classifier.yaml")})
    config.metrics.num_fake = config.metrics.num_real = 50
    config.merge_with({"metrics": config_overrides})
    plain = OmegaConf.to_container(config, resolve=True)["metrics"]
    return ImageMetrics(plain["functions"], plain["features"], num_fake=50, num_real=50)


def test_a_classifier_of_other_images_is_refused_at_set_up(digit_classifier: DataClassifier) -> None:
    rgb = Digits(channels=3, image_size=32, val_size=297)
    rgb.setup()
    metrics = _metrics({"weights_path": str(digit_classifier.path)})
    expected = (f"metrics=classifier: the classifier {digit_classifier.path} was trained on 1×28×28 images and cannot "
                f"score the data's 3×32×32 images: set data.channels and data.image_size to 1×28×28, or "
                f"metrics.weights_path=null to train one on this data")
    with pytest.raises(ConfigError, match=f"^{re.escape(expected)}$"):
        metrics.build_metrics(rgb)


class FixedSize(nn.Module):
    """A feature network that takes 3×28×28 images only."""

    num_features = {"features": 4}

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3 * 28 * 28, 4)

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"features": self.linear(images.float().flatten(1))}


def test_a_network_that_cannot_take_the_image_size_is_refused_at_set_up() -> None:
    small = Digits(image_size=16, val_size=297)
    small.setup()
    metrics = ImageMetrics({"fid": {"_target_": "torchmetrics.image.fid.FrechetInceptionDistance", "feature": "features"}},
                           {"_target_": "test_classifier_metric.FixedSize"}, num_fake=10, num_real=10)
    with pytest.raises(ConfigError, match=r"^metrics.features \(FixedSize\) cannot take the data's 1×16×16 images "
                                          r"\(fed as 3×16×16 uint8: .*\): set data.image_size and data.channels to "
                                          r"what it takes, or use metrics=inception or metrics=classifier$"):
        metrics.build_metrics(small)


def test_training_with_metrics_classifier_through_the_cli(tmp_path: Path, cache: Path,
                                                          digit_classifier: DataClassifier) -> None:
    run = tmp_path / "run"
    result = run_train(["data=digits", "model=dcgan", "metrics=classifier", "gen_iters=2", "eval_every=2",
                        "n_critic=1", "data.batch_size=16", "model.generator.width=8", "model.critic.width=8",
                        "logger=csv", "metrics.num_fake=32", "metrics.num_real=32", f"metrics.classifier_cache={cache}",
                        f"++callbacks.image_metrics.reference_cache={tmp_path / 'reference'}", "threads=1"], run)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = read_metrics(run)
    assert metrics["val/classifier_accuracy"] == pytest.approx(digit_classifier.summary["classifier_accuracy"])
    for key in ("val/fid", "val/kid_mean", "val/is_mean", "val/precision", "val/coverage"):
        assert metrics[key] == metrics[key], key  # logged and not NaN
    assert len(list((tmp_path / "reference").glob("*.pt"))) == 1
    assert len(list(cache.glob("*.pt"))) == 1  # the subprocess loaded the classifier the fixture trained
    assert "metrics=classifier: loaded a 10-class classifier on 1,438 of 1,797 labelled images" in result.stderr \
        + result.stdout
