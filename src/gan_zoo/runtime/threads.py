"""How many CPU threads torch uses: the `threads:` setting of conf/train.yaml.

Why set it at all: torch starts one thread per core of the machine, and a SLURM job (or one of several runs sharing
a node) that gets 4 of a node's 64 cores then runs 64 threads on 4 cores. SLURM does not pin CPUs on every cluster,
so its SLURM_CPUS_PER_TASK is the best default there.
"""

from __future__ import annotations

import os

import torch

SLURM_CPUS = "SLURM_CPUS_PER_TASK"


def thread_count(threads: int | None) -> int | None:
    """The number of threads to set: `threads` if given, else SLURM_CPUS_PER_TASK if set, else None (torch's own
    default, left alone). The schema (gan_zoo.runtime.schema) has checked that `threads` is null or >= 1."""
    if threads is not None:
        return threads
    slurm = os.environ.get(SLURM_CPUS, "")
    return int(slurm) if slurm.isdigit() and int(slurm) >= 1 else None


def set_threads(threads: int | None) -> None:
    """torch.set_num_threads(thread_count(threads)), unless that is None."""
    count = thread_count(threads)
    if count is not None:
        torch.set_num_threads(count)
