"""An endless stream of fresh real batches, cut into epochs by the training plan."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import IterableDataset

from gan_zoo.schedule import TrainingPlan

Draw = Callable[[int, torch.Generator], Tensor]


class PlannedBatches(IterableDataset):
    """Yields fresh batches from `draw(batch_size, rng)`, stopping at the end of each planned epoch.

    Epochs are measured in generator iterations (TrainingPlan), so the number of critic batches in
    an epoch follows the critic schedule; Lightning then validates and checkpoints at epoch ends
    exactly every eval_every generator iterations. Its position and RNG are its state_dict, which
    Lightning stores in checkpoints. Use with DataLoader(batch_size=None, num_workers=0).
    """

    def __init__(self, draw: Draw, batch_size: int, seed: int) -> None:
        self.draw = draw
        self.batch_size = batch_size
        self.rng = torch.Generator().manual_seed(seed)
        self.batches_drawn = 0
        self.boundaries: list[int] | None = None

    def set_plan(self, plan: TrainingPlan) -> None:
        self.boundaries = plan.batch_boundaries()

    def __iter__(self) -> Iterator[Tensor]:
        stop = self._epoch_end()
        while stop is None or self.batches_drawn < stop:
            self.batches_drawn += 1
            yield self.draw(self.batch_size, self.rng)

    def _epoch_end(self) -> int | None:
        if self.boundaries is None:
            return None
        index = bisect.bisect_right(self.boundaries, self.batches_drawn)
        return self.boundaries[min(index, len(self.boundaries) - 1)]

    def state_dict(self) -> dict[str, Any]:
        return {"batches_drawn": self.batches_drawn, "rng": self.rng.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.batches_drawn = state["batches_drawn"]
        self.rng.set_state(state["rng"])
