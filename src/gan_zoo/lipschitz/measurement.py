"""Measuring ‖∇D‖ without touching training: a random stream of its own, and every buffer left as it was.

Observing must not change what is trained: the logged gradient norms and the critic pictures would otherwise make
the weights depend on `trainer.log_every_n_steps` or on which callbacks run. A measurement can move training in
three ways, and each is closed here:

- random numbers: probe points drawn from the global generator would shift training's noise and penalty points.
  A measurement draws from a `torch.Generator` of its own (`measurement_generator`);
- spectral norm: torch's parametrization runs a power iteration and updates its u/v buffers on every forward in
  training mode (Miyato et al. 2018, Algorithm 1), so one extra forward would change σ for the next update;
- batch norm and dropout: a forward in training mode updates the running statistics and draws a dropout mask
  from the training stream (gan_zoo.nets.base.SampleDropout).
The last two are closed by measuring the critic in eval mode (`evaluation_mode`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor, nn

from gan_zoo.lipschitz.base import LipschitzStrategy
from gan_zoo.lipschitz.gradients import gradient_norms

# Mixed into every measurement seed, so that a measurement never draws the numbers of another stream seeded
# from the run's seed.
MEASUREMENT_STREAM = 0x6D656173


def measurement_generator(device: torch.device | str, seed: int, step: int) -> torch.Generator:
    """A generator on `device` seeded from (seed, step) alone, mixed by numpy's SeedSequence.

    A function of the step rather than one generator carried along: the numbers measured at a step do not depend
    on how often the run measured before, a resumed run measures what an uninterrupted one does with nothing
    stored in the checkpoint, and every data-parallel rank draws the same global batch of probe points (each then
    keeps its slice, gan_zoo.parallel.sharding). Seeding a generator reads nothing from the device.
    """
    words = np.random.SeedSequence([MEASUREMENT_STREAM, seed % 2**64, step % 2**64]).generate_state(2, np.uint32)
    return torch.Generator(device=device).manual_seed(int(words[0]) << 32 | int(words[1]))


@contextlib.contextmanager
def evaluation_mode(module: nn.Module) -> Iterator[nn.Module]:
    """`module` with every submodule in eval mode inside; afterwards each submodule's own mode is restored (not
    one mode for all: a submodule kept in eval mode during training stays so)."""
    modes = [(submodule, submodule.training) for submodule in module.modules()]
    module.eval()
    try:
        yield module
    finally:
        for submodule, training in modes:  # parents come first in modules(): each child is then set to its own
            submodule.train(training)


def measured_gradient_norms(strategy: LipschitzStrategy, critic: nn.Module, real: Tensor, fake: Tensor,
                            generator: torch.Generator) -> Tensor:
    """‖∇D‖ at `strategy.probe_points(real, fake)`, drawn from `generator`, changing nothing that training uses.

    What is measured: the critic as it is now (after this step's update and any clipping), in eval mode — dropout
    off, batch norm with its running statistics, and under spectral norm W/σ with σ = uᵀWv from the stored u, v
    (the value the last update's power iteration left; no further iteration, so nothing is written and it costs
    less than a training-mode forward). That is the critic that validation evaluates. Parameter gradients
    (`.grad`) are not touched: only the gradient with respect to the points is taken.
    """
    with evaluation_mode(critic), strategy.forward_context(critic):
        points = strategy.probe_points(real, fake, generator)
        return gradient_norms(critic, points, create_graph=False)
