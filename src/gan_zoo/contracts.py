"""What the callbacks, the data stream and the DDP strategy expect of the LightningModule and the data module.

Each contract is a `typing.Protocol`: any class with these attributes fulfils it, without inheriting from it.
gan_zoo's GANModule fulfils TrainingProgress, ShowsProgress, DataParallelModule and EvaluatesGenerator; its data
modules fulfil HeldOutData and PlannedData, the toy ones also KnownDistribution, the image ones RealImageSource,
stacked digits also StackedDigitSource.
The runtime-checkable ones are tested with isinstance (which looks for the names, not their types), so a
callback given another module or data module switches itself off or says what is missing, instead of failing on
an attribute deep inside a hook.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import torch
from torch import Tensor, nn

from gan_zoo.errors import ConfigError

if TYPE_CHECKING:
    from gan_zoo.lipschitz.base import LipschitzStrategy
    from gan_zoo.training.schedule import TrainingPlan


# ------------------------------------------------------------------------------------------- data modules
@runtime_checkable
class HeldOutData(Protocol):
    """A fixed held-out set of real samples, (N, *data_shape), the same for every training seed: validation,
    pictures and exact metrics use it. None until the data module's setup has loaded it."""

    held_out: Tensor | None


@runtime_checkable
class RealImageSource(HeldOutData, Protocol):
    """Image data that hands out real training images for FID/IS/KID reference statistics."""

    def real_images(self, n: int, seed: int) -> Tensor:
        """n training images (uint8, (n, C, H, W)), the same ones for the same seed."""
        ...


@runtime_checkable
class PlannedData(Protocol):
    """Training batches cut into epochs by a TrainingPlan (set by train.py before fitting; None until then)."""

    plan: TrainingPlan | None

    def set_plan(self, plan: TrainingPlan) -> None:
        """Cut the training stream into the plan's epochs."""
        ...


@runtime_checkable
class Distribution(Protocol):
    """A distribution that can be sampled with a given random generator."""

    def sample(self, n: int, rng: torch.Generator) -> Tensor:
        """n samples, (n, *data_shape), drawn with `rng` only."""
        ...


@runtime_checkable
class ModeMixture(Distribution, Protocol):
    """A mixture of isotropic modes, for mode-coverage metrics: mode centres (K, d) and their standard deviation,
    both in data coordinates."""

    centers: Tensor
    std: float


@runtime_checkable
class KnownDistribution(Protocol):
    """Data drawn from a distribution known in closed form (toy data), so exact metrics can sample it again."""

    distribution: Distribution


@runtime_checkable
class StackedDigitSource(HeldOutData, Protocol):
    """Images whose channels each hold one digit (Stacked MNIST, Metz et al. 2017), 10^channels modes, with
    real ones of digits held out from training for mode-coverage metrics."""

    def held_out_stacks(self, n: int, seed: int) -> tuple[Tensor, Tensor]:
        """n real images (uint8, (n, C, H, W)) of held-out digits and their digits' labels (n, C), fixed by seed."""
        ...


# ------------------------------------------------------------------------------------------------ modules
@runtime_checkable
class TrainingProgress(Protocol):
    """Progress of adversarial training: completed generator iterations and critic updates (pre-training
    included; one per training batch, so also the number of batches training has consumed)."""

    gen_iter: int
    critic_steps: int


@runtime_checkable
class ShowsProgress(Protocol):
    """Numbers for the progress bar, as floats already read to the host (no device sync when shown)."""

    progress_bar_values: dict[str, float]


@runtime_checkable
class DataParallelModule(Protocol):
    """A module whose nets can each be trained through their own data-parallel wrapper."""

    def use_data_parallel(self, wrap: Callable[[nn.Module], nn.Module] | None) -> None:
        """Train through `wrap(net)` for each net (e.g. DistributedDataParallel); None: the plain nets again."""
        ...


@runtime_checkable
class EvaluatesGenerator(TrainingProgress, Protocol):
    """A trained generator to sample with fixed noise and the critic trained against it, for evaluation and
    pictures. Sampling runs the evaluation generator (the EMA copy when there is one) in eval mode, without
    gradients, on the module's device and dtype."""

    val_seed: int
    critic: nn.Module
    lipschitz: LipschitzStrategy
    objective: object

    @property
    def device(self) -> torch.device: ...

    @property
    def dtype(self) -> torch.dtype: ...

    def fixed_noise(self, n: int, seed: int) -> Tensor:
        """n noise vectors fixed by seed (the same on every device and rank)."""
        ...

    def generate(self, z: Tensor) -> Tensor:
        """G(z) with the evaluation generator."""
        ...

    def sample(self, n: int, seed: int) -> Tensor:
        """G(z) for the n noise vectors fixed by seed."""
        ...


def evaluated_module(module: object, user: str) -> EvaluatesGenerator:
    """`module` as an EvaluatesGenerator, or a ConfigError naming the callback (`user`) that needs one."""
    if not isinstance(module, EvaluatesGenerator):
        raise ConfigError(f"{user} evaluates a generator: it needs a LightningModule with sample, fixed_noise, "
                          f"generate, val_seed, critic, lipschitz and gen_iter (gan_zoo.contracts.EvaluatesGenerator, "
                          f"e.g. gan_zoo's GANModule); got {type(module).__name__}")
    return module
