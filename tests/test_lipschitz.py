"""Every Lipschitz strategy against its paper formula, computed by hand on fixed tensors."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.lipschitz import (
    ConsistencyTerm,
    DRAGANPenalty,
    GradientPenalty,
    NoConstraint,
    OneSidedPenalty,
    R1Penalty,
    SpectralNorm,
    WeightClipping,
    consistency_term,
)
from gan_zoo.lipschitz.gradients import dragan_points, gradient_norms, interpolate, per_sample_uniform
from gan_zoo.nets import MLPCritic, Scored
from gan_zoo.objectives import WassersteinGAN

POINTS = torch.tensor([[3.0, 4.0], [0.0, 0.5]])  # ‖x‖ = 5 and 0.5


def scored(critic: nn.Module, x: torch.Tensor) -> Scored:
    return Scored.of(critic, x)


def test_gradient_norms_are_per_sample(quadratic_critic) -> None:
    # ∇(½‖x‖²) = x: one norm per sample, not one norm over the whole batch tensor
    # (docs/methods.md#implementation-pitfalls, item 1)
    assert torch.allclose(gradient_norms(quadratic_critic, POINTS), torch.tensor([5.0, 0.5]))
    images = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).view(2, 3, 2, 2)
    assert torch.allclose(gradient_norms(quadratic_critic, images), images.flatten(1).norm(dim=1))


def test_gradient_norms_are_differentiable_for_the_penalty(quadratic_critic) -> None:
    norms = gradient_norms(quadratic_critic, POINTS)
    assert norms.requires_grad and norms.grad_fn is not None


def test_epsilon_is_drawn_per_sample_and_broadcast() -> None:
    eps = per_sample_uniform(torch.zeros(64, 3, 8, 8))
    assert eps.shape == (64, 1, 1, 1)
    assert eps.unique().numel() == 64
    assert bool(((eps >= 0) & (eps < 1)).all())


def test_interpolate_formula() -> None:
    real, fake = torch.ones(2, 2), torch.zeros(2, 2)
    eps = torch.tensor([[0.25], [1.0]])
    assert torch.allclose(interpolate(real, fake, eps), torch.tensor([[0.25, 0.25], [1.0, 1.0]]))


def test_two_sided_gradient_penalty_by_hand(quadratic_critic) -> None:
    real, fake = torch.tensor([[6.0, 8.0], [0.0, 1.0]]), torch.zeros(2, 2)
    torch.manual_seed(3)
    eps = torch.rand(2, 1)
    norms = (eps * real).norm(dim=1)  # x̂ = εx since x̃ = 0
    expected = 10.0 * ((norms - 1) ** 2).mean()
    torch.manual_seed(3)
    penalty = GradientPenalty(lambda_=10.0).penalty(quadratic_critic, scored(quadratic_critic, real),
                                                    scored(quadratic_critic, fake))
    assert float(penalty.terms["gp"]) == pytest.approx(float(expected), rel=1e-6)
    assert torch.allclose(penalty.grad_norms, norms)


def test_one_sided_penalty_ignores_norms_below_one(quadratic_critic) -> None:
    # norms 5 and 0.5 at x̂ = x (real = fake): one-sided λ·mean(relu(5−1)², relu(0.5−1)²) = λ·8
    same = scored(quadratic_critic, POINTS)
    assert float(OneSidedPenalty(lambda_=2.0).penalty(quadratic_critic, same, same).terms["lp"]) == pytest.approx(16.0)
    # the two-sided penalty charges the 0.5 as well: λ·mean(16, 0.25)
    assert float(GradientPenalty(lambda_=2.0).penalty(quadratic_critic, same, same).terms["gp"]) == pytest.approx(16.25)


def test_dragan_perturbs_only_real_data(quadratic_critic) -> None:
    real = torch.randn(256, 2)
    fake = torch.full((256, 2), float("nan"))  # any use of fake data would poison the points
    points = DRAGANPenalty(perturb_scale=0.5).probe_points(real, fake)
    offset = points - real
    assert torch.isfinite(points).all()
    assert bool((offset >= 0).all()) and bool((offset < 0.5 * float(real.numpy().std())).all())


def test_dragan_points_formula() -> None:
    # The population std of every element, numpy's X.std() as in the DRAGAN authors' notebook: mean 1, every
    # deviation ±1, so std = 1 (the unbiased n − 1 std would be 2/√3).
    real = torch.tensor([[0.0, 2.0], [2.0, 0.0]])
    noise = torch.tensor([[1.0, 0.5], [0.0, 1.0]])
    alpha = torch.tensor([[0.5], [1.0]])
    std = 1.0
    expected = real + alpha * (0.5 * std * noise)
    assert torch.allclose(dragan_points(real, 0.5, noise, alpha), expected)


def test_dragan_penalty_by_hand(quadratic_critic) -> None:
    real = torch.tensor([[3.0, 4.0], [6.0, 8.0]])
    torch.manual_seed(5)
    points = dragan_points(real, 0.5, torch.rand_like(real), per_sample_uniform(real))
    expected = 10.0 * ((points.norm(dim=1) - 1) ** 2).mean()
    torch.manual_seed(5)
    penalty = DRAGANPenalty(lambda_=10.0).penalty(quadratic_critic, scored(quadratic_critic, real),
                                                  scored(quadratic_critic, torch.zeros(2, 2)))
    assert float(penalty.terms["dragan"]) == pytest.approx(float(expected), rel=1e-6)


def test_r1_penalty_by_hand(quadratic_critic) -> None:
    # γ/2·E[‖∇D(x)‖²] on real data = 10/2 · mean(25, 0.25)
    penalty = R1Penalty(gamma=10.0).penalty(quadratic_critic, scored(quadratic_critic, POINTS),
                                            scored(quadratic_critic, torch.zeros(2, 2)))
    assert float(penalty.terms["r1"]) == pytest.approx(5.0 * 12.625)


def test_consistency_term_by_hand() -> None:
    x = torch.zeros(2, 2)
    first = Scored(x, torch.tensor([1.0, 0.0]), torch.tensor([[0.0, 0.0], [1.0, 1.0]]))
    second = Scored(x, torch.tensor([0.0, 0.5]), torch.tensor([[3.0, 4.0], [1.0, 1.0]]))
    # sample 1: 1 + 0.1·25 = 3.5; sample 2: 0.25 + 0 = 0.25; margin 0.5 → relu(3.0), relu(−0.25)
    assert float(consistency_term(first, second, feature_weight=0.1, margin=0.5)) == pytest.approx(1.5)


def test_ct_adds_consistency_to_the_gradient_penalty() -> None:
    critic = ConsistencyTerm().prepare_critic(MLPCritic((2,), width=16, dropout=0.5))
    real, fake = torch.randn(8, 2), torch.randn(8, 2)
    penalty = ConsistencyTerm(lambda_ct=2.0).penalty(critic, scored(critic, real), scored(critic, fake))
    assert set(penalty.terms) == {"gp", "ct"}
    assert float(penalty.terms["ct"]) > 0  # two dropout passes disagree


def test_ct_needs_dropout_in_the_critic(quadratic_critic) -> None:
    with pytest.raises(ConfigError, match="lipschitz=ct needs dropout in the critic .*QuadraticCritic has no dropout"):
        ConsistencyTerm().prepare_critic(quadratic_critic)


def test_ct_turns_on_the_critics_dropout_unless_the_model_set_it() -> None:
    def ps(critic: nn.Module) -> set[float]:
        return {m.p for m in critic.modules() if isinstance(m, nn.Dropout)}

    plain = MLPCritic((2,), width=16)  # dropout modules with p = 0: the identity, no parameters
    assert ps(plain) == {0.0}
    assert ps(ConsistencyTerm(critic_dropout=0.3).prepare_critic(plain)) == {0.3}
    assert ps(ConsistencyTerm().prepare_critic(MLPCritic((2,), width=16, dropout=0.2))) == {0.2}


def test_critic_dropout_adds_no_parameters_and_is_the_identity_at_zero() -> None:
    torch.manual_seed(0)
    without = MLPCritic((2,), width=16)
    torch.manual_seed(0)
    with_dropout = MLPCritic((2,), width=16, dropout=0.5)
    assert list(without.state_dict()) == list(with_dropout.state_dict())  # e.g. body.3.weight either way
    assert all(torch.equal(v, with_dropout.state_dict()[k]) for k, v in without.state_dict().items())
    x = torch.randn(8, 2)
    assert torch.equal(without.train()(x).score, with_dropout.eval()(x).score)


@pytest.mark.parametrize("strategy", [GradientPenalty(), OneSidedPenalty(), DRAGANPenalty(), R1Penalty()])
def test_gradient_penalties_refuse_batch_norm(strategy) -> None:
    with pytest.raises(ConfigError, match=r"batch norm breaks the per-sample gradient penalty \(WGAN-GP §4\)"):
        strategy.prepare_critic(MLPCritic((2,), width=16, norm="batch"))


def test_batch_norm_can_be_forced() -> None:
    GradientPenalty(allow_batchnorm=True).prepare_critic(MLPCritic((2,), width=16, norm="batch"))


def critic_update(critic: nn.Module, strategy, optimizer: torch.optim.Optimizer) -> None:
    real, fake = torch.randn(64, 2) + 3, torch.randn(64, 2)
    with strategy.forward_context(critic):
        r, f = scored(critic, real), scored(critic, fake)
        loss = sum(WassersteinGAN().critic_loss(r, f).values()) + sum(strategy.penalty(critic, r, f).terms.values(), 0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    strategy.after_critic_step(critic)


def test_clipping_keeps_every_critic_parameter_in_range_in_place() -> None:
    critic, strategy = MLPCritic((2,), width=32), WeightClipping(c=0.01)
    before = [id(p) for p in critic.parameters()]
    optimizer = torch.optim.RMSprop(critic.parameters(), lr=0.1)
    for _ in range(3):
        critic_update(critic, strategy, optimizer)
        for p in critic.parameters():
            assert float(p.abs().max()) <= 0.01
    assert [id(p) for p in critic.parameters()] == before  # the optimizer still owns the same tensors
    assert any(float(p.abs().max()) == pytest.approx(0.01) for p in critic.parameters())


def test_spectral_norm_gives_unit_largest_singular_values() -> None:
    strategy = SpectralNorm()
    critic = strategy.prepare_critic(MLPCritic((2,), width=64))
    optimizer = torch.optim.Adam(critic.parameters(), lr=1e-3)
    for _ in range(200):
        critic_update(critic, strategy, optimizer)
    critic.eval()
    layers = [m for m in critic.modules() if isinstance(m, nn.Linear)]
    assert len(layers) == 4
    for layer in layers:
        sigma = torch.linalg.matrix_norm(layer.weight.detach(), ord=2)
        assert float(sigma) == pytest.approx(1.0, abs=0.02)


def test_spectral_norm_runs_one_power_iteration_per_update() -> None:
    strategy = SpectralNorm()
    critic = strategy.prepare_critic(MLPCritic((2,), width=8, depth=1))
    u = critic.out.parametrizations.weight[0]._u
    x = torch.randn(4, 2)
    with strategy.forward_context(critic):
        critic(x)
        after_one = u.clone()
        critic(x)
        critic(x)
    assert torch.equal(u, after_one)  # three calls under the cache, one iteration


@pytest.mark.parametrize(("factory", "message"), [
    (lambda: WeightClipping(c=0), r"lipschitz.c must be > 0 \(got 0\)"),
    (lambda: GradientPenalty(lambda_=-1), r"lipschitz.lambda_ must be >= 0 \(got -1\)"),
    (lambda: DRAGANPenalty(perturb_scale=0), "lipschitz.perturb_scale must be > 0"),
    (lambda: R1Penalty(gamma=-1), "lipschitz.gamma must be >= 0"),
    (lambda: ConsistencyTerm(lambda_ct=-1), "lipschitz.lambda_ct must be >= 0"),
    (lambda: SpectralNorm(n_power_iterations=0), "lipschitz.n_power_iterations must be >= 1"),
])
def test_strategy_arguments_are_validated(factory, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        factory()


def test_no_constraint_does_nothing() -> None:
    critic = MLPCritic((2,), width=8)
    assert NoConstraint().prepare_critic(critic) is critic
    assert NoConstraint().penalty(critic, None, None).terms == {}
