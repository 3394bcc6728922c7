"""Salimans et al. 2016 §3: feature matching, one-sided label smoothing and historical averaging, against values
computed by hand, then through the real entry point (training, logged terms, checkpointed averages, exact resume)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from conftest import FAST, read_metrics, run_train
from stopping import assert_same_weights
from torch import nn

from gan_zoo.errors import ConfigError
from gan_zoo.nets import Scored
from gan_zoo.objectives import (FeatureMatching, MinimaxGAN, NonSaturatingGAN, ObjectiveGeneratorLoss,
                                WassersteinGAN, feature_matching_loss)
from gan_zoo.regularizers import HistoricalAveraging, NoRegularizer

X = torch.zeros(2, 2)  # the samples themselves play no part in these losses


def sigmoid(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


# ------------------------------------------------------------------------------------------- feature matching
def test_feature_matching_is_the_squared_distance_of_the_batch_means() -> None:
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    fake = torch.tensor([[0.0, 0.0], [2.0, 2.0]], requires_grad=True)  # mean (1, 1)
    loss = feature_matching_loss(real, fake)
    assert loss.item() == pytest.approx((2 - 1) ** 2 + (3 - 1) ** 2)  # 5
    loss.backward()
    # d/dfake_i ‖m_r − m_f‖² = −2(m_r − m_f)/N = −(1, 2) for each of the N = 2 rows
    assert torch.allclose(fake.grad, torch.tensor([[-1.0, -2.0], [-1.0, -2.0]]))


def test_feature_matching_goes_with_any_objective_and_learns_nothing_from_the_real_side() -> None:
    real_features = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    real = Scored(X, torch.tensor([5.0, -5.0]), real_features)
    fake = Scored(X, torch.tensor([0.5, 3.0]), torch.tensor([[0.0, 0.0], [2.0, 2.0]]))
    for objective in (NonSaturatingGAN(), WassersteinGAN()):  # the scores (and the objective) do not enter
        terms = FeatureMatching()(objective, fake, real)
        assert list(terms) == ["feature_matching"] and terms["feature_matching"].item() == pytest.approx(5.0)
    assert not terms["feature_matching"].requires_grad  # the real features are detached
    assert FeatureMatching.needs_real and not ObjectiveGeneratorLoss.needs_real
    # the default is the objective's own generator loss, term for term
    own = ObjectiveGeneratorLoss()(NonSaturatingGAN(), fake, None)
    assert own.keys() == {"adversarial"}
    assert own["adversarial"].item() == pytest.approx((math.log1p(math.exp(-0.5)) + math.log1p(math.exp(-3))) / 2)


# ------------------------------------------------------------------------------- one-sided label smoothing
REAL = Scored(X, torch.tensor([1.0, -2.0]), torch.zeros(2, 1))
FAKE = Scored(X, torch.tensor([0.5, 3.0]), torch.zeros(2, 1))


@pytest.mark.parametrize("objective", [MinimaxGAN, NonSaturatingGAN])
@pytest.mark.parametrize("alpha", [0.9, 0.7])
def test_one_sided_label_smoothing_by_hand(objective, alpha: float) -> None:
    terms = objective(real_label=alpha).critic_loss(REAL, FAKE)
    real = -sum(alpha * math.log(sigmoid(d)) + (1 - alpha) * math.log(1 - sigmoid(d)) for d in (1.0, -2.0)) / 2
    fake = -sum(math.log(1 - sigmoid(d)) for d in (0.5, 3.0)) / 2  # the fake target stays 0
    assert terms["real"].item() == pytest.approx(real, rel=1e-6)
    assert terms["fake"].item() == pytest.approx(fake, rel=1e-6)
    # the generator's loss is untouched
    assert torch.equal(objective(real_label=alpha).generator_loss(FAKE)["adversarial"],
                       objective().generator_loss(FAKE)["adversarial"])


def test_real_label_one_is_exactly_the_plain_loss() -> None:
    plain = -sum(math.log(sigmoid(d)) for d in (1.0, -2.0)) / 2
    for objective in (MinimaxGAN(real_label=1.0), NonSaturatingGAN()):
        terms = objective.critic_loss(REAL, FAKE)
        assert terms["real"].item() == pytest.approx(plain, rel=1e-6)
        assert torch.equal(terms["real"], torch.nn.functional.softplus(-REAL.score).mean())


@pytest.mark.parametrize("alpha", [0.0, -0.1, 1.5])
def test_a_real_label_outside_zero_one_is_refused(alpha: float) -> None:
    with pytest.raises(ConfigError, match=rf"objective.real_label must be in \(0, 1\] \(got {alpha}\)"):
        NonSaturatingGAN(real_label=alpha)


# ------------------------------------------------------------------------------------ historical averaging
def two_nets() -> tuple[nn.Module, nn.Module]:
    generator, critic = nn.Linear(2, 1), nn.Linear(3, 1)
    with torch.no_grad():
        for net in (generator, critic):
            for parameter in net.parameters():
                parameter.copy_(torch.arange(parameter.numel(), dtype=torch.float32).view_as(parameter))
    return generator, critic


def test_the_running_mean_is_the_mean_of_the_parameters_after_each_update() -> None:
    generator, critic = two_nets()
    regularizer = HistoricalAveraging(lambda_=0.5)
    regularizer.bind(generator, critic)
    # t = 0: no history, no penalty, for either player
    assert regularizer.terms("critic", critic)["historical_average"].item() == 0.0
    assert regularizer.terms("generator", generator)["historical_average"].item() == 0.0
    optimizer = torch.optim.SGD(critic.parameters(), lr=0.1)
    snapshots = []
    for step in range(3):
        optimizer.zero_grad()
        loss = (critic(torch.ones(4, 3)) - step).pow(2).mean() + sum(regularizer.terms("critic", critic).values())
        loss.backward()
        optimizer.step()
        regularizer.after_step("critic", critic)
        snapshots.append(torch.cat([p.detach().flatten() for p in critic.parameters()]).clone())
    averages = regularizer.averages["critic"]
    assert averages.count.item() == 3 and regularizer.averages["generator"].count.item() == 0
    mean = torch.stack(snapshots).mean(dim=0)
    assert torch.allclose(torch.cat([m.flatten() for m in averages.means()]), mean, atol=1e-7)
    # move θ away from the mean by hand: the penalty is λ‖θ − mean‖², its gradient 2λ(θ − mean)
    with torch.no_grad():
        critic.weight.add_(torch.tensor([[1.0, -2.0, 0.0]]))
    theta = torch.cat([p.detach().flatten() for p in critic.parameters()])
    penalty = regularizer.terms("critic", critic)["historical_average"]
    assert penalty.item() == pytest.approx(0.5 * float(((theta - mean) ** 2).sum()), rel=1e-6)
    assert regularizer.terms("generator", generator)["historical_average"].item() == 0.0


def test_the_penalty_by_hand_and_the_player_choice() -> None:
    generator, critic = two_nets()  # critic θ = (0, 1, 2 | 0)
    regularizer = HistoricalAveraging(lambda_=2.0, players="critic")
    regularizer.bind(generator, critic)
    regularizer.after_step("critic", critic)  # θ[1] = (0, 1, 2 | 0)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[2.0, 1.0, 0.0]]))
        critic.bias.fill_(4.0)
    regularizer.after_step("critic", critic)  # θ[2] = (2, 1, 0 | 4): mean (1, 1, 1 | 2)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[1.0, 3.0, 1.0]]))
        critic.bias.fill_(0.0)
    critic.zero_grad()
    penalty = regularizer.terms("critic", critic)["historical_average"]
    assert penalty.item() == pytest.approx(2.0 * (0 + 4 + 0 + 4))  # λ‖(1,3,1|0) − (1,1,1|2)‖² = 2·8
    penalty.backward()
    assert torch.allclose(critic.weight.grad, torch.tensor([[0.0, 8.0, 0.0]]))  # 2λ(θ − mean)
    assert torch.allclose(critic.bias.grad, torch.tensor([-8.0]))
    assert regularizer.terms("generator", generator) == {}  # not a tracked player
    regularizer.after_step("generator", generator)
    assert set(regularizer.state_dict()) == {"averages.critic.count", "averages.critic.mean0", "averages.critic.mean1"}
    assert NoRegularizer().terms("critic", critic) == {} and not NoRegularizer().state_dict()


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lambda_": -1.0}, r"regularizer.lambda_ must be >= 0 \(got -1.0\)"),
    ({"players": "discriminator"}, "regularizer.players must be one of both, generator, critic"),
])
def test_historical_averaging_arguments_are_validated(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        HistoricalAveraging(**kwargs)


# -------------------------------------------------------------------------------------- the real entry point
SMOOTHED = ["objective=nsgan", "lipschitz=none", "objective.real_label=0.9"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    """One multirun over generator_loss × regularizer (label-smoothed NS-GAN): the job folder of each pair."""
    root = tmp_path_factory.mktemp("salimans") / "sweep"
    result = run_train([*FAST, *SMOOTHED, "generator_loss=objective,feature_matching",
                        "regularizer=none,historical_averaging"], root, multirun=True)
    assert result.returncode == 0, result.stderr[-3000:]
    jobs = {}
    for job in sorted(p for p in root.iterdir() if p.is_dir() and p.name.isdigit()):
        overrides = dict(line.removeprefix("- ").split("=", 1)
                         for line in (job / ".hydra" / "overrides.yaml").read_text().splitlines())
        jobs[overrides["generator_loss"], overrides["regularizer"]] = job
    return jobs


def test_every_option_trains_through_the_cli(sweep: dict[tuple[str, str], Path]) -> None:
    assert set(sweep) == {(g, r) for g in ("objective", "feature_matching") for r in ("none", "historical_averaging")}
    for (generator_loss, regularizer), job in sweep.items():
        metrics = read_metrics(job)
        assert metrics["gen_iter"] == 4 and metrics["critic_steps"] == 8, job
        checkpoint = torch.load(job / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
        assert checkpoint["gan_zoo_config"]["module"]["objective"]["real_label"] == 0.9
        feature_matching = generator_loss == "feature_matching"
        assert math.isfinite(metrics["train/generator/feature_matching" if feature_matching
                                     else "train/generator/adversarial"]), job
        assert ("train/generator/adversarial" in metrics) != feature_matching, job
        averages = {k: v for k, v in checkpoint["state_dict"].items() if k.startswith("regularizer.")}
        if regularizer == "none":  # nothing added: the state dict (and old checkpoints) stay as they were
            assert not averages and "train/critic/historical_average" not in metrics
            continue
        for player in ("critic", "generator"):
            assert math.isfinite(metrics[f"train/{player}/historical_average"]), (job, player)
        # t counts each player's own updates: 8 critic steps, 4 generator steps
        assert averages["regularizer.averages.critic.count"].item() == 8
        assert averages["regularizer.averages.generator.count"].item() == 4
        weight = checkpoint["state_dict"]["critic.body.0.weight"]
        assert averages["regularizer.averages.critic.mean0"].shape == weight.shape


def test_a_resumed_run_continues_the_historical_average_exactly(sweep: dict[tuple[str, str], Path],
                                                                  tmp_path: Path) -> None:
    whole, resumed = sweep["feature_matching", "historical_averaging"], tmp_path / "resumed"
    result = run_train([*FAST, *SMOOTHED, "generator_loss=feature_matching", "regularizer=historical_averaging",
                        f"ckpt_path={whole / 'checkpoints' / 'gen_iter_2.ckpt'}"], resumed)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_same_weights(whole, resumed)  # G, D and both running means, at generator iteration 4


def test_a_bad_real_label_is_one_line(tmp_path: Path) -> None:
    result = run_train([*FAST, "logger=none", "objective=minimax", "objective.real_label=1.5"], tmp_path / "run")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "gan_zoo: error: objective.real_label must be in (0, 1] (got 1.5); 1 turns one-sided label smoothing off, "
        "0.9 is Salimans et al. 2016")
    assert "Traceback" not in result.stderr
