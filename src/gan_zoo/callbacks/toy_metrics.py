"""Exact Wasserstein-1 and mode coverage at every validation, for low-dimensional data."""

from __future__ import annotations

import math

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_info

from gan_zoo.contracts import HeldOutData, KnownDistribution, ModeMixture, evaluated_module
from gan_zoo.lipschitz.measurement import evaluation_mode
from gan_zoo.metrics import exact_w1, mode_coverage
from gan_zoo.metrics.prdc import precision_recall_density_coverage


class ToyMetrics(pl.Callback):
    """Logs, at each validation, on N generated samples (fixed noise) and the first N held-out real samples:

    val/w1_exact            W1(generated, real) by optimal transport (POT)
    val/w1_noise_floor      W1(real, real′) between two real samples of the same N (constant per run)
    val/w_estimate_exact    the critic's estimate E[D(x)] − E[D(G(z))] on the same samples
    val/critic_over_w1      their ratio
    val/precision, val/recall, val/density, val/coverage   on the coordinates (Kynkäänniemi et al. 2019, k = 3;
                            Naeem et al. 2020, k = 5; gan_zoo.metrics.prdc)
    val/modes, val/high_quality, val/reverse_kl   mode coverage, for data with known modes (VEEGAN/PacGAN)

    It switches itself off for data of more than `max_dim` dimensions (images) with one info line.
    """

    def __init__(self, num_samples: int = 2500, n_sigma: float = 3.0, floor_seed: int = 9876, max_dim: int = 8) -> None:
        self.num_samples, self.n_sigma, self.floor_seed, self.max_dim = num_samples, n_sigma, floor_seed, max_dim
        self.active = False
        self.noise_floor = math.nan

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        datamodule = trainer.datamodule
        held_out = datamodule.held_out if isinstance(datamodule, HeldOutData) else None
        distribution = datamodule.distribution if isinstance(datamodule, KnownDistribution) else None
        self.active = (held_out is not None and distribution is not None
                       and math.prod(held_out.shape[1:]) <= self.max_dim)
        if not self.active:
            rank_zero_info("ToyMetrics: not low-dimensional data with a known distribution; exact metrics are off")
            return
        evaluated_module(pl_module, "ToyMetrics")
        self.real = held_out[: self.num_samples]
        other = distribution.sample(len(self.real), torch.Generator().manual_seed(self.floor_seed))
        self.noise_floor = exact_w1(self.real, other)
        modes = isinstance(distribution, ModeMixture)  # mode coverage needs the modes
        self.centers = distribution.centers if modes else None
        self.std = distribution.std if modes else None

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self.active or trainer.sanity_checking:
            return
        real = self.real.to(pl_module.device, pl_module.dtype)
        fake = pl_module.sample(len(real), seed=pl_module.val_seed)
        with torch.no_grad(), evaluation_mode(pl_module.critic):  # no batch-norm statistic or SN vector moves
            estimate = float(pl_module.critic(real).score.mean() - pl_module.critic(fake).score.mean())
        w1 = exact_w1(fake, real)
        metrics = {"val/w1_exact": w1, "val/w1_noise_floor": self.noise_floor, "val/w_estimate_exact": estimate,
                   "val/critic_over_w1": estimate / w1 if w1 > 0 else math.nan}
        # precision/recall (k = 3) and density/coverage (k = 5) on the coordinates themselves
        metrics.update({f"val/{k}": v for k, v in precision_recall_density_coverage(real, fake).items()})
        if self.centers is not None:
            coverage = mode_coverage(fake, self.centers, self.std, self.n_sigma)
            metrics.update({"val/modes": float(coverage.modes), "val/high_quality": coverage.high_quality,
                            "val/reverse_kl": coverage.reverse_kl})
        pl_module.log_dict(metrics)
