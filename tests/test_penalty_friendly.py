"""The critic layers the gradient penalties swap in: torch's values and derivatives, no wasted second backward."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_zoo.lipschitz import (
    ConsistencyTerm,
    DRAGANPenalty,
    GradientPenalty,
    NoConstraint,
    OneSidedPenalty,
    R1Penalty,
    SpectralNorm,
    WeightClipping,
)
from gan_zoo.nets import DCGANCritic, MLPCritic, ResNetCritic
from gan_zoo.nets.penalty_friendly import AvgPool2d, LeakyReLU, ReLU, leaky_relu, penalty_friendly, relu
from gan_zoo.nets.base import Scored

PAIRS = [(lambda x: leaky_relu(x, 0.2), lambda x: F.leaky_relu(x, 0.2)), (relu, F.relu),
         (lambda x: AvgPool2d(2)(x.view(-1, 2, 2, 2)).flatten(1), lambda x: F.avg_pool2d(x.view(-1, 2, 2, 2), 2).flatten(1))]


@pytest.mark.parametrize(("ours", "theirs"), PAIRS, ids=["leaky_relu", "relu", "avg_pool2d"])
def test_values_gradients_and_second_derivatives_equal_torchs(ours, theirs) -> None:  # noqa: ANN001
    x = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(5, 8, dtype=torch.float64, requires_grad=True)
    results = []
    for activation in (ours, theirs):
        y = activation(x @ w)
        (grad_x,) = torch.autograd.grad((y**2).sum(), x, create_graph=True)
        (grad_w,) = torch.autograd.grad(grad_x.norm(), w)  # a gradient-penalty-like second derivative
        results.append((y, grad_x, grad_w))
    for a, b in zip(*results):
        assert torch.equal(a, b)
    point = torch.randn(4, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(ours, (point,)) and torch.autograd.gradgradcheck(ours, (point,))


POOLINGS = [dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), dict(kernel_size=(2, 3), stride=(1, 2)),
            dict(kernel_size=3, padding=1, count_include_pad=False), dict(kernel_size=2, divisor_override=3)]


@pytest.mark.parametrize("settings", POOLINGS, ids=["ceil_mode", "rectangular", "exclude_pad", "divisor"])
def test_pooling_settings_keep_torchs_derivatives(settings: dict) -> None:
    x = torch.randn(2, 3, 7, 7, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 3, 1, 1, dtype=torch.float64, requires_grad=True)
    results = []
    for pool in (AvgPool2d(**settings), nn.AvgPool2d(**settings)):
        y = pool(F.conv2d(x, w).permute(0, 1, 3, 2))  # a non-contiguous input too
        (grad_x,) = torch.autograd.grad((y**2).sum(), x, create_graph=True)
        (grad_w,) = torch.autograd.grad(grad_x.norm(), w)
        results.append((y, grad_x, grad_w))
    for a, b in zip(*results):
        assert torch.allclose(a, b, rtol=0, atol=1e-12)
    point = torch.randn(1, 2, 5, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(AvgPool2d(**settings), (point,))


def test_modules_keep_torchs_types_and_settings() -> None:
    assert isinstance(LeakyReLU(0.2), nn.LeakyReLU) and LeakyReLU(0.2).negative_slope == 0.2
    assert isinstance(ReLU(), nn.ReLU) and isinstance(AvgPool2d(2), nn.AvgPool2d)
    x = torch.randn(2, 3, 7, 7)
    assert torch.equal(AvgPool2d(3, 2, 1, ceil_mode=True)(x), nn.AvgPool2d(3, 2, 1, ceil_mode=True)(x))


def test_in_place_activations_are_left_alone() -> None:
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(inplace=True), nn.Linear(2, 2), nn.LeakyReLU(0.2))
    assert penalty_friendly(net) == 1
    assert type(net[1]) is nn.ReLU and type(net[3]) is LeakyReLU


def _forward_visits_in_penalty_backward(critic: nn.Module, shape: tuple[int, ...]) -> int:
    """How often the penalty's final backward brings a gradient to the first layer's output of the forward pass
    at the penalty points (a gradient of zeros, computed through every layer above it)."""
    first = next(m for m in critic.modules() if isinstance(m, (nn.Conv2d, nn.Linear)))
    visits = []
    in_penalty_pass = []

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        if in_penalty_pass and output.requires_grad:
            output.register_hook(lambda grad: visits.append(grad) if grad is not None else None)

    first.register_forward_hook(hook)
    real, fake = torch.randn(8, *shape), torch.randn(8, *shape)
    real_scored, fake_scored = Scored.of(critic, real), Scored.of(critic, fake)
    in_penalty_pass.append(True)
    penalty = GradientPenalty(10.0).penalty(critic, real_scored, fake_scored)
    in_penalty_pass.clear()
    visits.clear()  # the input-gradient pass itself goes through this point; count only the final backward
    (sum(penalty.terms.values()) + fake_scored.score.mean() - real_scored.score.mean()).backward()
    return len(visits)


CRITICS = {"dcgan": (lambda: DCGANCritic((3, 32, 32), width=8), (3, 32, 32)),
           "resnet": (lambda: ResNetCritic((3, 32, 32), width=8), (3, 32, 32)),
           "mlp": (lambda: MLPCritic((2,), width=16), (2,))}


@pytest.mark.parametrize(("make", "shape"), list(CRITICS.values()), ids=list(CRITICS))
def test_penalty_strategies_make_the_backward_skip_the_forward_pass(make, shape) -> None:  # noqa: ANN001
    torch.manual_seed(0)
    plain = make()
    prepared = GradientPenalty(10.0).prepare_critic(copy.deepcopy(plain))
    assert _forward_visits_in_penalty_backward(prepared, shape) == 0
    # torch's own activations send zeros back through the forward pass (if this fails, torch no longer does,
    # and gan_zoo.nets.penalty_friendly is no longer needed)
    assert _forward_visits_in_penalty_backward(plain, shape) == 1


@pytest.mark.parametrize("strategy", [GradientPenalty(), OneSidedPenalty(), DRAGANPenalty(), R1Penalty(),
                                      ConsistencyTerm()], ids=["gp", "lp", "dragan", "r1", "ct"])
def test_every_gradient_penalty_swaps_the_critics_activations(strategy) -> None:  # noqa: ANN001
    critic = strategy.prepare_critic(DCGANCritic((3, 32, 32), width=8, dropout=0.5))
    kinds = {type(m) for m in critic.modules() if isinstance(m, (nn.ReLU, nn.LeakyReLU))}
    assert kinds == {LeakyReLU}
    resnet = strategy.prepare_critic(ResNetCritic((3, 32, 32), width=8, dropout=0.5))
    kinds = {type(m) for m in resnet.modules() if isinstance(m, (nn.ReLU, nn.LeakyReLU, nn.AvgPool2d))}
    assert kinds == {ReLU, AvgPool2d}


@pytest.mark.parametrize("strategy", [NoConstraint(), WeightClipping(), SpectralNorm()], ids=["none", "clip", "sn"])
def test_strategies_without_a_penalty_keep_torchs_activations(strategy) -> None:  # noqa: ANN001
    critic = strategy.prepare_critic(MLPCritic((2,), width=16))
    assert {type(m) for m in critic.modules() if isinstance(m, nn.ReLU)} == {nn.ReLU}
