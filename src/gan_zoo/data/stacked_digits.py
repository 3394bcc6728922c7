"""Stacked digits: the Stacked-MNIST protocol (Metz et al. 2017; VEEGAN, Srivastava et al. 2017;
PacGAN, Lin et al. 2018) built from scikit-learn's bundled 8×8 digits, so it works offline."""

from __future__ import annotations

import logging

import torch
from torch import Tensor

from gan_zoo.data.image_files import to_square
from gan_zoo.data.images import ImageDataModule, to_unit_range
from gan_zoo.errors import require
from gan_zoo.metrics.digit_domain import bundled_digits
from gan_zoo.metrics.stacked_modes import classifier_split

log = logging.getLogger(__name__)


class StackedDigits(ImageDataModule):
    """Images whose three channels are three digits drawn independently and uniformly (Metz et al. 2017):
    1,000 equally likely modes, the triple of digit labels. Each digit is one of scikit-learn's 8×8 digits,
    upsampled to image_size exactly as data=digits does (grey 0–16 → 0–255, antialiased bilinear resize); the
    values reach the nets in [−1, 1] like every image set.

    Digits are split as the DigitClassifier that labels the channels splits them
    (gan_zoo.metrics.stacked_modes.classifier_split): the `num_train` training images stack its 1,500 training
    digits only (drawn once with `stack_seed`, the same set for every training seed), the `val_size` held-out
    images and `held_out_stacks` its 297 test digits only (drawn with val_seed). So held-out stacks share no digit
    with training ones, and the classifier's accuracy on them is a held-out accuracy.
    """

    digits_per_image = 3

    def __init__(self, image_size: int = 28, channels: int = 3, num_train: int = 50000, val_size: int = 1000,
                 stack_seed: int = 0, in_memory: bool = True, **kwargs) -> None:
        require(channels == self.digits_per_image,
                f"data=stacked_digits stacks {self.digits_per_image} digits as the channels of one image: "
                f"data.channels must be {self.digits_per_image} (got {channels})")
        require(num_train >= 1, f"data.num_train must be >= 1 (got {num_train})")
        require(in_memory, "data=stacked_digits is built in memory: set data.in_memory=true")
        super().__init__(image_size=image_size, channels=channels, val_size=val_size, in_memory=True, **kwargs)
        self.num_stacked, self.stack_seed = num_train, stack_seed
        self.train_labels: Tensor | None = None  # (num_train, 3) digit labels of the training images
        self.held_out_labels: Tensor | None = None  # (val_size, 3)
        self._digits: tuple[Tensor, Tensor] | None = None

    def digits(self) -> tuple[Tensor, Tensor]:
        """scikit-learn's digits at image_size, (1797, image_size, image_size) uint8, and their labels (1797,)."""
        if self._digits is None:
            from sklearn.datasets import load_digits  # noqa: PLC0415 - only the digit sets need it

            images = to_square(bundled_digits(), self.image_size)[:, 0]
            self._digits = images, torch.from_numpy(load_digits().target).long()
        return self._digits

    def _stack(self, pool: Tensor, n: int, seed: int) -> tuple[Tensor, Tensor]:
        images, labels = self.digits()
        pick = pool[torch.randint(len(pool), (n, self.digits_per_image), generator=torch.Generator().manual_seed(seed))]
        return images[pick], labels[pick]  # (n, 3, S, S) uint8, (n, 3)

    def held_out_stacks(self, n: int, seed: int) -> tuple[Tensor, Tensor]:
        """n stacked images (uint8 (n, 3, S, S)) of held-out digits only, and their digits' labels (n, 3)."""
        return self._stack(classifier_split(len(self.digits()[1]))[1], n, seed)

    def load_images(self) -> Tensor:
        """The training images, (num_train, 3, S, S) uint8."""
        return self._stack(classifier_split(len(self.digits()[1]))[0], self.num_stacked, self.stack_seed)[0]

    def setup(self, stage: str | None = None) -> None:
        if self.held_out is not None:
            return
        train, _ = classifier_split(len(self.digits()[1]))
        self.train_images, self.train_labels = self._stack(train, self.num_stacked, self.stack_seed)
        held_out, self.held_out_labels = self.held_out_stacks(self.val_size, self.val_seed)
        self.held_out = to_unit_range(held_out)
        self.num_train = self.num_stacked
        log.info("StackedDigits: %d training and %d held-out images of shape %s (1,000 modes)", self.num_train,
                 self.val_size, self.data_shape)
