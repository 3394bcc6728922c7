"""Stacked-digit mode coverage at every validation (Metz et al. 2017; VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018)."""

from __future__ import annotations

import pytorch_lightning as pl
import torch
from pytorch_lightning.utilities import rank_zero_info

from gan_zoo.callbacks.cadence import EveryNthValidation
from gan_zoo.contracts import StackedDigitSource, evaluated_module
from gan_zoo.errors import require
from gan_zoo.metrics.features import DigitClassifier
from gan_zoo.metrics.stacked_modes import StackedModeCounter, generated_modes, real_reference


class StackedModeCoverage(EveryNthValidation):
    """Logs, at each validation, on `num_samples` generated images (fixed noise), each channel labelled by the
    DigitClassifier (gan_zoo.metrics.stacked_modes):

    val/stacked_modes, val/stacked_kl            modes covered (of 1,000) and KL(mode histogram ‖ uniform)
    val/stacked_modes_real, val/stacked_kl_real  the same on as many real stacked images of held-out digits,
                                                 classified the same way: what the data itself scores
    val/stacked_kl_uniform                       E[KL] of `num_samples` uniform draws over the modes (the floor)
    val/stacked_channel_accuracy_<c>             the classifier's accuracy on channel c of those real images
    val/stacked_mode_accuracy                    the fraction of them whose three labels are all right (≈ acc³)
    val/stacked_num_samples                      the sample size

    The reference values are computed once, in setup. It switches itself off, with one info line, for data that is
    not stacked digits (gan_zoo.contracts.StackedDigitSource).
    """

    def __init__(self, num_samples: int = 10000, batch_size: int = 500,
                 weights_path: str = "~/.cache/gan_zoo/digit_classifier.pt", every_n_validations: int = 1,
                 seed: int = 8642, real_seed: int = 1357) -> None:
        require(num_samples >= 1, f"callbacks.stacked_modes.num_samples must be >= 1 (got {num_samples})")
        super().__init__(every_n_validations)
        self.num_samples, self.batch_size, self.weights_path = num_samples, batch_size, weights_path
        self.seed, self.real_seed = seed, real_seed
        self.counter: StackedModeCounter | None = None
        self.reference: dict[str, float] = {}

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        datamodule = trainer.datamodule
        self.active = isinstance(datamodule, StackedDigitSource)
        if not self.active:
            rank_zero_info("StackedModeCoverage: the data are not stacked digits; stacked mode coverage is off")
            return
        evaluated_module(pl_module, "StackedModeCoverage")
        with torch.random.fork_rng(devices=[]):  # a first run trains the classifier: not from training's stream
            classifier = DigitClassifier(output="logits", weights_path=self.weights_path)
        self.counter = StackedModeCounter(classifier, self.batch_size)
        reference = real_reference(self.counter, datamodule, self.num_samples, self.real_seed, pl_module.device)
        self.reference = {f"val/{name}": value for name, value in reference.items()}

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._due(trainer):
            return
        noise = pl_module.fixed_noise(self.num_samples, self.seed)
        fake = generated_modes(self.counter, pl_module.generate, noise, self.batch_size)
        pl_module.log_dict({**{f"val/{name}": value for name, value in fake.items()}, **self.reference})
