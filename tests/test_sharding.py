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


def test_global_std_is_the_population_std_of_the_batch_in_one_process() -> None:
    x = torch.randn(64, 3, 4, 4) * 2.5 + 1.0
    torch.testing.assert_close(sharding.global_std(x), torch.tensor(x.numpy().std()))  # numpy's X.std() (DRAGAN's code)
    assert not torch.allclose(sharding.global_std(x[:2, 0, 0, :2]), x[:2, 0, 0, :2].std())  # not the n − 1 std


def _std_of_my_half(rank: int, world: int, init_method: str, x: torch.Tensor, out: torch.Tensor) -> None:
    torch.distributed.init_process_group("gloo", init_method=init_method, rank=rank, world_size=world)
    try:
        sharding.set_shard(rank, world)
        out[rank] = sharding.global_std(sharding.local_slice(x))
    finally:
        torch.distributed.destroy_process_group()


def test_global_std_over_processes_is_the_population_std_of_the_global_batch(tmp_path) -> None:  # noqa: ANN001
    x = (torch.randn(8, 5) * 3.0 + 2.0).double()
    out = torch.zeros(2, dtype=torch.float64).share_memory_()
    torch.multiprocessing.spawn(_std_of_my_half, args=(2, f"file://{tmp_path / 'store'}", x, out), nprocs=2)
    expected = torch.tensor(x.numpy().std(), dtype=torch.float64)
    torch.testing.assert_close(out, expected.expand(2))  # every rank, the whole batch's std, ÷ n


def test_a_generator_of_its_own_leaves_the_training_stream_alone_and_is_sliced_the_same_way() -> None:
    whole = draws_as(0, 1, lambda: sharding.rand(6, 2, generator=torch.Generator().manual_seed(3)))
    state = torch.get_rng_state()
    parts = [draws_as(rank, 3, lambda: sharding.randn(2, 2, generator=torch.Generator().manual_seed(3)))
             for rank in range(3)]
    whole_normal = draws_as(0, 1, lambda: sharding.randn(6, 2, generator=torch.Generator().manual_seed(3)))
    assert torch.equal(torch.cat(parts), whole_normal)
    assert torch.equal(whole, torch.rand(6, 2, generator=torch.Generator().manual_seed(3)))
    torch.manual_seed(7)
    sharding.rand_like(torch.empty(4, 2), generator=torch.Generator().manual_seed(3))
    assert torch.equal(torch.get_rng_state(), state)  # draws_as seeded 7; the own generator drew nothing from it


def test_single_process_draws_the_whole_batch_and_restores_the_shard() -> None:
    sharding.set_shard(1, 2)
    torch.manual_seed(7)
    with sharding.single_process():
        alone = sharding.rand(4, 2)
        assert sharding.world_size() == 1
    assert sharding.world_size() == 2
    torch.manual_seed(7)
    assert torch.equal(alone, torch.rand(4, 2))  # all 4 rows, not rank 1's part of 8
    torch.manual_seed(7)
    mine = sharding.rand(4, 2)
    torch.manual_seed(7)
    assert torch.equal(mine, torch.rand(8, 2)[4:])  # outside: rank 1's part again
