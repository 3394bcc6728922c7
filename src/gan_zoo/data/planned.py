"""An endless stream of fresh real batches, cut into epochs by the training plan."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor
from torch.utils.data import DataLoader, IterableDataset

from gan_zoo.contracts import TrainingProgress
from gan_zoo.parallel import sharding
from gan_zoo.training.schedule import TrainingPlan

Draw = Callable[[int, torch.Generator], Tensor]


class PlannedBatches(IterableDataset):
    """Yields fresh batches from `draw(batch_size, rng)`, stopping at the end of each planned epoch.

    Epochs are measured in generator iterations (TrainingPlan), so the number of critic batches in
    an epoch follows the critic schedule; Lightning then validates and checkpoints at epoch ends
    exactly every eval_every generator iterations. Its position and RNG are its state_dict, which
    Lightning stores in checkpoints. Use with DataLoader(batch_size=None, num_workers=0), or as the
    batch_sampler of a map-style DataLoader.

    Loaders draw ahead of training (Lightning's fetcher by one batch, DataLoader workers by
    prefetch_factor × workers), so a checkpoint taken mid-epoch must record the position of the last batch
    training *consumed*: the RNG state before each of the last HISTORY draws is kept for that.

    Under data parallelism every process draws the global batch (world size × batch_size) and keeps its own
    slice (gan_zoo.parallel.sharding), so the stream and its state are the same in every process.
    """

    HISTORY = 64

    def __init__(self, draw: Draw, batch_size: int, seed: int) -> None:
        self.draw = draw
        self.batch_size = batch_size
        self.rng = torch.Generator().manual_seed(seed)
        self.batches_drawn = 0
        self.boundaries: list[int] | None = None
        self.rng_before: dict[int, torch.Tensor] = {}  # draw index → RNG state before that draw

    def set_plan(self, plan: TrainingPlan) -> None:
        self.boundaries = plan.batch_boundaries()

    def __iter__(self) -> Iterator[Tensor]:
        stop = self._epoch_end()
        while stop is None or self.batches_drawn < stop:
            self.rng_before[self.batches_drawn] = self.rng.get_state()
            self.rng_before.pop(self.batches_drawn - self.HISTORY, None)
            self.batches_drawn += 1
            yield sharding.local_slice(self.draw(self.batch_size * sharding.world_size(), self.rng))

    def _epoch_end(self) -> int | None:
        if self.boundaries is None:
            return None
        index = bisect.bisect_right(self.boundaries, self.batches_drawn)
        return self.boundaries[min(index, len(self.boundaries) - 1)]

    def state_dict(self, consumed: int | None = None) -> dict[str, Any]:
        """The position after `consumed` batches (default: all drawn ones) and the RNG state there."""
        if consumed is None or consumed >= self.batches_drawn:
            return {"batches_drawn": self.batches_drawn, "rng": self.rng.get_state()}
        if consumed not in self.rng_before:
            raise RuntimeError(f"the loader ran {self.batches_drawn - consumed} batches ahead of training, "
                               f"more than the {self.HISTORY} this stream remembers")
        return {"batches_drawn": consumed, "rng": self.rng_before[consumed]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.batches_drawn = state["batches_drawn"]
        self.rng.set_state(state["rng"])


def loader_generator() -> torch.Generator:
    """A DataLoader's own random generator. Each `iter(loader)` draws a base seed (for its workers' seeds) from the
    loader's generator, by default from torch's global stream: training's stream. A run resumed mid-epoch iterates
    its loader once more than the uninterrupted run at that point, so with the global stream it would draw every
    later noise batch, penalty point and dropout mask one number off. The batches themselves come from the planned
    stream's own generator, so this one only seeds workers (which draw nothing: file decoding is deterministic)."""
    return torch.Generator().manual_seed(0)


def consumed_batches(datamodule: pl.LightningDataModule) -> int | None:
    """Training batches the attached module has consumed (its critic steps), or None outside training."""
    module = datamodule.trainer.lightning_module if datamodule.trainer is not None else None
    return module.critic_steps if isinstance(module, TrainingProgress) else None


class PlannedDataModule(pl.LightningDataModule):
    """A data module whose training batches are one PlannedBatches stream of `draw(batch_size, rng)` (fulfils
    gan_zoo.contracts.PlannedData). The stream's position and RNG are the data module's state, which Lightning
    keeps in checkpoints; the position saved is that of the last batch training consumed.

    Subclasses give `draw` and the validation data; the training loader is the stream itself (one process, no
    workers: batches are drawn whole), unless a subclass says otherwise.
    """

    def __init__(self, draw: Draw, batch_size: int, seed: int) -> None:
        super().__init__()
        self.plan: TrainingPlan | None = None
        self.train_stream = PlannedBatches(draw, batch_size, seed)

    def set_plan(self, plan: TrainingPlan) -> None:
        """Cut the training stream into the plan's epochs (train.py calls this before fitting)."""
        self.plan = plan
        self.train_stream.set_plan(plan)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train_stream, batch_size=None, num_workers=0, generator=loader_generator())

    def state_dict(self) -> dict[str, Any]:
        return self.train_stream.state_dict(consumed=consumed_batches(self))

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.train_stream.load_state_dict(state_dict)
