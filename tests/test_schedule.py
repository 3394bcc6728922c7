"""The critic schedule (WGAN Algorithm 1 and the official warm-up) and the epoch plan built on it."""

from __future__ import annotations

import pytest
import torch

from gan_zoo.data import PlannedBatches
from gan_zoo.errors import ConfigError
from gan_zoo.training.schedule import CriticSchedule, TrainingPlan


def test_constant_n_critic() -> None:
    schedule = CriticSchedule(n_critic=5)
    assert [schedule.critic_iters(g) for g in (0, 24, 25, 500)] == [5, 5, 5, 5]


def test_wgan_warmup_schedule() -> None:
    # official WGAN code: Diters = 100 if gen_iterations < 25 or gen_iterations % 500 == 0 else 5
    schedule = CriticSchedule(n_critic=5, wgan_warmup=True)
    assert [schedule.critic_iters(g) for g in (0, 24, 25, 26, 499, 500, 501, 1000)] == [100, 100, 5, 5, 5, 100, 5, 100]
    assert schedule.critic_batches(0, 30) == 25 * 100 + 5 * 5


def test_pretraining_steps_come_first() -> None:
    schedule = CriticSchedule(n_critic=2, pretrain_steps=7)
    assert schedule.critic_batches(0, 3) == 7 + 6
    assert schedule.critic_batches(3, 6) == 6


def test_plan_cuts_epochs_in_generator_iterations() -> None:
    plan = TrainingPlan(CriticSchedule(n_critic=3), gen_iters=10, eval_every=4)
    assert plan.num_epochs == 3
    assert [plan.epoch_gen_iters(e) for e in range(3)] == [(0, 4), (4, 8), (8, 10)]
    assert plan.batch_boundaries() == [12, 24, 30]


def test_planned_batches_stop_at_each_epoch_end_and_resume() -> None:
    stream = PlannedBatches(lambda n, rng: torch.rand(n, 2, generator=rng), batch_size=4, seed=0)
    stream.set_plan(TrainingPlan(CriticSchedule(n_critic=3), gen_iters=10, eval_every=4))
    assert [len(list(stream)) for _ in range(3)] == [12, 12, 6]
    state = stream.state_dict()
    again = PlannedBatches(lambda n, rng: torch.rand(n, 2, generator=rng), batch_size=4, seed=99)
    again.load_state_dict(state)
    assert again.batches_drawn == 30
    assert torch.equal(stream.draw(4, stream.rng), again.draw(4, again.rng))


@pytest.mark.parametrize(("factory", "message"), [
    (lambda: CriticSchedule(n_critic=0), r"n_critic must be >= 1 \(got 0\)"),
    (lambda: TrainingPlan(CriticSchedule(), gen_iters=0, eval_every=1), "gen_iters must be >= 1"),
    (lambda: TrainingPlan(CriticSchedule(), gen_iters=1, eval_every=0), "eval_every must be >= 1"),
])
def test_schedule_arguments_are_validated(factory, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        factory()
