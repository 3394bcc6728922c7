"""One global batch, split across data-parallel processes.

Every process draws the random numbers of the whole global batch (world size × per-process batch) from the
same seeded stream and keeps its own slice: the real samples, the noise, the interpolation points and the
dropout masks. So `trainer.devices=N` with `data.batch_size=B` is the same experiment as one process with
batch N·B (up to the order of floating-point sums), and every process keeps the same RNG state, so the
checkpoint that rank 0 writes resumes all of them. The price is drawing N× the random numbers, which is small
next to the forward and backward passes.

Per-process seeding (the usual alternative) gives each rank its own stream: cheaper by that margin, but the run
then depends on the number of processes and cannot be compared with, or resumed as, a single-process run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch import Tensor

_rank, _world_size = 0, 1


def set_shard(rank: int, world_size: int) -> None:
    """Called when training starts in each process (GANModule.setup)."""
    global _rank, _world_size
    if not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is outside a world of {world_size} processes")
    _rank, _world_size = rank, world_size


def world_size() -> int:
    return _world_size


@contextlib.contextmanager
def single_process() -> Iterator[None]:
    """Inside, this process draws and reduces as if it were alone (world size 1): for work that one rank does
    by itself, such as a picture drawn on rank 0 only, where a collective (global_std's all-reduce) would wait
    for ranks that never join it, and a slice would keep only rank 0's share of the points."""
    global _rank, _world_size
    saved = _rank, _world_size
    _rank, _world_size = 0, 1
    try:
        yield
    finally:
        _rank, _world_size = saved


def local_slice(global_batch: Tensor) -> Tensor:
    """This process's equal part of a global batch (along dim 0)."""
    if _world_size == 1:
        return global_batch
    n = global_batch.shape[0] // _world_size
    return global_batch[_rank * n:(_rank + 1) * n]


def rand(n: int, *shape: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None,
         generator: torch.Generator | None = None) -> Tensor:
    """U[0, 1) of shape (n, *shape): this process's rows of a global (world_size·n, *shape) draw.

    From `generator` when given (a stream of its own, e.g. a measurement's: the same seed on every rank gives
    every rank the same global draw), otherwise from the global (training) stream."""
    return local_slice(torch.rand(n * _world_size, *shape, device=device, dtype=dtype, generator=generator))


def randn(n: int, *shape: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None,
          generator: torch.Generator | None = None) -> Tensor:
    """N(0, 1) of shape (n, *shape): this process's rows of a global (world_size·n, *shape) draw (from
    `generator` when given, as in `rand`)."""
    return local_slice(torch.randn(n * _world_size, *shape, device=device, dtype=dtype, generator=generator))


def rand_like(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    return rand(x.shape[0], *x.shape[1:], device=x.device, dtype=x.dtype, generator=generator)


def global_std(x: Tensor) -> Tensor:
    """The population standard deviation of all elements of the global batch, sqrt(Σ(x − x̄)² / n) (numpy's
    `X.std()`, which the DRAGAN authors' code uses: Kodali et al. 2017; docs/methods.md), not Tensor.std()'s
    unbiased n − 1.

    One all-reduce of (count, sum, sum of squares) when distributed; no gradient flows through it.
    """
    x = x.detach()
    if _world_size == 1 or not dist.is_available() or not dist.is_initialized():
        return x.std(correction=0)
    x64 = x.double()
    # new_full fills on the device; torch.tensor(n, device=...) would be a blocking host-to-device copy per step
    moments = torch.stack([x64.new_full((), float(x.numel())), x64.sum(), (x64 * x64).sum()])
    dist.all_reduce(moments)
    count, total, squares = moments
    variance = (squares - total * total / count) / count
    return variance.clamp_min(0).sqrt().to(x.dtype)
