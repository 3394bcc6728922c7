"""Image data modules: a held-out validation set, a training stream cut into planned epochs, and real
images for FID/IS/KID.

Two training paths:
- in memory (`in_memory: true`, the default): every image decoded once into one uint8 tensor, kept on the
  training device (the GPU when there is one). The stream yields only index batches; the images are
  gathered on the device after the transfer, so a batch costs one indexing op and no per-item Python work.
- streamed (`in_memory: false`, for data sets that do not fit, e.g. CelebA): a plain DataLoader with
  workers decoding files per item; the batch sampler is the same planned stream of index batches.
Batches are drawn uniformly with replacement from the training images (the sampler's position and RNG are
checkpointed with the data module state).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from gan_zoo.data.image_files import READ_ERRORS, read_image
from gan_zoo.data.planned import PlannedDataModule, loader_generator
from gan_zoo.errors import require

log = logging.getLogger(__name__)


def to_unit_range(images: Tensor) -> Tensor:
    """uint8 [0, 255] → float [−1, 1], the range of the generators' tanh."""
    return images.float().div_(127.5).sub_(1.0)


def to_uint8(images: Tensor) -> Tensor:
    """float [−1, 1] → uint8 [0, 255] (clamped), e.g. generator samples for FID or PNG grids."""
    return images.add(1.0).mul(127.5).round_().clamp_(0, 255).to(torch.uint8)


# The fewest images a run can use: data.val_size >= 2 held out (validation's estimate needs two), one to train on.
MIN_IMAGES = 3


def too_few_images(total: int, val_size: int) -> str:
    """What to do when a data set of `total` images cannot hold out `val_size` and keep one to train on."""
    if total < MIN_IMAGES:
        return (f"the data set has {total} image(s); a run needs at least {MIN_IMAGES} (data.val_size >= 2 held out "
                f"and 1 to train on): add images")
    return (f"data.val_size ({val_size}) must be smaller than the data set ({total} images); lower data.val_size "
            f"(at most {total - 1}, e.g. {max(2, total // 10)})")


class ImageDataModule(PlannedDataModule, ABC):
    """Base of every image data set; subclasses say how to read their images."""

    def __init__(self, image_size: int, channels: int, batch_size: int = 64, val_size: int = 1000,
                 in_memory: bool = True, num_workers: int = 2, seed: int = 0, val_seed: int = 1234) -> None:
        super().__init__(self._draw_indices, batch_size, seed)
        require(image_size >= 4, f"data.image_size must be >= 4 (got {image_size})")
        require(channels in (1, 3), f"data.channels must be 1 (grey) or 3 (RGB) (got {channels})")
        require(batch_size >= 2, f"data.batch_size must be >= 2 (got {batch_size})")
        require(val_size >= 2, f"data.val_size must be >= 2 (got {val_size})")
        require(num_workers >= 0, f"data.num_workers must be >= 0 (got {num_workers})")
        self.image_size, self.channels = image_size, channels
        self.batch_size, self.val_size = batch_size, val_size
        self.in_memory, self.num_workers = in_memory, num_workers
        self.val_seed = val_seed
        self.data_shape = (channels, image_size, image_size)
        self.num_train = 0
        self.train_images: Tensor | None = None  # (N, C, H, W) uint8, in memory
        self.train_files: list[Path] | None = None  # streamed
        self.held_out: Tensor | None = None  # (val_size, C, H, W) float in [−1, 1]
        self._on_device: dict[torch.device, Tensor] = {}

    # ------------------------------------------------------------------------ what subclasses give
    @abstractmethod
    def load_images(self) -> Tensor:
        """Every image of the data set as one (N, C, image_size, image_size) uint8 tensor."""

    def list_files(self) -> list[Path]:
        """Readable image files, for the streamed path (data sets that are folders of files)."""
        raise NotImplementedError(f"{type(self).__name__} holds its images in memory; set data.in_memory=true")

    def crop(self) -> int | None:
        return None

    # --------------------------------------------------------------------------------- Lightning
    def setup(self, stage: str | None = None) -> None:
        if self.held_out is not None:
            return
        items = self.load_images() if self.in_memory else self.list_files()  # uint8 images, or file paths
        order = torch.randperm(len(items), generator=torch.Generator().manual_seed(self.val_seed))
        total = len(order)
        require(total > self.val_size, too_few_images(total, self.val_size))
        val_index, train_index = order[: self.val_size], order[self.val_size:]
        if self.in_memory:
            self.held_out = to_unit_range(items[val_index])
            self.train_images = items[train_index.sort().values].contiguous()
        else:
            self.train_files = [items[i] for i in train_index.sort().values.tolist()]
            held_out = FileImages([items[i] for i in val_index.tolist()], self.image_size, self.channels, self.crop())
            self.held_out = torch.stack([held_out[i] for i in range(len(held_out))])
        self.num_train = total - self.val_size
        log.info("%s: %d training and %d held-out images of shape %s", type(self).__name__, self.num_train,
                 self.val_size, self.data_shape)

    def train_dataloader(self) -> DataLoader:
        if self.in_memory:
            return super().train_dataloader()  # index batches, gathered on the device (on_after_batch_transfer)
        return DataLoader(FileImages(self.train_files, self.image_size, self.channels, self.crop()),
                          batch_sampler=self.train_stream, num_workers=self.num_workers,
                          persistent_workers=self.num_workers > 0, generator=loader_generator())

    def val_dataloader(self) -> DataLoader:
        # its own generator: validation must not draw from training's random stream (observing never changes it)
        return DataLoader(self.held_out, batch_size=min(self.val_size, 500), shuffle=False, generator=loader_generator())

    def on_after_batch_transfer(self, batch: Tensor, dataloader_idx: int) -> Tensor:
        """In-memory training batches arrive as indices and are gathered on the device here."""
        if batch.dtype == torch.long:
            return to_unit_range(torch.index_select(self.images_on(batch.device), 0, batch))  # faster than [batch]
        return batch

    # ------------------------------------------------------------------------------------ helpers
    def images_on(self, device: torch.device) -> Tensor:
        """The in-memory training images on `device`, copied there once."""
        if device not in self._on_device:
            self._on_device[device] = self.train_images.to(device)
        return self._on_device[device]

    def real_images(self, n: int, seed: int) -> Tensor:
        """n training images (uint8, without replacement when possible) for FID/IS/KID reference statistics."""
        rng = torch.Generator().manual_seed(seed)
        index = torch.randperm(self.num_train, generator=rng)[:n] if n <= self.num_train else \
            torch.randint(self.num_train, (n,), generator=rng)
        if self.in_memory:
            return self.train_images[index]
        files = FileImages(self.train_files, self.image_size, self.channels, self.crop())
        return torch.stack([to_uint8(files[i]) for i in index.tolist()])

    def _draw_indices(self, batch_size: int, rng: torch.Generator) -> Tensor:
        return torch.randint(self.num_train, (batch_size,), generator=rng)


class FileImages(Dataset):
    """Decodes one file per item (the streamed path). A file that fails to decode here (it passed the
    header check at set-up) is replaced by the next readable one, with a warning naming it."""

    def __init__(self, files: list[Path], size: int, channels: int, crop: int | None) -> None:
        self.files, self.size, self.channels, self.crop = files, size, channels, crop

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> Tensor:
        for offset in range(len(self.files)):
            path = self.files[(int(index) + offset) % len(self.files)]
            try:
                return to_unit_range(read_image(path, self.size, self.channels, self.crop))
            except READ_ERRORS:
                log.warning("skipped unreadable image file %s", path)
        raise RuntimeError("no training image could be read")  # unreachable after the set-up check
