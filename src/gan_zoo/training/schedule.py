"""When the generator steps, and how many critic batches each stretch of training needs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from gan_zoo.errors import require


@dataclass(frozen=True)
class CriticSchedule:
    """WGAN Algorithm 1: n_critic critic updates (each on a fresh real batch) per generator update.

    With wgan_warmup, the official WGAN code's schedule: 100 critic updates for the first 25 generator
    iterations and for every 500th. pretrain_steps critic-only steps come before generator iteration 0
    (EBGAN's autoencoder pre-training).
    """

    n_critic: int = 5
    wgan_warmup: bool = False
    pretrain_steps: int = 0
    warmup_critic_iters: int = 100
    warmup_gen_iters: int = 25
    warmup_every: int = 500

    def __post_init__(self) -> None:
        require(self.n_critic >= 1, f"n_critic must be >= 1 (got {self.n_critic})")
        require(self.pretrain_steps >= 0, f"pretrain_steps must be >= 0 (got {self.pretrain_steps})")

    def critic_iters(self, gen_iter: int) -> int:
        """Critic updates that precede generator update number gen_iter (0-based)."""
        if self.wgan_warmup and (gen_iter < self.warmup_gen_iters or gen_iter % self.warmup_every == 0):
            return self.warmup_critic_iters
        return self.n_critic

    def critic_batches(self, start: int, stop: int) -> int:
        """Real batches consumed by generator iterations [start, stop), pre-training included."""
        batches = sum(self.critic_iters(g) for g in range(start, stop))
        return batches + (self.pretrain_steps if start == 0 < stop else 0)


@dataclass(frozen=True)
class TrainingPlan:
    """A run of gen_iters generator iterations, cut into Lightning epochs of eval_every generator
    iterations each; every epoch ends with a validation and a checkpoint."""

    schedule: CriticSchedule
    gen_iters: int
    eval_every: int

    def __post_init__(self) -> None:
        require(self.gen_iters >= 1, f"gen_iters must be >= 1 (got {self.gen_iters})")
        require(self.eval_every >= 1, f"eval_every must be >= 1 (got {self.eval_every})")

    @property
    def num_epochs(self) -> int:
        return math.ceil(self.gen_iters / self.eval_every)

    def epoch_gen_iters(self, epoch: int) -> tuple[int, int]:
        """The generator iterations [start, stop) of one epoch."""
        start = epoch * self.eval_every
        return start, min(start + self.eval_every, self.gen_iters)

    def batch_boundaries(self) -> list[int]:
        """Cumulative real batches at the end of each epoch."""
        total, ends = 0, []
        for epoch in range(self.num_epochs):
            total += self.schedule.critic_batches(*self.epoch_gen_iters(epoch))
            ends.append(total)
        return ends
