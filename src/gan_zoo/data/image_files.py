"""Reading image files: every image becomes a (C, size, size) uint8 tensor, centre-cropped and resized.

Policy for unreadable files (documented in the README): they are skipped with one counted warning that
names the first of them; a folder with no readable image stops the run with a DataError naming the folder.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor
from torchvision.transforms.v2 import functional as TF

from gan_zoo.errors import DataError

log = logging.getLogger(__name__)
T = TypeVar("T")

EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I")
READ_ERRORS = (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError)


def list_images(folder: Path) -> list[Path]:
    """Image files under folder, nested or flat, in a fixed (sorted) order."""
    if folder.is_file():
        raise DataError(f"image folder {folder} is a file, not a folder: point data.path at the folder that holds "
                        f"the images (e.g. data.path={folder.parent})")
    if not folder.is_dir():
        raise DataError(f"image folder {folder} does not exist: create it and put images in it, "
                        f"or point data.path (or data.root) at the right place")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in EXTENSIONS and p.is_file())
    if not files:
        raise DataError(f"image folder {folder} has no image files ({', '.join(EXTENSIONS)}); put images in it")
    return files


def to_square(images: Tensor, size: int, crop: int | None = None) -> Tensor:
    """(…, C, H, W) uint8 → centre crop (`crop` px, or the shorter side) → resize to size × size (antialiased)."""
    side = crop or min(images.shape[-2:])
    images = TF.center_crop(images, [side, side])
    if side != size:
        images = TF.resize(images, [size, size], antialias=True)
    return images


def with_channels(images: Tensor, channels: int) -> Tensor:
    """Grey ↔ RGB for (…, C, H, W) uint8 images (ITU-R 601 luma for RGB → grey)."""
    if images.shape[-3] == channels:
        return images
    if channels == 3:
        return images.expand(*images.shape[:-3], 3, *images.shape[-2:]).contiguous()
    return TF.rgb_to_grayscale(images)


def to_8bit(image: Image.Image) -> Image.Image:
    """16-bit grey (PIL modes I;16, I;16B, I;16L, I;16N, and I, which PIL also uses for 16-bit PNGs and TIFFs) as
    8-bit grey, 0–65535 mapped onto 0–255. PIL's own convert("L") clips them at 255 instead: near-white images.
    Other modes are returned as they are (PIL reduces 16-bit RGB to 8 bits itself)."""
    if image.mode not in SIXTEEN_BIT_MODES:
        return image
    values = torch.from_numpy(np.asarray(image).astype(np.int32)).clamp_(0, 65535).to(torch.uint16)
    return Image.fromarray(TF.to_dtype(values, torch.uint8, scale=True).numpy(), "L")


def read_image(path: Path, size: int, channels: int, crop: int | None = None) -> Tensor:
    """One file → (channels, size, size) uint8; raises one of READ_ERRORS if the file cannot be decoded."""
    with Image.open(path) as image:
        image = to_8bit(ImageOps.exif_transpose(image))  # camera rotation applied
        image = image.convert("RGB" if channels == 3 else "L")
        tensor = TF.pil_to_tensor(image)
    return to_square(tensor, size, crop)


def _skip_unreadable(files: Sequence[Path], read: Callable[[Path], T]) -> list[T]:
    """read(path) for every file; unreadable ones skipped with one counted warning, none readable an error."""
    results, bad = [], []
    for path in files:
        try:
            results.append(read(path))
        except READ_ERRORS:
            bad.append(path)
    if bad:
        log.warning("skipped %d unreadable image file(s) of %d (first: %s)", len(bad), len(files), bad[0])
    if not results:
        raise DataError(f"none of the {len(files)} image files under {Path(files[0]).parent} could be read; "
                        f"replace them with readable images")
    return results


def read_images(files: Sequence[Path], size: int, channels: int, crop: int | None = None) -> Tensor:
    """All readable files as one (N, C, size, size) uint8 tensor; unreadable ones skipped with a counted warning."""
    return torch.stack(_skip_unreadable(files, lambda path: read_image(path, size, channels, crop)))


def _verified(path: Path) -> Path:
    with Image.open(path) as image:
        image.verify()
    return path


def readable(files: Sequence[Path]) -> list[Path]:
    """Files whose header and data PIL can verify (without decoding); the others skipped with a warning."""
    return _skip_unreadable(files, _verified)
