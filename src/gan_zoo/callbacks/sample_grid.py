"""Grids of generated images from one fixed noise batch, saved as PNG and logged to W&B."""

from __future__ import annotations

from pathlib import Path

import pytorch_lightning as pl
from pytorch_lightning.loggers import WandbLogger
from pytorch_lightning.utilities import rank_zero_info, rank_zero_only
from torchvision.utils import make_grid, save_image

from gan_zoo.callbacks.cadence import EveryNthValidation
from gan_zoo.contracts import HeldOutData, evaluated_module
from gan_zoo.data.images import to_uint8


class SampleGrid(EveryNthValidation):
    """At every `every_n_validations`-th validation: `num_samples` images of the evaluation generator (the
    EMA copy when there is one) from noise fixed by `seed`, as dirpath/samples_gen_iter_XXXXXX.png and
    W&B image `samples`; at the end of training the last grid also goes to `final_path`."""

    def __init__(self, dirpath: str, final_path: str, num_samples: int = 64, nrow: int = 8, seed: int = 2468,
                 every_n_validations: int = 1) -> None:
        super().__init__(every_n_validations)
        self.dirpath, self.final_path = Path(dirpath), Path(final_path)
        self.num_samples, self.nrow, self.seed = num_samples, nrow, seed

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        held_out = trainer.datamodule.held_out if isinstance(trainer.datamodule, HeldOutData) else None
        self.active = held_out is not None and held_out.dim() == 4
        if not self.active:
            rank_zero_info("SampleGrid: the data are not images; sample grids are off")
            return
        evaluated_module(pl_module, "SampleGrid")

    def _grid(self, pl_module: pl.LightningModule):
        images = to_uint8(pl_module.sample(self.num_samples, seed=self.seed)).cpu()
        return make_grid(images.float().div(255.0), nrow=self.nrow, padding=2, pad_value=1.0)

    @rank_zero_only
    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._due(trainer):
            return
        step = pl_module.gen_iter
        self.dirpath.mkdir(parents=True, exist_ok=True)
        path = self.dirpath / f"samples_gen_iter_{step:06d}.png"
        save_image(self._grid(pl_module), path)
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image(key="samples", images=[str(path)], step=step)

    @rank_zero_only
    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.active:
            self.final_path.parent.mkdir(parents=True, exist_ok=True)
            save_image(self._grid(pl_module), self.final_path)
