"""One global batch split across processes (gan_zoo.parallel.sharding): each rank's slice of every draw is the slice of the
single-process draw, whatever the world size."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from gan_zoo.parallel import sharding
from gan_zoo.data.planned import PlannedBatches
from gan_zoo.nets.base import SampleDropout


@pytest.fixture(autouse=True)
def _single_process() -> Iterator[None]:
    yield
    sharding.set_shard(0, 1)


def draws_as(rank: int, world: int, draw) -> torch.Tensor:  # noqa: ANN001 - a lambda over the sharding module
    sharding.set_shard(rank, world)
    torch.manual_seed(7)
    return draw()


@pytest.mark.parametrize("draw", [lambda n: sharding.randn(n, 3), lambda n: sharding.rand(n, 2, 2),
                                  lambda n: sharding.rand_like(torch.empty(n, 5))])
def test_the_ranks_slices_concatenate_to_the_single_process_draw(draw) -> None:  # noqa: ANN001
    whole = draws_as(0, 1, lambda: draw(6))
    parts = [draws_as(rank, 3, lambda: draw(2)) for rank in range(3)]
    assert torch.equal(torch.cat(parts), whole)


def test_every_rank_leaves_the_random_stream_in_the_same_state() -> None:
    states = [draws_as(rank, 2, lambda: (sharding.randn(4, 8), torch.get_rng_state())[1]) for rank in range(2)]
    assert torch.equal(states[0], states[1])


def test_a_rank_outside_the_world_is_refused() -> None:
    with pytest.raises(ValueError, match="rank 2 is outside a world of 2 processes"):
        sharding.set_shard(2, 2)


def test_planned_batches_give_each_rank_its_part_of_the_global_batch() -> None:
    def stream(rank: int, world: int, batch: int) -> list[torch.Tensor]:
        sharding.set_shard(rank, world)
        batches = iter(PlannedBatches(lambda n, rng: torch.randn(n, 2, generator=rng), batch, seed=3))
        return [next(batches) for _ in range(3)]

    whole = stream(0, 1, 8)
    parts = [stream(rank, 2, 4) for rank in range(2)]
    for step in range(3):
        assert torch.equal(torch.cat([parts[0][step], parts[1][step]]), whole[step])


def test_sample_dropout_masks_match_across_world_sizes_and_keep_the_expected_value() -> None:
    dropout = SampleDropout(0.25)
    x = torch.ones(4000, 16)
    whole = draws_as(0, 1, lambda: dropout(x))
    halves = [draws_as(rank, 2, lambda: dropout(x[:2000])) for rank in range(2)]
    assert torch.equal(torch.cat(halves), whole)
    torch.testing.assert_close(whole.unique(), torch.tensor([0.0, 4.0 / 3.0]))
    assert abs(float((whole == 0).float().mean()) - 0.25) < 0.01
    assert torch.equal(dropout.eval()(x), x)


def test_global_std_is_the_batch_std_in_one_process() -> None:
    x = torch.randn(64, 3, 4, 4) * 2.5 + 1.0
    torch.testing.assert_close(sharding.global_std(x), x.std())
