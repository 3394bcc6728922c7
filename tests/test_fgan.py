"""f-GAN (Nowozin et al. 2016): every divergence's g_f and f*(g_f) against the raw formulas of Tables 2 and 6 by
hand, the GAN row against the minimax GAN, stability, the lower bound on two known Gaussians, bad choices, and
every divergence trained through the real command line."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from conftest import FAST, read_metrics, run_train
from hydra import compose, initialize_config_module

from gan_zoo.errors import ConfigError
from gan_zoo.nets import Scored
from gan_zoo.objectives import FGAN, MinimaxGAN, NonSaturatingGAN
from gan_zoo.objectives.fgan import DIVERGENCES
from gan_zoo.runtime import schema

VALUES = [-1.5, -0.2, 0.0, 0.7, 2.0]
REAL_SCORES = [1.0, -2.0, 0.3]
FAKE_SCORES = [0.5, 3.0, -0.4]

# Table 6 (with the sign typos fixed: every g_f maps ℝ into dom f*) and Table 2's f*, literally, in plain math.
ACTIVATION = {
    "kl": lambda v: v,
    "reverse_kl": lambda v: -math.exp(-v),
    "pearson": lambda v: v,
    "neyman": lambda v: 1 - math.exp(-v),
    "squared_hellinger": lambda v: 1 - math.exp(-v),
    "jensen_shannon": lambda v: math.log(2) - math.log(1 + math.exp(-v)),
    "gan": lambda v: -math.log(1 + math.exp(-v)),
    "total_variation": lambda v: 0.5 * math.tanh(v),
}
CONJUGATE = {
    "kl": lambda t: math.exp(t - 1),
    "reverse_kl": lambda t: -1 - math.log(-t),
    "pearson": lambda t: t * t / 4 + t,
    "neyman": lambda t: 2 - 2 * math.sqrt(1 - t),
    "squared_hellinger": lambda t: t / (1 - t),
    "jensen_shannon": lambda t: -math.log(2 - math.exp(t)),
    "gan": lambda t: -math.log(1 - math.exp(t)),
    "total_variation": lambda t: t,
}
NAMES = list(ACTIVATION)


def scored(scores: list[float], dtype: torch.dtype = torch.float32, grad: bool = False) -> Scored:
    score = torch.tensor(scores, dtype=dtype, requires_grad=grad)
    return Scored(torch.zeros(len(scores), 2), score, torch.zeros(len(scores), 1))


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def test_the_divergences_are_the_papers_and_the_schemas() -> None:
    assert list(DIVERGENCES) == NAMES
    assert schema.FGAN_DIVERGENCES == tuple(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_activation_and_conjugate_match_the_tables_by_hand(name: str) -> None:
    f = DIVERGENCES[name]
    v = torch.tensor(VALUES, dtype=torch.float64)
    assert f.activation(v).tolist() == pytest.approx([ACTIVATION[name](a) for a in VALUES], rel=1e-12, abs=1e-12)
    assert f.conjugate_of_activation(v).tolist() == pytest.approx(
        [CONJUGATE[name](ACTIVATION[name](a)) for a in VALUES], rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_losses_and_estimate_are_the_variational_bound(name: str) -> None:
    g, conj = ACTIVATION[name], lambda a: CONJUGATE[name](ACTIVATION[name](a))
    real, fake = scored(REAL_SCORES, torch.float64), scored(FAKE_SCORES, torch.float64)
    bound = mean([g(a) for a in REAL_SCORES]) - mean([conj(a) for a in FAKE_SCORES])
    critic = FGAN(name).critic_loss(real, fake)
    assert set(critic) == {"real", "fake"}
    assert float(critic["real"]) == pytest.approx(-mean([g(a) for a in REAL_SCORES]), rel=1e-9)
    assert float(critic["fake"]) == pytest.approx(mean([conj(a) for a in FAKE_SCORES]), rel=1e-9)
    assert float(FGAN(name).estimates(real, fake)["divergence_estimate"]) == pytest.approx(bound, rel=1e-9)
    assert float(FGAN(name).generator_loss(fake)["adversarial"]) == pytest.approx(
        -mean([g(a) for a in FAKE_SCORES]), rel=1e-9)
    assert float(FGAN(name, generator="saturating").generator_loss(fake)["adversarial"]) == pytest.approx(
        -mean([conj(a) for a in FAKE_SCORES]), rel=1e-9)


def test_the_gan_row_is_the_minimax_gan_term_for_term() -> None:
    real, fake = scored(REAL_SCORES), scored(FAKE_SCORES)
    fgan, minimax = FGAN("gan"), MinimaxGAN()
    for mine, theirs in ((fgan.critic_loss(real, fake), minimax.critic_loss(real, fake)),
                         (FGAN("gan", "saturating").generator_loss(fake), minimax.generator_loss(fake)),
                         (fgan.generator_loss(fake), NonSaturatingGAN().generator_loss(fake))):
        assert mine.keys() == theirs.keys()
        for key in mine:
            torch.testing.assert_close(mine[key], theirs[key], rtol=1e-6, atol=1e-7)
    # F = E[log σ(V(x))] + E[log(1 − σ(V(x̃)))] (Goodfellow et al. 2014, eq. 1)
    sigmoid = lambda a: 1 / (1 + math.exp(-a))  # noqa: E731
    by_hand = mean([math.log(sigmoid(a)) for a in REAL_SCORES]) + mean([math.log(1 - sigmoid(a)) for a in FAKE_SCORES])
    assert float(fgan.estimates(real, fake)["divergence_estimate"]) == pytest.approx(by_hand, rel=1e-6)


@pytest.mark.parametrize("generator", ["alternative", "saturating"])
@pytest.mark.parametrize("name", NAMES)
def test_losses_and_gradients_are_finite_at_plus_minus_50_in_float32(name: str, generator: str) -> None:
    objective = FGAN(name, generator)
    for scores in ([-50.0, 50.0], [50.0, 50.0], [-50.0, -50.0]):
        real, fake = scored(scores, grad=True), scored(scores[::-1], grad=True)
        critic = sum(objective.critic_loss(real, fake).values())
        estimate = objective.estimates(real, fake)["divergence_estimate"]
        generator_loss = sum(objective.generator_loss(fake).values())
        for value in (critic, estimate, generator_loss):
            assert torch.isfinite(value), (scores, value)
            grads = torch.autograd.grad(value, (real.score, fake.score), allow_unused=True)
            assert all(g is None or bool(torch.isfinite(g).all()) for g in grads), (scores, grads)


def normal_log_density(x: torch.Tensor, mu: float) -> torch.Tensor:
    return -0.5 * (x - mu) ** 2 - 0.5 * math.log(2 * math.pi)


# Optimal critics T* = f'(p/q) (Nowozin et al. 2016, eq. 5) written as V with g_f(V) = T*, for P = N(0, 1) and
# Q = N(1, 1), with the closed forms KL(P‖Q) = KL(Q‖P) = ½ and H²(P, Q) = ∫(√p − √q)² = 2 − 2exp(−1/8).
#   kl:                f'(u) = 1 + log u    and g_f(v) = v           → V = 1 + log(p/q)
#   reverse_kl:        f'(u) = −1/u         and g_f(v) = −exp(−v)    → V = log(p/q)
#   squared_hellinger: f'(u) = 1 − u^(−½)   and g_f(v) = 1 − exp(−v) → V = ½ log(p/q)
OPTIMAL = {"kl": (lambda log_ratio: 1 + log_ratio, 0.5), "reverse_kl": (lambda log_ratio: log_ratio, 0.5),
           "squared_hellinger": (lambda log_ratio: 0.5 * log_ratio, 2 - 2 * math.exp(-1 / 8))}


@pytest.mark.parametrize("name", list(OPTIMAL))
def test_the_estimate_of_the_optimal_critic_is_the_divergence_and_others_stay_below(name: str) -> None:
    generator = torch.Generator().manual_seed(0)
    x_real = torch.randn(200_000, generator=generator, dtype=torch.float64)
    x_fake = 1 + torch.randn(200_000, generator=generator, dtype=torch.float64)
    log_ratio = lambda x: normal_log_density(x, 0.0) - normal_log_density(x, 1.0)  # noqa: E731
    critic, divergence = OPTIMAL[name]

    def estimate(scale: float) -> float:  # critic V of log(p/q)·scale: scale 1 is optimal
        real = Scored(x_real, critic(scale * log_ratio(x_real)), x_real[:, None])
        fake = Scored(x_fake, critic(scale * log_ratio(x_fake)), x_fake[:, None])
        return float(FGAN(name).estimates(real, fake)["divergence_estimate"])

    assert estimate(1.0) == pytest.approx(divergence, abs=0.02)
    for scale in (0.0, 0.5, 1.5):
        assert estimate(scale) < divergence - 0.01  # a lower bound, strictly below away from the optimum


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"divergence": "kld"}, "objective.divergence must be one of kl, reverse_kl, pearson, neyman, squared_hellinger, "
                            "jensen_shannon, gan, total_variation (got 'kld')"),
    ({"generator": "nonsaturating"}, "objective.generator must be one of alternative, saturating "
                                     "(got 'nonsaturating')"),
])
def test_an_unknown_choice_is_one_line_from_the_constructor_and_the_schema(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        FGAN(**kwargs)
    assert str(raised.value) == message
    with initialize_config_module("gan_zoo.conf", version_base="1.3"):
        cfg = compose("train", overrides=["objective=fgan", *[f"objective.{k}={v}" for k, v in kwargs.items()]])
    with pytest.raises(ConfigError) as raised:
        schema.validate(cfg)
    assert str(raised.value) == message


def test_an_unknown_divergence_stops_the_command_line_before_training(tmp_path: Path) -> None:
    result = run_train([*FAST, "logger=none", "objective=fgan", "objective.divergence=kld"], tmp_path / "run")
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == (
        "gan_zoo: error: objective.divergence must be one of kl, reverse_kl, pearson, neyman, squared_hellinger, "
        "jensen_shannon, gan, total_variation (got 'kld')")
    assert not (tmp_path / "run").exists()


def test_every_divergence_trains_and_logs_its_estimate(tmp_path: Path) -> None:
    sweep = tmp_path / "fgan"
    result = run_train([*FAST, "logger=none", "lipschitz=none", "~callbacks.critic_plots", "~callbacks.toy_metrics",
                        "objective=fgan", f"objective.divergence={','.join(NAMES)}"], sweep, multirun=True)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = set()
    for run in sorted(p for p in sweep.iterdir() if p.is_dir() and p.name.isdigit()):
        overrides = (run / ".hydra" / "overrides.yaml").read_text()
        name = next(n for n in NAMES if f"objective.divergence={n}\n" in overrides)
        metrics = read_metrics(run)
        assert metrics["gen_iter"] == 4 and "diverged" not in metrics, (name, metrics)
        for key in ("train/divergence_estimate", "val/divergence_estimate", "train/critic/real", "train/critic/fake"):
            assert math.isfinite(metrics[key]), (name, key, metrics)
        seen.add(name)
    assert seen == set(NAMES)
