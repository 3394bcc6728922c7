"""Stacked digits (Stacked MNIST from scikit-learn's digits): the data set, its mode-coverage metric and the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from conftest import read_metrics, run_train
from gan_zoo.contracts import StackedDigitSource
from gan_zoo.data import Digits
from gan_zoo.data.images import to_unit_range
from gan_zoo.data.stacked_digits import StackedDigits
from gan_zoo.errors import ConfigError
from gan_zoo.metrics.features import DigitClassifier
from gan_zoo.metrics.stacked_modes import (
    StackedModeCounter,
    classifier_split,
    expected_uniform_kl,
    expected_uniform_modes,
    kl_to_uniform,
    mode_index,
    modes_of_labels,
)


@pytest.fixture(scope="module")
def data() -> StackedDigits:
    stacked = StackedDigits(num_train=400, val_size=50)
    stacked.setup()
    return stacked


@pytest.fixture(scope="module")
def counter() -> StackedModeCounter:
    return StackedModeCounter(DigitClassifier(output="logits"))


def channel_set(images: torch.Tensor) -> set[bytes]:
    return {bytes(x) for x in images.reshape(-1, images.shape[-2] * images.shape[-1]).numpy()}


def test_held_out_stacks_share_no_digit_with_training_ones(data: StackedDigits) -> None:
    digits, labels = data.digits()
    train, test = classifier_split(len(labels))
    assert len(train) == 1500 and len(test) == 297 and not set(train.tolist()) & set(test.tolist())
    train_digits, test_digits = channel_set(digits[train]), channel_set(digits[test])
    assert data.train_images.shape == (400, 3, 28, 28) and data.train_images.dtype == torch.uint8
    assert channel_set(data.train_images) <= train_digits
    held_out = channel_set(to_uint8_exact(data.held_out))
    assert held_out <= test_digits and not held_out & train_digits
    assert data.held_out.min() == -1.0 and data.held_out.max() == 1.0  # the range of data=digits
    # every channel is the digit data=digits makes at the same size, and its label is that digit's
    first = data.train_images[0, 1]
    index = next(i for i in train.tolist() if torch.equal(digits[i], first))
    assert data.train_labels[0, 1] == labels[index]
    assert torch.equal(Digits(image_size=28).load_images()[index, 0], first)


def to_uint8_exact(images: torch.Tensor) -> torch.Tensor:
    return images.add(1).mul(127.5).round().to(torch.uint8)


def test_stacked_digits_are_the_data_protocol_and_refuse_other_channel_counts() -> None:
    assert isinstance(StackedDigits(), StackedDigitSource)
    assert not isinstance(Digits(), StackedDigitSource)  # the callback switches itself off there
    with pytest.raises(ConfigError, match=r"data.channels must be 3 \(got 1\)"):
        StackedDigits(channels=1)
    with pytest.raises(ConfigError, match="set data.in_memory=true"):
        StackedDigits(in_memory=False)


def test_hand_made_histograms() -> None:
    assert mode_index(torch.tensor([[1, 2, 3], [0, 0, 0], [9, 9, 9]])).tolist() == [123, 0, 999]
    assert kl_to_uniform(torch.tensor([2, 1, 1, 0])) == pytest.approx(0.5 * math.log(2), abs=1e-12)  # q = ½, ¼, ¼
    assert kl_to_uniform(torch.tensor([5, 5, 5, 5])) == 0.0
    result = modes_of_labels(torch.tensor([[1, 2, 3], [1, 2, 3], [4, 5, 6]]))  # q = ⅔, ⅓ over 1,000 modes
    assert (result.modes, result.num_samples) == (2, 3)
    assert result.kl == pytest.approx(2 / 3 * math.log(2000 / 3) + 1 / 3 * math.log(1000 / 3), abs=1e-12)


def test_expected_values_for_uniform_draws() -> None:
    assert expected_uniform_kl(1, 2) == pytest.approx(math.log(2), abs=1e-12)  # one draw: q = (1, 0)
    assert expected_uniform_kl(2, 2) == pytest.approx(0.5 * math.log(2), abs=1e-12)  # ½ both in one mode
    assert expected_uniform_modes(2, 2) == pytest.approx(1.5, abs=1e-12)
    assert expected_uniform_modes(10000) == pytest.approx(1000 * (1 - 0.999**10000), rel=1e-12)  # 999.955
    assert expected_uniform_kl(10000) == pytest.approx(0.0509, abs=1e-4)  # ≈ (k − 1) / 2n = 0.04995


def test_counter_labels_each_channel_as_the_digit_classifier_does(data: StackedDigits,
                                                                  counter: StackedModeCounter) -> None:
    images = data.train_images[:20]
    one_by_one = torch.stack([counter.classifier(images[:, c:c + 1]).argmax(1) for c in range(3)], dim=1)
    assert torch.equal(counter.labels(images), one_by_one)
    assert torch.equal(counter.labels(to_unit_range(images)), one_by_one)  # generator range [−1, 1] too


def test_real_stacked_digits_cover_all_modes_and_a_one_mode_generator_one(data: StackedDigits,
                                                                         counter: StackedModeCounter) -> None:
    images, truth = data.held_out_stacks(10000, seed=0)
    labels = counter.labels(images)
    accuracy = (labels == truth).double().mean(0)
    # the classifier on its 297 test digits: 0.966 measured; a stacked image's mode is right with ≈ acc³ = 0.90
    assert ((accuracy > 0.93) & (accuracy < 1.0)).all(), accuracy
    assert float((labels == truth).all(1).double().mean()) == pytest.approx(float(accuracy.prod()), abs=0.02)
    for result in (modes_of_labels(truth), counter(images)):
        # 10,000 uniform draws cover 999.95 modes and give KL 0.0509 on average; the held-out digits' class counts
        # (26 to 35 of 297, not 1/10 each) add their product's KL 0.0148: 0.066 expected (0.063–0.068 measured).
        assert result.modes >= 995 and result.num_samples == 10000
        assert 0.04 < result.kl < 0.09, result
    repeated = images[:1].expand(64, -1, -1, -1)
    one_mode = counter(repeated)
    assert (one_mode.modes, one_mode.num_samples) == (1, 64)
    assert one_mode.kl == pytest.approx(math.log(1000), abs=1e-12)


def test_the_classifier_split_is_the_one_it_trained_on(counter: StackedModeCounter, data: StackedDigits) -> None:
    digits, labels = data.digits()
    train, test = classifier_split(len(labels))
    from gan_zoo.metrics.digit_domain import bundled_digits  # noqa: PLC0415

    with torch.no_grad():
        predicted = counter.classifier.net(counter.classifier.prepare(bundled_digits())).argmax(1)
    train_accuracy = float((predicted[train] == labels[train]).double().mean())
    test_accuracy = float((predicted[test] == labels[test]).double().mean())
    # 0.989 vs 0.966 measured; a wrong split would mix 83% training digits into the "test" ones (gap < 0.5%)
    assert train_accuracy - test_accuracy > 0.01, (train_accuracy, test_accuracy)


def test_training_logs_stacked_modes_and_evaluate_repeats_them(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_train(["data=stacked_digits", "model=dcgan", "gen_iters=2", "eval_every=2", "metrics=none",
                        "n_critic=1", "data.batch_size=16", "data.num_train=200", "data.val_size=32",
                        "model.generator.width=8", "model.critic.width=8", "callbacks.stacked_modes.num_samples=300",
                        "logger=csv"], run)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = read_metrics(run)
    assert metrics["gen_iter"] == 2 and metrics["val/stacked_num_samples"] == 300
    assert 1 <= metrics["val/stacked_modes"] <= 300 and 0 <= metrics["val/stacked_kl"] <= math.log(1000) + 1e-6
    assert 200 < metrics["val/stacked_modes_real"] <= 300  # 300 draws over 1,000 modes: 259 distinct expected
    assert metrics["val/stacked_kl_uniform"] == pytest.approx(expected_uniform_kl(300), rel=1e-6)
    for channel in range(3):
        assert 0.9 < metrics[f"val/stacked_channel_accuracy_{channel}"] <= 1.0
    assert 0.7 < metrics["val/stacked_mode_accuracy"] <= 1.0
    # `python -m gan_zoo.evaluate run=` measures every checkpoint as the callback did: the last one repeats the run's
    # last validation (same noise, real stacks and classifier), and the KL names the best checkpoint
    evaluated = subprocess.run([sys.executable, "-m", "gan_zoo.evaluate", f"run={run}"], capture_output=True,
                               text=True, timeout=600, cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    evaluation = json.loads((run / "evaluation" / "evaluation.json").read_text())
    assert evaluation["best_by"] == "stacked_kl" and "best checkpoint by stacked_kl" in evaluated.stdout
    last = evaluation["checkpoints"][-1]
    assert last["gen_iter"] == 2 and "fid" not in last
    for key in ("stacked_modes", "stacked_kl", "stacked_modes_real", "stacked_kl_real", "stacked_mode_accuracy",
                "stacked_num_samples"):
        assert last[key] == pytest.approx(metrics[f"val/{key}"], rel=1e-6), key
    assert last["seed"] == last["stacked_seed"] == 8642  # the callback's noise seed, not the image metrics' one
