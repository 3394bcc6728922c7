"""FID, KID and Inception Score with torchmetrics, at every validation (every eval_every generator
iterations and at the end of training)."""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from pytorch_lightning.utilities import rank_zero_info
from torch import Tensor
from torchmetrics import Metric

from gan_zoo.callbacks.cadence import EveryNthValidation
from gan_zoo.data.images import to_uint8
from gan_zoo.errors import DataError, require


def _as_rgb(images: Tensor) -> Tensor:
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


class ImageMetrics(EveryNthValidation):
    """Logs val/<name> for every metric (val/<name>_mean and _std for KID and IS) on `num_fake` samples of
    the evaluation generator (fixed noise) and `num_real` training images, with both counts
    (val/metric_num_fake, val/metric_num_real) so a number is never read without its sample size.

    `metrics` maps names to torchmetrics configs (`_target_`), instantiated only for image data, so toy runs
    never load a feature network. Real-image statistics are computed once (the metrics keep them
    with `reset_real_features=False`); each rank handles its share of the samples and torchmetrics
    reduces them, so every rank logs the same value.
    """

    def __init__(self, metrics: Mapping[str, Any], num_fake: int = 10000, num_real: int = 10000,
                 batch_size: int = 250, every_n_validations: int = 1, seed: int = 4321) -> None:
        require(num_fake >= 2 and num_real >= 2,
                f"metrics.num_fake and metrics.num_real must be >= 2 (got {num_fake}, {num_real})")
        super().__init__(every_n_validations)
        self.configs = dict(metrics or {})
        self.num_fake, self.num_real, self.batch_size, self.seed = num_fake, num_real, batch_size, seed
        self.metrics: dict[str, Metric] = {}
        self.real_done = False

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        held_out = getattr(trainer.datamodule, "held_out", None)
        if held_out is None or held_out.dim() != 4 or not hasattr(trainer.datamodule, "real_images"):
            rank_zero_info("ImageMetrics: the data are not images; FID/IS/KID are off")
            return
        for name, config in self.configs.items():
            try:
                # fork_rng: building a feature network must not move the training's random stream
                with torch.random.fork_rng(devices=[]):
                    self.metrics[name] = instantiate(config)
            except Exception as error:  # noqa: BLE001 - e.g. Inception weights unreachable offline
                while error.__cause__ is not None:  # Hydra wraps the constructor's own error
                    error = error.__cause__
                reason = str(error).splitlines()[0] if str(error) else type(error).__name__
                raise DataError(
                    f"could not build the '{name}' metric's feature network ({reason}): offline, put the Inception "
                    f"weights (pt_inception-2015-12-05-6726825d.pth) in a file and set metrics.weights_path to it, "
                    f"or use another feature network (e.g. metrics=digits)") from error
        self.active = bool(self.metrics)

    def _share(self, total: int, trainer: pl.Trainer) -> tuple[int, int]:
        """(count, offset) of this rank's part of `total` samples."""
        base, extra = divmod(total, trainer.world_size)
        rank = trainer.global_rank
        return base + (rank < extra), rank * base + min(rank, extra)

    def _update(self, metric: Metric, images: Tensor, real: bool) -> None:
        if "real" in inspect.signature(metric.update).parameters:
            metric.update(images, real=real)
        elif not real:  # the Inception Score looks at generated images only
            metric.update(images)

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._due(trainer):
            return
        devices = [pl_module.device] if pl_module.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):  # KID/IS subsets draw random numbers: not from training's stream
            self._evaluate(trainer, pl_module)

    @torch.no_grad()
    def _evaluate(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        device = pl_module.device
        for metric in self.metrics.values():
            metric.to(device)
            metric.reset()  # generated-image state only (reset_real_features=False keeps the real statistics)
        if not self.real_done:
            count, offset = self._share(self.num_real, trainer)
            real = trainer.datamodule.real_images(self.num_real, seed=self.seed)[offset: offset + count]
            for batch in real.split(self.batch_size):
                for metric in self.metrics.values():
                    self._update(metric, _as_rgb(batch.to(device)), real=True)
            self.real_done = True
        count, offset = self._share(self.num_fake, trainer)
        # One noise draw for all samples, sliced: the same images whatever the number of processes.
        for z in pl_module.fixed_noise(self.num_fake, self.seed)[offset: offset + count].split(self.batch_size):
            fake = _as_rgb(to_uint8(pl_module.generate(z)))
            for metric in self.metrics.values():
                self._update(metric, fake, real=False)
        values: dict[str, float] = {"val/metric_num_fake": float(self.num_fake), "val/metric_num_real": float(self.num_real)}
        for name, metric in self.metrics.items():
            result = metric.compute()
            if isinstance(result, tuple):
                values[f"val/{name}_mean"], values[f"val/{name}_std"] = float(result[0]), float(result[1])
            else:
                values[f"val/{name}"] = float(result)
        pl_module.log_dict(values)
