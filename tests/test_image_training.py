"""Image training through the Hydra entry point: every paper set-up, FID/IS/KID offline, EMA, sample grids."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image
from torchmetrics.image.fid import FrechetInceptionDistance

from conftest import read_metrics, run_train
from gan_zoo.data import Digits
from gan_zoo.metrics.features import DigitClassifier

PAPER_SETUPS = ["wgan_clip_dcgan", "wgan_gp_cifar10", "sngan_cifar10", "lsgan_celeba", "dragan_cifar10",
                "ebgan_mnist", "loss_sensitive_cifar10", "ttur_digits"]
SMALL = ["data=digits", "data.image_size=32", "data.batch_size=16", "metrics=digits", "metrics.num_fake=64",
         "gen_iters=4", "eval_every=2", "n_critic=2", "model.generator.width=8", "model.critic.width=8",
         "logger=csv", "trainer.log_every_n_steps=1"]


def test_every_paper_setup_trains_on_images_with_metrics_and_grids(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    result = run_train([f"experiment={','.join(PAPER_SETUPS)}", *SMALL], sweep, multirun=True, timeout=1200)
    assert result.returncode == 0, result.stderr[-3000:]
    for job in range(len(PAPER_SETUPS)):
        run = sweep / str(job)
        metrics = read_metrics(run)
        assert metrics["gen_iter"] == 4, PAPER_SETUPS[job]
        for key in ("val/fid", "val/kid_mean", "val/kid_std", "val/is_mean", "val/w_estimate"):
            assert key in metrics and metrics[key] == metrics[key], (PAPER_SETUPS[job], key)  # logged, not NaN
        assert metrics["val/metric_num_fake"] == 64 and metrics["val/metric_num_real"] == 1500
        assert metrics["val/is_mean"] >= 1.0  # exp(KL) ≥ 1 by definition
        with Image.open(run / "samples.png") as grid:
            assert grid.size == (8 * 34 + 2, 8 * 34 + 2)  # 8×8 images of 32 px with 2 px padding
        assert sorted(p.name for p in (run / "samples").glob("*.png")) == [
            "samples_gen_iter_000002.png", "samples_gen_iter_000004.png"]


def test_digit_feature_fid_tells_real_from_noise() -> None:
    data = Digits(val_size=297)
    data.setup()
    features = DigitClassifier(output="features")
    real_a, real_b = data.train_images[:700], data.train_images[700:1400]
    noise = torch.randint(0, 256, real_a.shape, dtype=torch.uint8)

    def fid(x: torch.Tensor, y: torch.Tensor) -> float:
        metric = FrechetInceptionDistance(feature=features)
        metric.update(x.expand(-1, 3, -1, -1), real=True)
        metric.update(y.expand(-1, 3, -1, -1), real=False)
        return float(metric.compute())

    same, different = fid(real_a, real_b), fid(real_a, noise)
    assert same < 0.05 * different, (same, different)


def test_ema_generator_is_updated_every_generator_iteration_and_checkpointed(tmp_path: Path) -> None:
    run = tmp_path / "run"
    result = run_train([*SMALL, "objective=hinge", "lipschitz=sn", "model=dcgan", "ema_decay=0.9"], run)
    assert result.returncode == 0, result.stderr[-3000:]
    state = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)["state_dict"]
    assert int(state["generator_ema.n_averaged"]) == 4  # one update per generator iteration
    ema = {k.removeprefix("generator_ema.module."): v for k, v in state.items() if k.startswith("generator_ema.module.")}
    live = {k.removeprefix("generator."): v for k, v in state.items() if k.startswith("generator.")}
    assert ema.keys() == live.keys()
    assert any(not torch.equal(ema[k], live[k]) for k in ema if ema[k].is_floating_point())
