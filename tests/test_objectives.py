"""Every objective's critic and generator loss against the paper formula, computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from gan_zoo.errors import ConfigError
from gan_zoo.nets import MLPAutoencoderCritic, MLPCritic, Scored
from gan_zoo.objectives import (
    EnergyBasedGAN,
    HingeGAN,
    LeastSquaresGAN,
    LossSensitiveGAN,
    MinimaxGAN,
    NonSaturatingGAN,
    WassersteinGAN,
    pulling_away_term,
)

REAL_SCORES = [1.0, -2.0]
FAKE_SCORES = [0.5, 3.0]
REAL_X = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
FAKE_X = torch.tensor([[1.0, 0.0], [1.0, 3.0]])


def scored(x: torch.Tensor, scores: list[float], features: torch.Tensor | None = None) -> Scored:
    return Scored(x, torch.tensor(scores), features if features is not None else torch.zeros(len(scores), 1))


REAL, FAKE = scored(REAL_X, REAL_SCORES), scored(FAKE_X, FAKE_SCORES)


def sigmoid(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def total(terms: dict[str, torch.Tensor]) -> float:
    return float(sum(terms.values()))


def test_minimax_gan_losses() -> None:
    critic = -mean([math.log(sigmoid(a)) for a in REAL_SCORES]) - mean([math.log(1 - sigmoid(a)) for a in FAKE_SCORES])
    generator = mean([math.log(1 - sigmoid(a)) for a in FAKE_SCORES])
    assert total(MinimaxGAN().critic_loss(REAL, FAKE)) == pytest.approx(critic, rel=1e-6)
    assert total(MinimaxGAN().generator_loss(FAKE)) == pytest.approx(generator, rel=1e-6)


def test_non_saturating_gan_losses() -> None:
    critic = -mean([math.log(sigmoid(a)) for a in REAL_SCORES]) - mean([math.log(1 - sigmoid(a)) for a in FAKE_SCORES])
    generator = -mean([math.log(sigmoid(a)) for a in FAKE_SCORES])
    assert total(NonSaturatingGAN().critic_loss(REAL, FAKE)) == pytest.approx(critic, rel=1e-6)
    assert total(NonSaturatingGAN().generator_loss(FAKE)) == pytest.approx(generator, rel=1e-6)


def test_non_saturating_loss_is_finite_where_the_naive_formula_overflows() -> None:
    far = scored(FAKE_X, [-200.0, 200.0])
    assert math.isfinite(total(NonSaturatingGAN().generator_loss(far)))
    assert math.isfinite(total(MinimaxGAN().critic_loss(far, far)))


@pytest.mark.parametrize(("a", "b", "c"), [(0.0, 1.0, 1.0), (-1.0, 1.0, 0.0)])
def test_least_squares_gan_losses(a: float, b: float, c: float) -> None:
    critic = 0.5 * mean([(s - b) ** 2 for s in REAL_SCORES]) + 0.5 * mean([(s - a) ** 2 for s in FAKE_SCORES])
    generator = 0.5 * mean([(s - c) ** 2 for s in FAKE_SCORES])
    objective = LeastSquaresGAN(a=a, b=b, c=c)
    assert total(objective.critic_loss(REAL, FAKE)) == pytest.approx(critic)
    assert total(objective.generator_loss(FAKE)) == pytest.approx(generator)


def test_wasserstein_gan_losses() -> None:
    assert total(WassersteinGAN().critic_loss(REAL, FAKE)) == pytest.approx(mean(FAKE_SCORES) - mean(REAL_SCORES))
    assert total(WassersteinGAN().generator_loss(FAKE)) == pytest.approx(-mean(FAKE_SCORES))


def test_hinge_losses() -> None:
    critic = mean([max(0.0, 1 - s) for s in REAL_SCORES]) + mean([max(0.0, 1 + s) for s in FAKE_SCORES])
    assert total(HingeGAN().critic_loss(REAL, FAKE)) == pytest.approx(critic)  # (0 + 3)/2 + (1.5 + 4)/2
    assert total(HingeGAN().generator_loss(FAKE)) == pytest.approx(-mean(FAKE_SCORES))


def test_pulling_away_term_by_hand() -> None:
    # cosines: (1,2) = 1/√2, (1,3) = 0, (2,3) = 1/√2 → Σ_{i≠j} cos² = 2·(½ + 0 + ½) = 2; N(N−1) = 6
    codes = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    assert float(pulling_away_term(codes)) == pytest.approx(1 / 3)


def test_ebgan_losses() -> None:
    # the autoencoder critic scores −energy
    real = scored(REAL_X, [-0.5, -2.0])
    codes = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    fake = scored(FAKE_X, [-0.3, -1.5], codes)
    objective = EnergyBasedGAN(margin=1.0, pull_away_weight=0.1)
    # E[D(x)] + E[relu(m − D(x̃))] = 1.25 + (0.7 + 0)/2
    assert total(objective.critic_loss(real, fake)) == pytest.approx(1.25 + 0.35)
    # E[D(x̃)] + 0.1·PT; PT of two codes with cosine 1/√2 is ½
    assert total(objective.generator_loss(fake)) == pytest.approx(0.9 + 0.1 * 0.5)
    assert total(objective.pretrain_loss(real)) == pytest.approx(1.25)


def test_ebgan_refuses_a_critic_that_is_not_an_autoencoder() -> None:
    with pytest.raises(ConfigError, match="autoencoder critic, got MLPCritic"):
        EnergyBasedGAN().check_critic(MLPCritic((2,)))
    EnergyBasedGAN().check_critic(MLPAutoencoderCritic((2,)))


def test_autoencoder_critic_scores_minus_the_reconstruction_error() -> None:
    critic = MLPAutoencoderCritic((2,), width=8, depth=1, code_dim=3)
    x = torch.randn(5, 2)
    out = critic(x)
    energy = (critic.decode(critic.encode(x)) - x).norm(dim=1)
    assert torch.allclose(out.score, -energy)
    assert out.features.shape == (5, 3)


def test_loss_sensitive_gan_losses() -> None:
    # Δ = 0.5·|x − x̃|₁ = [0.5, 1.0]; L = −score: L(x) = [−1, 2], L(x̃) = [−0.5, −3]
    # margin term: relu(0.5 − 1 + 0.5) = 0, relu(1 + 2 + 3) = 6 → mean 3, times λ = 2 → 6; E[L(x)] = 0.5
    objective = LossSensitiveGAN(lambda_=2.0, delta_scale=0.5, real_weight=1.0)
    terms = objective.critic_loss(REAL, FAKE)
    assert float(terms["margin"]) == pytest.approx(6.0)
    assert float(terms["real"]) == pytest.approx(0.5)
    assert total(objective.generator_loss(FAKE)) == pytest.approx(-mean(FAKE_SCORES))


@pytest.mark.parametrize(("factory", "message"), [
    (lambda: EnergyBasedGAN(margin=0), "objective.margin must be > 0"),
    (lambda: EnergyBasedGAN(pretrain_steps=-1), "objective.pretrain_steps must be >= 0"),
    (lambda: LossSensitiveGAN(lambda_=-1), "objective.lambda_ must be >= 0"),
    (lambda: LossSensitiveGAN(delta_scale=0), "objective.delta_scale must be > 0"),
])
def test_objective_arguments_are_validated(factory, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        factory()
