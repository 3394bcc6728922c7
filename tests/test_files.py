"""Files that are what they say: metrics.json is valid JSON, 16-bit PNGs read as their grey levels, the digit
feature network says when it is not looking at digits, and train.log holds what the run printed."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import FAST, run_train
from PIL import Image

from gan_zoo.data.image_files import read_image
from gan_zoo.data.image_sets import Digits
from gan_zoo.errors import DataError
from gan_zoo.metrics.features import DigitClassifier
from gan_zoo.runtime.metrics_file import read_metrics, write_metrics


def strict_json(text: str) -> object:
    """json.loads that refuses NaN and Infinity, as JSON readers other than Python's do."""
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")
    return json.loads(text, parse_constant=refuse)


# ------------------------------------------------------------------------------------------------- metrics.json
def test_non_finite_metrics_are_valid_json_and_come_back(tmp_path: Path) -> None:
    path = write_metrics(tmp_path / "metrics.json", {"a": 1.5, "b": math.nan, "c": math.inf, "d": -math.inf, "n": 3})
    data = strict_json(path.read_text())
    assert data == {"a": 1.5, "b": None, "c": None, "d": None, "n": 3,
                    "non_finite": {"b": "nan", "c": "inf", "d": "-inf"}}
    back = read_metrics(path)
    assert back["a"] == 1.5 and back["n"] == 3 and math.isnan(back["b"]) and back["c"] == math.inf
    assert back["d"] == -math.inf and "non_finite" not in back


def test_a_truncated_metrics_file_is_one_data_error(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    path.write_text('{"gen_iter": 4, "val/w_es')
    with pytest.raises(DataError, match="is not valid JSON"):
        read_metrics(path)


def test_auto_resume_of_a_run_with_a_truncated_metrics_file_is_one_line(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text('{"gen_iter": 4, "val/w_es')
    result = run_train([*FAST, "logger=none"], run)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"gan_zoo: error: {run / 'metrics.json'} is not valid JSON (")
    assert "delete it to train the run again" in line
    assert line in (run / "train.log").read_text()  # the log file keeps the error too


def test_a_finished_runs_metrics_file_is_strict_json(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_train([*FAST, "logger=none"], run)
    assert result.returncode == 0, result.stderr[-2000:]
    data = strict_json((run / "metrics.json").read_text())
    assert data["gen_iter"] == 4 and isinstance(data["val/w_estimate"], float)
    log = (run / "train.log").read_text()
    assert log.strip(), "train.log is empty"


# ----------------------------------------------------------------------------------------------- 16-bit images
def test_a_16_bit_png_keeps_its_grey_levels(tmp_path: Path) -> None:
    levels = np.linspace(0, 65535, 16 * 16).round().astype(np.uint16).reshape(16, 16)
    path = tmp_path / "grey16.png"
    Image.fromarray(levels).save(path)
    with Image.open(path) as image:
        assert image.mode.startswith("I")  # PIL really reads it as 16-bit
    grey = read_image(path, size=16, channels=1)
    expected = torch.from_numpy((levels.astype(np.int64) >> 8).astype(np.uint8))
    assert grey.shape == (1, 16, 16) and grey.dtype == torch.uint8
    assert torch.equal(grey[0], expected)  # 0 → 0, 65535 → 255, 32768 → 128: not clipped to white
    assert grey.float().mean().item() == pytest.approx(127.5, abs=1)
    rgb = read_image(path, size=16, channels=3)
    assert all(torch.equal(rgb[c], expected) for c in range(3))


def test_a_16_bit_big_endian_image_reads_like_the_little_endian_one(tmp_path: Path) -> None:
    levels = np.linspace(0, 65535, 8 * 8).round().astype(np.uint16).reshape(8, 8)
    path = tmp_path / "grey16.tif"
    Image.frombytes("I;16B", (8, 8), levels.astype(">u2").tobytes()).save(path)
    assert torch.equal(read_image(path, size=8, channels=1)[0],
                       torch.from_numpy((levels.astype(np.int64) >> 8).astype(np.uint8)))


# ---------------------------------------------------------------------------------------- digit feature network
def _first_batch_warnings(images: torch.Tensor, caplog: pytest.LogCaptureFixture) -> list[str]:
    classifier = DigitClassifier(output="all")
    with caplog.at_level(logging.WARNING, logger="gan_zoo.metrics.digit_domain"):
        classifier(images)
        classifier(images)  # checked once: the first batch is the real reference set
    return [r.getMessage() for r in caplog.records if r.name == "gan_zoo.metrics.digit_domain"]


def _digits(size: int, channels: int) -> torch.Tensor:
    data = Digits(image_size=size, channels=channels, val_size=250)
    data.setup()
    return data.train_images[:250].expand(-1, 3, -1, -1) if channels == 1 else data.train_images[:250]


@pytest.mark.parametrize(("size", "channels"), [(28, 1), (32, 3)])
def test_real_digits_get_no_warning(caplog: pytest.LogCaptureFixture, size: int, channels: int) -> None:
    assert _first_batch_warnings(_digits(size, channels), caplog) == []


def test_rgb_noise_gets_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    noise = torch.randint(0, 256, (250, 3, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    warnings = _first_batch_warnings(noise, caplog)
    assert len(warnings) == 1
    assert warnings[0].startswith("metrics=digits: the real images are in colour and far from the digits it was "
                                  "trained on (feature distance ")
    assert "use metrics=inception" in warnings[0]


def test_grey_noise_is_far_from_the_digits(caplog: pytest.LogCaptureFixture) -> None:
    noise = torch.randint(0, 256, (250, 1, 28, 28), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)
    warnings = _first_batch_warnings(noise.expand(-1, 3, -1, -1), caplog)
    assert len(warnings) == 1 and "in colour" not in warnings[0] and "far from the digits" in warnings[0]


# ------------------------------------------------------------------------------------------------------ train.log
def test_train_log_holds_an_error_raised_inside_the_job(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_train([*FAST, "logger=none", "optimized_metric=val/fid"], run)
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("gan_zoo: error: optimized_metric 'val/fid' is not logged")
    log = (run / "train.log").read_text()
    assert line in log and log.count("gan_zoo: error:") == 1
    assert result.stderr.count("gan_zoo: error:") == 1  # the console shows it once
