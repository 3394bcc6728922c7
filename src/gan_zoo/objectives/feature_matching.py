"""Generator losses chosen apart from the critic's objective (config group `generator_loss`): the objective's own
(the default), or feature matching (Salimans et al. 2016, §3.1)."""

from __future__ import annotations

import torch.distributed as dist
import torch.distributed.nn.functional as dist_functional
from torch import Tensor

from gan_zoo.nets.base import Scored
from gan_zoo.objectives.base import Objective, Terms
from gan_zoo.parallel import sharding


class GeneratorLoss:
    """What the generator minimises in its update, given the critic's objective.

    `needs_real` is a declared capability: only a loss that sets it receives the critic's output on a real batch
    (the module scores the real batch of the iteration's last critic step again, with the updated critic and
    without gradients); every other loss gets `real=None` and costs no extra forward pass.
    """

    needs_real: bool = False

    def __call__(self, objective: Objective, fake: Scored, real: Scored | None) -> Terms:
        raise NotImplementedError


class ObjectiveGeneratorLoss(GeneratorLoss):
    """The objective's own generator loss (`generator_loss=objective`, the default)."""

    def __call__(self, objective: Objective, fake: Scored, real: Scored | None) -> Terms:
        return objective.generator_loss(fake)


def global_batch_mean(x: Tensor) -> Tensor:
    """The mean over dim 0 of the global batch (gan_zoo.parallel.sharding), differentiable.

    Data-parallel processes hold equal slices, so the global mean is the all-reduced sum of the local means over
    the world size. torch.distributed.nn's all-reduce carries the gradient back to every slice, so the DDP-averaged
    gradient of ‖E f(x) − E f(x̃)‖² is that of the single-process loss on the whole batch (a mean of per-process
    losses would not be: the loss is not linear in the means)."""
    mean = x.mean(dim=0)
    if sharding.world_size() == 1 or not dist.is_available() or not dist.is_initialized():
        return mean
    return dist_functional.all_reduce(mean) / sharding.world_size()


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """Salimans et al. 2016, §3.1: ‖E_x f(x) − E_z f(G(z))‖²₂, batch means of the critic's features f."""
    difference = global_batch_mean(real_features.detach().flatten(1)) - global_batch_mean(fake_features.flatten(1))
    return (difference * difference).sum()


class FeatureMatching(GeneratorLoss):
    """Feature matching, Salimans et al. 2016, §3.1 (`generator_loss=feature_matching`).

    L_G = ‖E_x f(x) − E_z f(G(z))‖²₂ with f the critic's penultimate activations (CriticOutput.features: the last
    hidden layer; an autoencoder critic's code). The critic keeps its objective's loss, so this goes with every
    objective. The real features are detached: only the generator learns from this loss.
    """

    needs_real = True

    def __call__(self, objective: Objective, fake: Scored, real: Scored | None) -> Terms:
        if real is None:
            raise ValueError("feature matching needs the critic's features of a real batch")
        return {"feature_matching": feature_matching_loss(real.features, fake.features)}
