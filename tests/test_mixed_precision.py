"""Mixed precision with gradient penalties: the fp16 loss-scaling recipe (unit-tested with a GradScaler, since
Lightning runs 16-mixed as bf16 on a CPU) and bf16-mixed training end to end."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from conftest import FAST, read_metrics, run_train
from gan_zoo.lipschitz import GradientPenalty
from gan_zoo.lipschitz.gradients import gradient_norms, loss_scaling
from gan_zoo.nets import CriticOutput
from gan_zoo.nets.base import Scored
from gan_zoo.objectives import WassersteinGAN


class TanhCritic(nn.Module):
    def __init__(self, hidden_scale: float = 1.0, output_scale: float = 1.0) -> None:
        super().__init__()
        self.hidden, self.out = nn.Linear(2, 64), nn.Linear(64, 1)
        with torch.no_grad():
            self.hidden.weight.mul_(hidden_scale)
            self.out.weight.mul_(output_scale)

    def forward(self, x: Tensor) -> CriticOutput:
        h = torch.tanh(self.hidden(x))
        return CriticOutput(self.out(h).squeeze(1), h)


def test_loss_scaling_recovers_input_gradients_that_underflow_in_fp16() -> None:
    """‖∇D‖ ≈ 4e-9 per sample (weights that fp16 holds, a product that it does not): fp16's backward flushes it
    to 0; scaled by 2^12 first, it survives."""
    critic, x = TanhCritic(hidden_scale=1e-3, output_scale=1e-5), torch.randn(16, 2)
    exact = gradient_norms(critic, x).detach()
    with torch.autocast("cpu", dtype=torch.float16):
        plain = gradient_norms(critic, x).detach()
        with loss_scaling(torch.amp.GradScaler("cpu", init_scale=2.0**12)):
            scaled = gradient_norms(critic, x).detach()
    assert 1e-9 < float(exact.min()) and float(exact.max()) < 1e-8
    assert float(plain.abs().max()) == 0.0
    torch.testing.assert_close(scaled.float(), exact, rtol=0.02, atol=0.0)


def _critic_update_gradients(scaler: torch.amp.GradScaler | None) -> tuple[Tensor, list[Tensor]]:
    """One WGAN-GP critic loss and its parameter gradients, through the AMP recipe when a scaler is given:
    penalty from scaled input gradients × 1/scale, then scaler.scale(total).backward() and unscale_."""
    torch.manual_seed(3)
    critic = TanhCritic()
    real, fake = torch.randn(32, 2), torch.randn(32, 2) + 1.0
    optimizer = torch.optim.SGD(critic.parameters(), lr=0.1)
    torch.manual_seed(4)  # the same interpolation points in both set-ups
    with loss_scaling(scaler):
        real_scored, fake_scored = Scored.of(critic, real), Scored.of(critic, fake)
        terms = WassersteinGAN().critic_loss(real_scored, fake_scored)
        penalty = GradientPenalty(lambda_=10.0).penalty(critic, real_scored, fake_scored)
        total = sum([*terms.values(), *penalty.terms.values()])
    if scaler is None:
        total.backward()
    else:
        scaler.scale(total).backward()
        scaler.unscale_(optimizer)
    return penalty.terms["gp"].detach(), [p.grad.clone() for p in critic.parameters()]


def test_scaled_penalty_gives_the_unscaled_penalty_and_gradients() -> None:
    reference_gp, reference_grads = _critic_update_gradients(None)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    gp, grads = _critic_update_gradients(scaler)
    assert scaler.get_scale() == 2.0**10
    torch.testing.assert_close(gp, reference_gp, rtol=1e-6, atol=0.0)
    for grad, reference in zip(grads, reference_grads):
        torch.testing.assert_close(grad, reference, rtol=1e-5, atol=1e-7)


def test_an_overflowing_penalty_makes_the_scaler_skip_the_step_and_lower_its_scale() -> None:
    """2^16 overflows fp16 (max 65504) in the penalty's backward: the step is skipped and the scale halved."""
    critic = TanhCritic()
    optimizer = torch.optim.SGD(critic.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
    before = [p.detach().clone() for p in critic.parameters()]
    real, fake = torch.randn(32, 2), torch.randn(32, 2)
    with torch.autocast("cpu", dtype=torch.float16), loss_scaling(scaler):
        real_scored, fake_scored = Scored.of(critic, real), Scored.of(critic, fake)
        gp = GradientPenalty(lambda_=10.0).penalty(critic, real_scored, fake_scored).terms["gp"]
        total = sum(WassersteinGAN().critic_loss(real_scored, fake_scored).values()) + gp
    assert not math.isfinite(float(gp))
    scaler.scale(total).backward()
    scaler.step(optimizer)
    scaler.update()
    assert all(torch.equal(b, p) for b, p in zip(before, critic.parameters()))
    assert scaler.get_scale() == 2.0**15


@pytest.mark.parametrize("lipschitz", ["gp", "lp", "dragan", "r1", "ct"])
def test_bf16_mixed_training_with_every_gradient_penalty(tmp_path: Path, lipschitz: str) -> None:
    run = tmp_path / "run"
    result = run_train([*FAST, "trainer.accelerator=cpu", "trainer.precision=bf16-mixed", f"lipschitz={lipschitz}",
                        "~callbacks.critic_plots"], run)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "bfloat16 Automatic Mixed Precision" in result.stdout + result.stderr
    metrics = read_metrics(run)
    penalty = metrics[f"train/penalty/{'gp' if lipschitz == 'ct' else lipschitz}"]
    assert math.isfinite(penalty) and penalty >= 0  # the one-sided penalty is 0 while every norm is below 1
    assert math.isfinite(metrics["train/grad_norm_mean"]) and metrics["train/grad_norm_mean"] > 0
    assert math.isfinite(metrics["val/w_estimate"])


def test_bf16_mixed_wgan_gp_learns(tmp_path: Path) -> None:
    """bf16 penalties are coarse (8 mantissa bits) but train: exact W1 to the data falls by more than half."""
    run = tmp_path / "run"
    result = run_train(["objective=wgan", "lipschitz=gp", "data=8gaussians", "gen_iters=600", "eval_every=600",
                        "model.generator.width=64", "model.critic.width=64", "optim.generator.lr=1e-3",
                        "optim.critic.lr=1e-3", "trainer.accelerator=cpu", "trainer.precision=bf16-mixed",
                        "logger=csv", "~callbacks.critic_plots"], run)
    assert result.returncode == 0, result.stderr[-3000:]
    untrained = run_train(["objective=wgan", "lipschitz=gp", "data=8gaussians", "gen_iters=1", "eval_every=1",
                           "n_critic=1", "model.generator.width=64", "model.critic.width=64", "logger=csv",
                           "~callbacks.critic_plots"], tmp_path / "untrained")
    assert untrained.returncode == 0, untrained.stderr[-3000:]
    assert read_metrics(run)["val/w1_exact"] < 0.5 * read_metrics(tmp_path / "untrained")["val/w1_exact"]
