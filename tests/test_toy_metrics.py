"""Exact W1 and mode coverage on hand-made cases, and their presence in a short training run."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from conftest import FAST, read_metrics, run_train

from gan_zoo.data import grid, ring
from gan_zoo.metrics import exact_w1, mode_coverage


def test_w1_of_identical_sets_is_zero() -> None:
    x = torch.randn(300, 2)
    assert exact_w1(x, x.clone()) == pytest.approx(0.0, abs=1e-9)
    assert exact_w1(x, x[torch.randperm(300)]) == pytest.approx(0.0, abs=1e-9)


def test_w1_with_a_known_transport_plan() -> None:
    # each point moves straight up by 1; any other matching costs more
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    y = torch.tensor([[1.0, 1.0], [0.0, 1.0]])
    assert exact_w1(x, y) == pytest.approx(1.0)
    # a translation by (3, 4) costs exactly its length
    z = torch.randn(200, 2)
    assert exact_w1(z, z + torch.tensor([3.0, 4.0])) == pytest.approx(5.0, rel=1e-6)


def test_w1_mixes_partners_when_it_is_cheaper() -> None:
    # two points at 0 and 10 against two points at 1 and 11: plan 0→1, 10→11 costs 1 each (not 0→11)
    x, y = torch.tensor([[0.0], [10.0]]), torch.tensor([[11.0], [1.0]])
    assert exact_w1(x, y) == pytest.approx(1.0)


def test_samples_on_the_modes_capture_every_mode() -> None:
    for mixture in (ring(), grid()):
        samples = mixture.centers.repeat(100, 1)
        coverage = mode_coverage(samples, mixture.centers, mixture.std)
        assert coverage.modes == len(mixture.centers)
        assert coverage.high_quality == 1.0
        assert coverage.reverse_kl == pytest.approx(0.0, abs=1e-12)


def test_samples_from_one_mode_capture_one_mode() -> None:
    mixture = grid()
    samples = mixture.centers[7] + mixture.std * torch.randn(2500, 2).clamp(-2.0, 2.0)  # ≤ 2.83 std from the centre
    coverage = mode_coverage(samples, mixture.centers, mixture.std)
    assert coverage.modes == 1
    assert coverage.high_quality == 1.0
    assert coverage.reverse_kl == pytest.approx(math.log(25))


def test_high_quality_threshold_and_reverse_kl_by_hand() -> None:
    centers = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    # three high-quality samples at mode 0, one at mode 1, one too far from both (3.5 std from mode 0)
    samples = torch.tensor([[0.0, 0.0], [0.29, 0.0], [0.0, -0.29], [10.0, 0.1], [0.35, 0.0]])
    coverage = mode_coverage(samples, centers, std=0.1, n_sigma=3.0)
    assert coverage.modes == 2
    assert coverage.high_quality == pytest.approx(4 / 5)
    assert coverage.reverse_kl == pytest.approx(0.75 * math.log(0.75 * 2) + 0.25 * math.log(0.25 * 2))


def test_no_high_quality_sample_gives_no_modes() -> None:
    coverage = mode_coverage(torch.full((10, 2), 100.0), ring().centers, ring().std)
    assert coverage.modes == 0 and coverage.high_quality == 0.0 and math.isnan(coverage.reverse_kl)


def test_training_logs_exact_metrics_and_saves_pictures(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_train([*FAST, "data=ring", "data.val_size=500"], run)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = read_metrics(run)
    for key in ("val/w1_exact", "val/w1_noise_floor", "val/w_estimate_exact", "val/critic_over_w1", "val/modes",
                "val/high_quality", "val/reverse_kl"):
        assert key in metrics, key
    assert metrics["val/w1_exact"] > metrics["val/w1_noise_floor"] > 0
    assert metrics["val/w_estimate_exact"] == pytest.approx(metrics["val/critic_over_w1"] * metrics["val/w1_exact"])
    assert 0 <= metrics["val/modes"] <= 8
    for kind in ("critic", "grad_norms"):
        pictures = sorted((run / "plots").glob(f"{kind}_gen_iter_*.png"))
        assert [p.name for p in pictures] == [f"{kind}_gen_iter_000002.png", f"{kind}_gen_iter_000004.png"]
        assert pictures[-1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_swissroll_has_w1_but_no_modes(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_train([*FAST, "data=swissroll", "data.val_size=300"], run)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = read_metrics(run)
    assert "val/w1_exact" in metrics and "val/modes" not in metrics
    assert (run / "plots" / "critic_gen_iter_000004.png").exists()


def test_pictures_reach_wandb(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_train([a for a in FAST if not a.startswith("logger=")] + ["logger=wandb"], run)
    assert result.returncode == 0, result.stderr[-3000:]
    media = list((run / "wandb").glob("offline-run-*/files/media/images/plots/*.png"))
    assert {p.name.split("_")[0] for p in media} == {"critic", "grad"}
