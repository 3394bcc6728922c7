"""Folders of image files as the real or generated side of an image-metric evaluation (`gan_zoo.evaluate fake=
real=`, `ckpt_path= real=`), read with the project's folder loader (gan_zoo.data.image_files) in batches, so a folder
never has to fit in memory."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor

from gan_zoo.data.image_files import EXTENSIONS, READ_ERRORS, list_images, read_image, readable
from gan_zoo.errors import ConfigError, DataError

log = logging.getLogger(__name__)


def folder_images(folder: str | Path, key: str) -> list[Path]:
    """The readable image files under folder (nested or flat, sorted); `key` is the setting that named it (real,
    fake), for the message when there are none."""
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise DataError(f"{key}={folder} does not exist: point {key}= at a folder of images")
    if not folder.is_dir():
        raise DataError(f"{key}={folder} is a file, not a folder: point {key}= at the folder that holds the images")
    try:
        files = list_images(folder)
    except DataError:
        raise DataError(f"{key}={folder} holds no image files (read: {', '.join(EXTENSIONS)}, in the folder and its "
                        f"subfolders): point {key}= at a folder of images") from None
    return readable(files)


def choose(files: list[Path], n: int | None, seed: int, key: str) -> list[Path]:
    """n of the files (all for None), drawn without replacement with seed and kept in sorted order."""
    if n is None:
        chosen = files
    elif n > len(files):
        raise ConfigError(f"num_{key}={n} but {key}= holds {len(files)} readable images: lower num_{key} (or null: "
                          f"all of them)")
    else:
        index = torch.randperm(len(files), generator=torch.Generator().manual_seed(seed))[:n]
        chosen = [files[i] for i in index.sort().values.tolist()]
    if len(chosen) < 2:
        raise ConfigError(f"{key}= holds {len(chosen)} readable image: FID, KID and PRDC need at least 2")
    return chosen


def first_image_size(files: list[Path]) -> int:
    """The shorter side of the first file: the square size its images are read at when image_size is not given."""
    with Image.open(files[0]) as image:
        return min(image.size)


class FolderBatches:
    """uint8 (N, channels, size, size) batches of files, each centre-cropped (to `crop` px, or the shorter side) and
    resized as the run's folder data would be (gan_zoo.data.image_files.read_image). A file that passed the header
    check but fails to decode is skipped with a warning; `count` is the number of images yielded."""

    def __init__(self, files: list[Path], size: int, channels: int, crop: int | None, batch_size: int) -> None:
        self.files, self.size, self.channels, self.crop, self.batch_size = files, size, channels, crop, batch_size
        self.count = 0

    def __iter__(self) -> Iterator[Tensor]:
        for start in range(0, len(self.files), self.batch_size):
            images = []
            for path in self.files[start:start + self.batch_size]:
                try:
                    images.append(read_image(path, self.size, self.channels, self.crop))
                except READ_ERRORS:
                    log.warning("skipped unreadable image file %s", path)
            if images:
                self.count += len(images)
                yield torch.stack(images)
