"""The names of the metrics a run will log, decided from its config before anything is built.

`optimized_metric` is what `train()` returns (an Optuna sweeper optimises it); a name the run never logs used to be
found out only after the whole run. The names come from the same places the run takes them from:

- GANModule (gan_zoo.training.module): `train/critic_loss`, `train/w_estimate`, `train/generator_loss`,
  `train/grad_norm_mean|max`, `val/w_estimate`, `train/pretrain_loss` when the objective pre-trains, and one
  `train/critic/<term>`, `train/generator/<term>`, `train/penalty/<term>` per loss term, and `train/<name>`,
  `val/<name>` per estimate of the objective (f-GAN's divergence_estimate). The terms are what the
  configured objective and Lipschitz strategy return: they are run once on four 2-D points through a tiny critic
  (milliseconds, on the CPU, outside training's random stream);
- gan_zoo.runtime.fit: `gen_iter`, `critic_steps`, `wall_time_s`;
- ToyMetrics (gan_zoo.callbacks.toy_metrics) on low-dimensional data with a known distribution;
- ImageMetrics (gan_zoo.callbacks.image_metrics) on image data: `val/<name>` for each `metrics.functions`
  entry, `val/<name>_mean|std` for those whose `compute` returns a pair (KID, IS), and `val/classifier_accuracy`
  with a feature network trained on the run's data (metrics=classifier);
- StackedModeCoverage (gan_zoo.callbacks.stacked_modes) on stacked digits: `val/stacked_*`.
"""

from __future__ import annotations

import inspect
import typing

import torch
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig
from torch import Tensor, nn

from gan_zoo.contracts import ModeMixture
from gan_zoo.data.images import ImageDataModule
from gan_zoo.data.stacked_digits import StackedDigits
from gan_zoo.nets.base import CriticOutput, Scored

FIXED = ("train/critic_loss", "train/w_estimate", "train/generator_loss", "train/grad_norm_mean",
         "train/grad_norm_max", "val/w_estimate", "gen_iter", "critic_steps", "wall_time_s")
TOY = ("val/w1_exact", "val/w1_noise_floor", "val/w_estimate_exact", "val/critic_over_w1", "val/precision",
       "val/recall", "val/density", "val/coverage")
MODES = ("val/modes", "val/high_quality", "val/reverse_kl")
STACKED = ("val/stacked_modes", "val/stacked_kl", "val/stacked_modes_real", "val/stacked_kl_real",
           "val/stacked_kl_uniform", "val/stacked_mode_accuracy", "val/stacked_num_samples",
           *(f"val/stacked_channel_accuracy_{c}" for c in range(3)))
TERM_FAMILIES = ("train/critic/", "train/generator/", "train/penalty/")


class _ProbeCritic(nn.Module):
    """The smallest critic every Lipschitz strategy accepts: linear layers (spectral norm), a ReLU (the
    penalties' penalty_friendly swap) and a dropout module (CT-GAN's two passes)."""

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Dropout(0.0))
        self.head = nn.Linear(4, 1)

    def forward(self, x: Tensor) -> CriticOutput:
        features = self.body(x)
        return CriticOutput(self.head(features).squeeze(1), features)


def loss_terms(cfg: DictConfig) -> set[str]:
    """train/critic/*, train/generator/* and train/penalty/* as the configured objective and strategy name them."""
    objective, lipschitz = instantiate(cfg.objective), instantiate(cfg.lipschitz)
    with torch.random.fork_rng():
        torch.manual_seed(0)
        critic = lipschitz.prepare_critic(_ProbeCritic())
        real, fake = torch.randn(4, 2), torch.randn(4, 2)
        with lipschitz.forward_context(critic):
            real_scored, fake_scored = Scored.of(critic, real), Scored.of(critic, fake)
            terms = {f"train/critic/{k}" for k in objective.critic_loss(real_scored, fake_scored)}
            terms |= {f"train/penalty/{k}" for k in lipschitz.penalty(critic, real_scored, fake_scored).terms}
            generator_loss = instantiate(cfg.generator_loss) if "generator_loss" in cfg else None
            generator_terms = (generator_loss(objective, fake_scored, real_scored) if generator_loss is not None
                               else objective.generator_loss(fake_scored))
            terms |= {f"train/generator/{k}" for k in generator_terms}
            if "regularizer" in cfg:  # its terms join both players' (the probe critic stands in for the generator)
                regularizer = instantiate(cfg.regularizer)
                regularizer.bind(critic, critic)
                terms |= {f"train/{player}/{k}" for player in ("critic", "generator")
                          for k in regularizer.terms(player, critic)}
            estimates = objective.estimates(real_scored, fake_scored)  # logged on train and held-out data
            terms |= {f"{split}/{k}" for k in estimates for split in ("train", "val")}
    return terms


def _returns_pair(metric_class: type) -> bool:
    annotation = inspect.signature(metric_class.compute).return_annotation
    return typing.get_origin(annotation) is tuple or str(annotation).lower().startswith(("tuple", "typing.tuple"))


def image_metrics(cfg: DictConfig) -> set[str]:
    functions = cfg.get("metrics", {}).get("functions") or {}
    if not functions:
        return set()
    names = {"val/metric_num_fake", "val/metric_num_real"}
    for name, node in functions.items():
        metric_class = get_class(node._target_)
        outputs = getattr(metric_class, "outputs", None)  # a metric returning several named values declares them
        if outputs:
            names |= {f"val/{output}" for output in outputs}
            continue
        pair = _returns_pair(metric_class)
        names |= {f"val/{name}_mean", f"val/{name}_std"} if pair else {f"val/{name}"}
    return names


def toy_metrics(cfg: DictConfig) -> set[str]:
    distribution = instantiate(cfg.data.distribution)
    if distribution.sample(1, torch.Generator().manual_seed(0)).numel() > cfg.callbacks.toy_metrics.get("max_dim", 8):
        return set()
    return {*TOY, *MODES} if isinstance(distribution, ModeMixture) else set(TOY)


def logged_metrics(cfg: DictConfig) -> tuple[set[str], bool]:
    """(names the run logs, whether the loss-term names are exact). When the objective or the strategy cannot run
    on the probe (a user's class for other data), any name of the term families is accepted."""
    names = set(FIXED)
    if (cfg.objective.get("pretrain_steps") or 0) > 0:
        names.add("train/pretrain_loss")
    try:
        names |= loss_terms(cfg)
        exact = True
    except Exception:  # noqa: BLE001 - a user's objective for other shapes: its terms are not known up front
        exact = False
    callbacks = cfg.get("callbacks") or {}
    images = issubclass(get_class(cfg.data._target_), ImageDataModule)
    if images and "image_metrics" in callbacks:
        names |= image_metrics(cfg)
        features = (cfg.get("metrics") or {}).get("features") or {}
        if "_target_" in features and hasattr(get_class(features._target_), "fit_to_data"):  # metrics=classifier
            names.add("val/classifier_accuracy")
    if "stacked_modes" in callbacks and issubclass(get_class(cfg.data._target_), StackedDigits):
        names |= set(STACKED)
    if not images and "toy_metrics" in callbacks and "distribution" in cfg.data:
        names |= toy_metrics(cfg)
    return names, exact


def is_logged(name: str, cfg: DictConfig) -> tuple[bool, list[str]]:
    """(whether the run logs `name`, the sorted names it logs)."""
    names, exact = logged_metrics(cfg)
    return name in names or (not exact and name.startswith(TERM_FAMILIES)), sorted(names)
