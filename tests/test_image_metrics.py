"""FID/KID/IS share one feature network: one pass per batch, the same numbers as separate torchmetrics metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.inception import InceptionScore
from torchmetrics.image.kid import KernelInceptionDistance

import gan_zoo  # noqa: F401 - registers the configs' resolvers (min)
from conftest import FAST, read_metrics, run_train
from gan_zoo.metrics.prdc import PrecisionRecallDensityCoverage
from gan_zoo.metrics.features import (
    DigitClassifier,
    InceptionV3,
    SharedFeatures,
    inception_v3,
    write_untrained_inception_weights,
)

CONF = Path(__file__).resolve().parents[1] / "conf"


@pytest.fixture(scope="module")
def untrained_inception(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_untrained_inception_weights(tmp_path_factory.mktemp("inception") / "inception.pth")


def _images(n: int, seed: int) -> torch.Tensor:
    return torch.randint(0, 256, (n, 3, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(seed))


def _evaluate(metrics: dict, real: torch.Tensor, fake: torch.Tensor) -> dict[str, torch.Tensor]:
    for batch in real.split(40):
        metrics["fid"].update(batch, real=True)
        metrics["kid"].update(batch, real=True)
    for batch in fake.split(40):
        metrics["fid"].update(batch, real=False)
        metrics["kid"].update(batch, real=False)
        metrics["is"].update(batch)
    torch.manual_seed(0)  # KID and IS draw random subsets
    return {name: metric.compute() for name, metric in metrics.items()}


def test_shared_network_gives_separate_metrics_numbers_in_one_pass_per_batch() -> None:
    real, fake = _images(120, 0), _images(100, 1)
    separate = {"fid": FrechetInceptionDistance(feature=DigitClassifier(output="features")),
                "kid": KernelInceptionDistance(feature=DigitClassifier(output="features"), subset_size=50),
                "is": InceptionScore(feature=DigitClassifier(output="logits"))}
    network = DigitClassifier(output="all")
    passes = []
    network.register_forward_hook(lambda *_: passes.append(1))
    shared = SharedFeatures(network)
    config = OmegaConf.load(CONF / "metrics" / "digits.yaml").functions
    ours = {"fid": FrechetInceptionDistance(feature=shared.output(config.fid.feature)),
            "kid": KernelInceptionDistance(feature=shared.output(config.kid.feature), subset_size=50),
            "is": InceptionScore(feature=shared.output(config["is"].feature))}
    expected, got = _evaluate(separate, real, fake), _evaluate(ours, real, fake)
    assert len(passes) == 3 + 3  # one per batch (3 real, 3 generated), not one per metric and batch
    for name in expected:
        assert torch.allclose(torch.as_tensor(got[name]), torch.as_tensor(expected[name]), rtol=1e-6), name


def test_a_batch_changed_in_place_is_computed_again() -> None:
    shared = SharedFeatures(DigitClassifier(output="all"))
    images = _images(4, 0)
    first = shared(images)["features"].clone()
    images.fill_(0)
    assert not torch.equal(shared(images)["features"], first)


def test_unknown_output_names_the_outputs() -> None:
    with pytest.raises(ValueError, match="unknown output '2048'; DigitClassifier gives features, logits"):
        SharedFeatures(DigitClassifier(output="all")).output("2048")


def test_inception_gives_torchmetrics_outputs_in_one_pass(untrained_inception: Path) -> None:
    images = _images(3, 2)
    outputs = InceptionV3(weights_path=str(untrained_inception))(images)
    for name in ("2048", "logits_unbiased"):
        assert torch.equal(outputs[name], inception_v3(name, str(untrained_inception))(images)), name


def test_inception_metrics_config_instantiates_with_one_network(untrained_inception: Path) -> None:
    config = OmegaConf.create({"metrics": OmegaConf.load(CONF / "metrics" / "inception.yaml")}).metrics
    config.weights_path = str(untrained_inception)
    shared = SharedFeatures(instantiate(config.features))
    metrics = {name: instantiate(c, feature=shared.output(c.feature)) for name, c in config.functions.items()}
    # torchmetrics' metrics keep their feature module as .inception, gan_zoo's PRDC as .feature
    features = [m.feature if isinstance(m, PrecisionRecallDensityCoverage) else m.inception for m in metrics.values()]
    assert set(metrics) == {"fid", "kid", "is", "prdc"}
    assert {type(f.shared.network) for f in features} == {InceptionV3}
    assert len({id(f.shared) for f in features}) == 1


def test_training_logs_inception_fid_kid_is_offline(tmp_path: Path, untrained_inception: Path) -> None:
    """metrics=inception end to end, on a weights file placed where metrics.weights_path points."""
    run = tmp_path / "run"
    result = run_train([*FAST, "data=digits", "model=dcgan", "metrics=inception", "metrics.num_fake=16",
                        "metrics.num_real=16", f"metrics.weights_path={untrained_inception}"], run)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = read_metrics(run)
    for key in ("val/fid", "val/kid_mean", "val/kid_std", "val/is_mean", "val/is_std", "val/precision", "val/recall",
                "val/density", "val/coverage"):
        assert key in metrics and metrics[key] == metrics[key], key  # logged and not NaN
    assert metrics["val/metric_num_fake"] == 16
