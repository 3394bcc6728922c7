"""Minibatch discrimination (Salimans et al. 2016, §3.2): the layer's values by hand, the critics' option, the
gradient penalties' refusal of layers that couple samples, and training through the CLI."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from conftest import FAST, run_train
from hydra import compose, initialize_config_module

from gan_zoo.errors import ConfigError
from gan_zoo.lipschitz import (ConsistencyTerm, DRAGANPenalty, GradientPenalty, NoConstraint, OneSidedPenalty,
                               R1Penalty, SpectralNorm, WeightClipping)
from gan_zoo.lipschitz.gradients import gradient_norms
from gan_zoo.nets import DCGANCritic, MinibatchDiscrimination, MLPCritic
from gan_zoo.nets import minibatch_discrimination
from gan_zoo.runtime import schema

E = math.exp


def hand_layer() -> MinibatchDiscrimination:
    """A = 2 features, B = 2 kernels of C = 2: kernel 0 is M_i,0 = f_i, kernel 1 is M_i,1 = (2·f_i0, 0)."""
    layer = MinibatchDiscrimination(2, kernels=2, kernel_dim=2)
    t = torch.zeros(2, 2, 2)  # T[a, b, c]
    t[:, 0, :] = torch.eye(2)
    t[0, 1, 0] = 2.0
    with torch.no_grad():
        layer.project.weight.copy_(t.reshape(2, 4).T)  # the Linear's weight is T as (B·C, A)
    return layer


F = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
# kernel 0: L1 distances d12 = 2, d13 = 1, d23 = 1; kernel 1: M = (2, 0), (0, 0), (2, 0), so d12 = 2, d13 = 0, d23 = 2
EXPECTED_O = torch.tensor([[E(-2) + E(-1), E(-2) + 1.0],
                           [E(-2) + E(-1), E(-2) + E(-2)],
                           [E(-1) + E(-1), 1.0 + E(-2)]])


def test_similarities_by_hand_leave_each_sample_out_of_its_own_sum() -> None:
    layer = hand_layer()
    out = layer(F)
    assert out.shape == (3, 4)
    torch.testing.assert_close(out[:, :2], F)  # f(x) itself, then o(x)
    torch.testing.assert_close(out[:, 2:], EXPECTED_O)
    torch.testing.assert_close(layer(F[:1])[:, 2:], torch.zeros(1, 2))  # one sample: nobody to be close to


def test_blocked_rows_give_the_same_similarities(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(minibatch_discrimination, "BLOCK_ELEMENTS", 1)  # one row per block
    torch.testing.assert_close(hand_layer().similarities(F), EXPECTED_O)


def test_first_and_second_derivatives_are_exact() -> None:
    # a forced gradient penalty differentiates the input gradient once more (torch.cdist's p = 1 double backward)
    layer = MinibatchDiscrimination(3, kernels=2, kernel_dim=2).double()
    features = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (features,))
    assert torch.autograd.gradgradcheck(layer, (features,))


def test_init_and_sizes() -> None:
    layer = MinibatchDiscrimination(400, kernels=30, kernel_dim=5)
    assert layer.project.weight.shape == (150, 400) and layer.project.bias is None and layer.out_features == 430
    assert abs(float(layer.project.weight.detach().std()) - 0.05) < 0.002  # T ~ N(0, 0.05²), the official code's θ
    with pytest.raises(ConfigError, match=r"model.critic.minibatch_kernels must be >= 0 \(got -1\)"):
        MLPCritic((2,), width=8, minibatch_kernels=-1)
    with pytest.raises(ConfigError, match=r"model.critic.minibatch_kernel_dim must be >= 1 \(got 0\)"):
        MLPCritic((2,), width=8, minibatch_kernels=2, minibatch_kernel_dim=0)


def test_mlp_critic_option_shapes_and_features() -> None:
    off, on = MLPCritic((2,), width=16), MLPCritic((2,), width=16, minibatch_kernels=3, minibatch_kernel_dim=4)
    assert off.minibatch is None and not any("minibatch" in key for key in off.state_dict())
    assert on.out.in_features == 19 and on.minibatch.project.weight.shape == (12, 16)
    x = torch.randn(5, 2)
    score, features = on(x)
    assert score.shape == (5,) and features.shape == (5, 16)
    torch.testing.assert_close(features, on.body(x))  # f(x), without o(x)
    # the score of sample 0 depends on the other samples only through the layer
    moved = torch.cat([x[:1], x[1:] + 5.0])
    assert not torch.allclose(on(moved).score[0], score[0])
    torch.testing.assert_close(off(moved).score[0], off(x).score[0])


def test_dcgan_critic_option_keeps_its_own_init() -> None:
    critic = DCGANCritic((1, 28, 28), width=8, minibatch_kernels=6, minibatch_kernel_dim=5)
    assert critic.out.in_features == 16 * 7 * 7 + 6
    assert abs(float(critic.minibatch.project.weight.detach().std()) - 0.05) < 0.003  # not dcgan_init's N(0, 0.02²)
    score, features = critic(torch.randn(4, 1, 28, 28))
    assert score.shape == (4,) and features.shape == (4, 16 * 7 * 7)


PENALTIES = [GradientPenalty(), OneSidedPenalty(), DRAGANPenalty(), R1Penalty(), ConsistencyTerm()]


@pytest.mark.parametrize("strategy", PENALTIES, ids=lambda s: type(s).__name__)
def test_gradient_penalties_refuse_minibatch_discrimination(strategy) -> None:
    with pytest.raises(ConfigError) as refused:
        strategy.prepare_critic(MLPCritic((2,), width=8, minibatch_kernels=2))
    assert str(refused.value) == (
        f"lipschitz={strategy.term} with minibatch discrimination in the critic is refused: minibatch discrimination "
        "breaks the per-sample gradient penalty (WGAN-GP §4), coupling each sample's score to the rest of its batch; "
        "set model.critic.minibatch_kernels=0, or force it with lipschitz.allow_coupled_samples=true")


def test_batch_norm_refusal_names_its_own_flag() -> None:
    with pytest.raises(ConfigError) as refused:
        R1Penalty().prepare_critic(MLPCritic((2,), width=8, norm="batch"))
    assert str(refused.value).startswith("lipschitz=r1 with batch norm in the critic is refused: batch norm breaks")
    assert str(refused.value).endswith("use model.critic.norm=layer or none, or force it with "
                                       "lipschitz.allow_batchnorm=true")


def test_either_flag_forces_every_coupling_layer() -> None:
    both = dict(norm="batch", minibatch_kernels=2)
    for strategy in (GradientPenalty(allow_coupled_samples=True), GradientPenalty(allow_batchnorm=True),
                     DRAGANPenalty(allow_coupled_samples=True), R1Penalty(allow_coupled_samples=True)):
        critic = strategy.prepare_critic(MLPCritic((2,), width=8, **both))
        norms = gradient_norms(critic, torch.randn(6, 2))  # the forced penalty's double backward runs through
        norms.sum().backward()
        assert norms.shape == (6,) and critic.minibatch.project.weight.grad.abs().sum() > 0


def test_weight_constraints_accept_the_layer_and_reach_its_weight() -> None:
    for strategy in (NoConstraint(), WeightClipping(), SpectralNorm()):
        strategy.prepare_critic(MLPCritic((2,), width=8, minibatch_kernels=2))
    critic = SpectralNorm().prepare_critic(MLPCritic((2,), width=8, minibatch_kernels=2))
    assert critic.minibatch.project.parametrizations.weight  # T is spectrally normalised like every weight
    clipped = MLPCritic((2,), width=8, minibatch_kernels=2)
    WeightClipping(c=0.01).after_critic_step(clipped)
    assert float(clipped.minibatch.project.weight.detach().abs().max()) <= 0.01


def test_training_through_the_cli(tmp_path: Path) -> None:
    mlp = run_train([*FAST, "logger=none", "objective=nsgan", "lipschitz=gp", "model.critic.minibatch_kernels=4",
                     "model.critic.minibatch_kernel_dim=3", "++lipschitz.allow_coupled_samples=true"],
                    tmp_path / "mlp")
    assert mlp.returncode == 0, mlp.stderr[-3000:]
    dcgan = run_train(["data=digits", "data.batch_size=16", "model=dcgan", "model.generator.width=8",
                       "model.critic.width=8", "model.critic.minibatch_kernels=5", "objective=hinge", "lipschitz=sn",
                       "metrics=none", "gen_iters=2", "eval_every=2", "n_critic=1", "logger=none"], tmp_path / "dcgan")
    assert dcgan.returncode == 0, dcgan.stderr[-3000:]
    state = torch.load(tmp_path / "dcgan" / "checkpoints" / "last.ckpt", map_location="cpu",
                       weights_only=True)["state_dict"]
    assert state["critic.minibatch.project.parametrizations.weight.original"].shape == (25, 16 * 7 * 7)
    assert state["critic.out.parametrizations.weight.original"].shape == (1, 16 * 7 * 7 + 5)


@pytest.mark.parametrize(("override", "message"), [
    ("model.critic.minibatch_kernels=-1",
     "model.critic.minibatch_kernels must be >= 0 (got -1); 0 turns minibatch discrimination off"),
    ("model.critic.minibatch_kernels=2.5", "model.critic.minibatch_kernels must be an integer (got 2.5)"),
    ("model.critic.minibatch_kernel_dim=0", "model.critic.minibatch_kernel_dim must be >= 1 (got 0)"),
    ("++lipschitz.allow_coupled_samples=yes", "lipschitz.allow_coupled_samples must be true or false (got 'yes')"),
])
def test_bad_values_are_refused_on_the_config(override: str, message: str) -> None:
    with initialize_config_module("gan_zoo.conf", version_base="1.3"):
        cfg = compose("train", overrides=["model=dcgan", override])
    with pytest.raises(ConfigError) as refused:
        schema.validate(cfg)
    assert str(refused.value) == message
