"""The image data sets: torchvision's MNIST, Fashion-MNIST and CIFAR-10, scikit-learn's bundled digits,
CelebA and any folder of images. Every one yields uint8 images resized to `image_size`."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torchvision import datasets

from gan_zoo.compat import CheckableCIFAR10
from gan_zoo.data.image_files import list_images, read_images, readable, to_square, with_channels
from gan_zoo.data.images import ImageDataModule
from gan_zoo.errors import DataError


def _fit(images: Tensor, size: int, channels: int) -> Tensor:
    """(N, C, H, W) uint8 → the configured size and channel count."""
    return with_channels(to_square(images, size), channels)


class _CIFAR10Files(CheckableCIFAR10):
    # torchvision re-hashes every member (md5) on each start; existence is enough here, and files copied by
    # hand to an offline cluster (or written by tests) need not match byte for byte. Downloads still verify.
    def files_complete(self) -> bool:
        base = Path(self.root) / self.base_folder
        return all((base / name).is_file() for name, _ in [*self.train_list, *self.test_list, (self.meta["filename"], "")])

    def read_class_names(self) -> None:
        with open(Path(self.root) / self.base_folder / self.meta["filename"], "rb") as file:
            self.classes = pickle.load(file, encoding="latin1")[self.meta["key"]]


class TorchvisionImages(ImageDataModule):
    """A torchvision data set (training split): downloaded into `root` when missing and online."""

    dataset_class: type = datasets.MNIST
    name = "MNIST"
    expected_files = ("the four files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and "
                      "t10k-labels-idx1-ubyte (unzipped)")

    def __init__(self, root: str = "data", image_size: int = 28, channels: int = 1, download: bool = True,
                 **kwargs) -> None:
        super().__init__(image_size=image_size, channels=channels, **kwargs)
        self.root, self.download = Path(root), download
        self._dataset: datasets.VisionDataset | None = None  # opened by prepare_data, reused by setup

    def folder(self) -> Path:
        return self.root / self.dataset_class.__name__ / "raw"

    def prepare_data(self) -> None:
        """Download once (Lightning calls this on one process per node, before setup on every rank)."""
        if self.download:
            self._dataset = self._open(download=True)

    def load_images(self) -> Tensor:
        dataset = self._dataset or self._open(download=False)  # other ranks open what rank 0 downloaded
        images = torch.as_tensor(np.asarray(dataset.data))
        images = images.unsqueeze(1) if images.dim() == 3 else images.permute(0, 3, 1, 2)
        return _fit(images.contiguous(), self.image_size, self.channels)

    def _open(self, download: bool) -> datasets.VisionDataset:
        try:
            return self.dataset_class(str(self.root), train=True, download=download)
        except Exception as error:  # noqa: BLE001 - missing files, no network, corrupt files: one message
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise DataError(f"{self.name} is not readable in {self.folder()} and could not be "
                            f"downloaded ({reason}): put {self.expected_files} there, or run once with network "
                            f"access") from error


class MNIST(TorchvisionImages):
    """MNIST (LeCun et al. 1998), 60,000 training digits, 28×28 grey."""


class FashionMNIST(TorchvisionImages):
    """Fashion-MNIST (Xiao et al. 2017), 60,000 training images, 28×28 grey."""

    dataset_class = datasets.FashionMNIST
    name = "Fashion-MNIST"


class CIFAR10(TorchvisionImages):
    """CIFAR-10 (Krizhevsky 2009), 50,000 training images, 32×32 RGB."""

    dataset_class = _CIFAR10Files
    name = "CIFAR-10"
    expected_files = "the cifar-10-batches-py folder (data_batch_1..5, test_batch, batches.meta)"

    def __init__(self, root: str = "data", image_size: int = 32, channels: int = 3, **kwargs) -> None:
        super().__init__(root=root, image_size=image_size, channels=channels, **kwargs)

    def folder(self) -> Path:
        return self.root / self.dataset_class.base_folder


class Digits(ImageDataModule):
    """scikit-learn's bundled 8×8 digits (1,797 images, no download), upsampled to image_size.

    Grey levels 0–16 are scaled to 0–255 before resizing (bilinear, antialiased).
    """

    def __init__(self, image_size: int = 28, channels: int = 1, **kwargs) -> None:
        super().__init__(image_size=image_size, channels=channels, **kwargs)

    def load_images(self) -> Tensor:
        from sklearn.datasets import load_digits  # noqa: PLC0415 - only this data set needs it

        images = torch.from_numpy(load_digits().images * (255.0 / 16.0)).round().to(torch.uint8).unsqueeze(1)
        return _fit(images, self.image_size, self.channels)


class ImageFolder(ImageDataModule):
    """Every image file under `path` (nested or flat), centre-cropped (to `crop` px, or the shorter side) and
    resized to image_size, as grey (channels 1) or RGB (channels 3). Unreadable files are skipped with a
    counted warning."""

    def __init__(self, path: str, image_size: int = 64, channels: int = 3, crop: int | None = None,
                 **kwargs) -> None:
        super().__init__(image_size=image_size, channels=channels, **kwargs)
        self.path, self._crop = Path(path), crop

    def crop(self) -> int | None:
        return self._crop

    def list_files(self) -> list[Path]:
        return readable(list_images(self.path))

    def load_images(self) -> Tensor:
        return read_images(list_images(self.path), self.image_size, self.channels, self._crop)


class CelebA(ImageFolder):
    """CelebA aligned faces (Liu et al. 2015): `root`/celeba/img_align_celeba/*.jpg, the layout
    `torchvision.datasets.CelebA(root, download=True)` creates. Centre crop 108 px, then 64 px (DCGAN practice)."""

    def __init__(self, root: str = "data", image_size: int = 64, channels: int = 3, crop: int | None = 108,
                 in_memory: bool = False, **kwargs) -> None:
        super().__init__(path=str(Path(root) / "celeba" / "img_align_celeba"), image_size=image_size,
                         channels=channels, crop=crop, in_memory=in_memory, **kwargs)

    def list_files(self) -> list[Path]:
        if not self.path.is_dir():
            raise DataError(f"CelebA is not in {self.path}: download img_align_celeba.zip (e.g. with "
                            f"torchvision.datasets.CelebA(root, download=True) on a machine with network) "
                            f"and unzip it there")
        return super().list_files()

    def load_images(self) -> Tensor:
        self.list_files()
        return super().load_images()
