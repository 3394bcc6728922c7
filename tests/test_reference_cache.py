"""Real-image reference statistics cached on disk (gan_zoo.metrics.reference_cache): the same numbers cold and warm,
a corrupt file recomputed with one warning, the digit-domain warning kept on a warm cache."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
from omegaconf import OmegaConf

import gan_zoo  # noqa: F401 - registers the configs' resolvers (min)
from gan_zoo.callbacks.image_metrics import ImageMetrics
from gan_zoo.metrics import reference_cache
from gan_zoo.metrics.digit_domain import bundled_digits

CONF = Path(__file__).resolve().parents[1] / "conf"


def _config(n: int):
    config = OmegaConf.create({"metrics": OmegaConf.load(CONF / "metrics" / "digits.yaml")})
    config.metrics.num_fake = config.metrics.num_real = n
    return OmegaConf.to_container(config, resolve=True)["metrics"]


def _digits(n: int, offset: int) -> torch.Tensor:
    return bundled_digits()[offset: offset + n]


def _score(cache: Path | None, real: torch.Tensor, fake: torch.Tensor) -> tuple[dict[str, float], ImageMetrics]:
    config = _config(len(real))
    metrics = ImageMetrics(config["functions"], config["features"], num_fake=len(fake), num_real=len(real),
                           batch_size=40, reference_cache=None if cache is None else str(cache))
    metrics.build_metrics()
    metrics.add_real_images(real)
    for batch in fake.split(40):
        metrics.update(batch, real=False)
    torch.manual_seed(0)  # KID and IS draw random subsets
    values: dict[str, float] = {}
    for name, metric in metrics.metrics.items():
        result = metric.compute()
        if isinstance(result, tuple):
            values[f"{name}_mean"], values[f"{name}_std"] = float(result[0]), float(result[1])
        elif isinstance(result, dict):
            values.update(result)
        else:
            values[name] = float(result)
    return values, metrics


def test_cold_and_warm_cache_give_the_numbers_without_cache(tmp_path: Path) -> None:
    real, fake = _digits(100, 0), _digits(100, 500).flip(-1)  # mirrored digits: a clearly non-zero FID
    plain, _ = _score(None, real, fake)
    cold, cold_metrics = _score(tmp_path, real, fake)
    files = list(tmp_path.glob("*.pt"))
    warm, warm_metrics = _score(tmp_path, real, fake)
    assert (cold_metrics.reference_hit, warm_metrics.reference_hit) == (False, True)
    assert len(files) == 1 and list(tmp_path.glob("*.pt")) == files
    assert set(plain) == {"fid", "kid_mean", "kid_std", "is_mean", "is_std", "precision", "recall", "density",
                          "coverage"}
    assert plain["fid"] > 1.0
    assert cold == plain and warm == plain  # equal to the last digit
    saved = reference_cache.load(files[0])
    assert set(saved) == {"fid", "kid", "prdc"}  # the Inception Score has no real side
    assert int(saved["fid"]["real_features_num_samples"]) == 100
    assert sum(len(t) for t in saved["kid"]["real_features"]) == 100


def test_other_real_images_get_their_own_file(tmp_path: Path) -> None:
    fake = _digits(50, 500)
    _score(tmp_path, _digits(50, 0), fake)
    _, other = _score(tmp_path, _digits(50, 50), fake)
    _, fewer = _score(tmp_path, _digits(49, 0), fake)
    assert other.reference_hit is False and fewer.reference_hit is False
    assert len(list(tmp_path.glob("*.pt"))) == 3


def test_a_corrupt_cache_file_is_recomputed_with_one_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    real, fake = _digits(60, 0), _digits(60, 600)
    expected, _ = _score(tmp_path, real, fake)
    [path] = tmp_path.glob("*.pt")
    path.write_bytes(path.read_bytes()[:100])  # truncated, as by a full disk
    with caplog.at_level(logging.WARNING, logger="gan_zoo.metrics.reference_cache"):
        again, metrics = _score(tmp_path, real, fake)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith(f"the reference statistics {path} could not be read (")
    assert warnings[0].endswith("); computing them again")
    assert metrics.reference_hit is False and again == expected
    assert reference_cache.load(path) is not None  # written again, whole
    _, warm = _score(tmp_path, real, fake)
    assert warm.reference_hit is True


def test_states_that_do_not_fit_are_recomputed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    real, fake = _digits(60, 0), _digits(60, 600)
    expected, metrics = _score(tmp_path, real, fake)
    [path] = tmp_path.glob("*.pt")
    states = reference_cache.load(path)
    states["fid"]["real_features_sum"] = torch.zeros(3, dtype=torch.float64)  # another feature size
    reference_cache.save(path, states, {})
    with caplog.at_level(logging.WARNING):
        again, metrics = _score(tmp_path, real, fake)
    assert f"the reference statistics {path} do not fit these metrics; computing them again" in caplog.messages
    assert metrics.reference_hit is False and again == expected


def test_the_digit_domain_warning_is_kept_on_a_warm_cache(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    noise = torch.randint(0, 256, (60, 3, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    for expected_hit in (False, True):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="gan_zoo.metrics.digit_domain"):
            _, metrics = _score(tmp_path, noise, _digits(60, 0))
        assert metrics.reference_hit is expected_hit
        found = [m for m in caplog.messages if m.startswith("metrics=digits: the real images are in colour")]
        assert len(found) == 1, caplog.messages  # once, for the real images, not again for the generated ones
