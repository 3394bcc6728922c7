"""Every image data module on files the tests write: torchvision's MNIST/Fashion-MNIST/CIFAR-10 formats, a folder
of PNGs with a corrupt file, the streamed path, the bundled digits, and the messages for missing data."""

from __future__ import annotations

import logging
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_zoo.data import CIFAR10, MNIST, CelebA, Digits, FashionMNIST, ImageFolder
from gan_zoo.data.images import to_uint8
from gan_zoo.errors import ConfigError, DataError
from gan_zoo.training.schedule import CriticSchedule, TrainingPlan


def write_idx(folder: Path, prefix: str, images: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    n, rows, cols = images.shape
    (folder / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">iiii", 2051, n, rows, cols) + images.tobytes())
    (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">ii", 2049, n) + bytes(n))


def mnist_like(root: Path, name: str, n: int = 40) -> np.ndarray:
    images = np.random.default_rng(0).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    write_idx(root / name / "raw", "train", images)
    write_idx(root / name / "raw", "t10k", images[:5])
    return images


@pytest.mark.parametrize(("module", "name"), [(MNIST, "MNIST"), (FashionMNIST, "FashionMNIST")])
def test_torchvision_digit_sets_read_their_raw_files(tmp_path: Path, module, name: str) -> None:
    images = mnist_like(tmp_path, name)
    data = module(root=str(tmp_path), download=False, val_size=10)
    data.setup()
    assert data.num_train == 30 and data.held_out.shape == (10, 1, 28, 28)
    everything = {bytes(x) for x in images}
    assert {bytes(x.squeeze(0).numpy()) for x in data.train_images} <= everything  # pixels unchanged
    assert {bytes(x.squeeze(0).numpy()) for x in to_uint8(data.held_out)} <= everything


def test_cifar10_reads_its_pickled_batches(tmp_path: Path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {"data": rng.integers(0, 256, size=(6, 3072), dtype=np.uint8), "labels": [0] * 6}
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": [str(i) for i in range(10)]}))
    data = CIFAR10(root=str(tmp_path), download=False, val_size=5)
    data.setup()
    assert data.num_train == 25 and data.train_images.shape == (25, 3, 32, 32)
    first = pickle.loads((folder / "data_batch_1").read_bytes())["data"].reshape(-1, 3, 32, 32)
    stored = {bytes(x.numpy()) for x in torch.cat([data.train_images, to_uint8(data.held_out)])}
    assert all(bytes(x) in stored for x in first)  # CHW order, pixels unchanged


def test_mnist_resized_and_as_rgb(tmp_path: Path) -> None:
    mnist_like(tmp_path, "MNIST")
    data = MNIST(root=str(tmp_path), download=False, image_size=32, channels=3, val_size=4)
    data.setup()
    assert data.train_images.shape == (36, 3, 32, 32)
    assert torch.equal(data.train_images[:, 0], data.train_images[:, 2])  # grey copied to every channel


def test_missing_torchvision_data_names_the_folder_and_the_files(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=rf"MNIST is not readable in {tmp_path}/MNIST/raw .*train-images-idx3-ubyte"):
        MNIST(root=str(tmp_path), download=False).setup()
    with pytest.raises(DataError, match="cifar-10-batches-py"):
        CIFAR10(root=str(tmp_path), download=False).setup()


def test_corrupt_mnist_file_is_one_clear_error(tmp_path: Path) -> None:
    mnist_like(tmp_path, "MNIST")
    (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03garbage")
    with pytest.raises(DataError, match="MNIST is not readable"):
        MNIST(root=str(tmp_path), download=False, val_size=4).setup()


def write_folder(root: Path) -> None:
    rng = np.random.default_rng(0)
    (root / "nested" / "deeper").mkdir(parents=True)
    for i in range(6):
        pixels = rng.integers(0, 256, size=(40, 50, 3), dtype=np.uint8)  # not square: centre-cropped
        where = root / ("nested/deeper" if i % 2 else "") / f"img{i}.png"
        Image.fromarray(pixels).save(where)
    Image.fromarray(rng.integers(0, 256, size=(30, 30), dtype=np.uint8)).save(root / "grey.jpg")
    (root / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    (root / "notes.txt").write_text("not an image")


@pytest.mark.parametrize("channels", [1, 3])
def test_folder_nested_cropped_resized_and_corrupt_file_skipped(tmp_path: Path, caplog, channels: int) -> None:
    write_folder(tmp_path)
    data = ImageFolder(path=str(tmp_path), image_size=16, channels=channels, val_size=2)
    with caplog.at_level(logging.WARNING):
        data.setup()
    assert data.num_train + data.val_size == 7  # 6 PNGs + 1 JPEG; the corrupt PNG and the .txt left out
    assert data.train_images.shape == (5, channels, 16, 16)
    assert "skipped 1 unreadable image file(s) of 8 (first: " in caplog.text and "broken.png" in caplog.text


def test_folder_streamed_path_gives_the_same_images_through_a_dataloader(tmp_path: Path) -> None:
    write_folder(tmp_path)
    memory = ImageFolder(path=str(tmp_path), image_size=16, channels=3, val_size=2, in_memory=True)
    streamed = ImageFolder(path=str(tmp_path), image_size=16, channels=3, val_size=2, in_memory=False, num_workers=0)
    plan = TrainingPlan(CriticSchedule(n_critic=1), gen_iters=3, eval_every=3)
    for data in (memory, streamed):
        data.set_plan(plan)
        data.setup()
    assert torch.equal(memory.held_out, streamed.held_out)
    batches = [streamed.on_after_batch_transfer(b, 0) for b in streamed.train_dataloader()]
    assert len(batches) == 3 and batches[0].shape == (64, 3, 16, 16) and batches[0].dtype == torch.float32
    indices = list(memory.train_dataloader())
    memory_batches = [memory.on_after_batch_transfer(b, 0) for b in indices]
    assert torch.equal(memory_batches[0], batches[0])  # same sampler stream, same images, either path


def test_in_memory_batches_are_gathered_on_the_device_from_indices() -> None:
    data = Digits(val_size=97)
    data.set_plan(TrainingPlan(CriticSchedule(n_critic=1), gen_iters=2, eval_every=2))
    data.setup()
    (first, _) = list(data.train_dataloader())
    assert first.dtype == torch.long and first.shape == (64,)  # only indices cross the DataLoader
    batch = data.on_after_batch_transfer(first, 0)
    assert batch.shape == (64, 1, 28, 28) and -1 <= batch.min() < batch.max() <= 1
    assert torch.equal(to_uint8(batch), data.train_images[first])


def test_digits_are_the_bundled_scikit_learn_set() -> None:
    data = Digits(image_size=32, val_size=297)
    data.setup()
    assert data.num_train == 1500 and data.train_images.shape == (1500, 1, 32, 32)
    assert data.train_images.max() > 200 and data.train_images.min() == 0


def test_missing_and_empty_folders_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"image folder .*nowhere does not exist: create it"):
        ImageFolder(path=str(tmp_path / "nowhere")).setup()
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"image folder .*empty has no image files"):
        ImageFolder(path=str(tmp_path / "empty")).setup()
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.png").write_bytes(b"nope")
    with pytest.raises(DataError, match="none of the 1 image files .* could be read"):
        ImageFolder(path=str(tmp_path / "bad")).setup()
    with pytest.raises(DataError, match=r"CelebA is not in .*celeba/img_align_celeba: download img_align_celeba.zip"):
        CelebA(root=str(tmp_path)).setup()


def test_bad_data_values_are_refused() -> None:
    with pytest.raises(ConfigError, match="data.channels must be 1 .grey. or 3 .RGB."):
        Digits(channels=2)
    with pytest.raises(ConfigError, match=r"data.val_size \(5000\) must be smaller than the data set \(1797 images\)"):
        Digits(val_size=5000).setup()


def test_celeba_reads_its_folder_with_the_dcgan_crop(tmp_path: Path) -> None:
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(6):  # aligned CelebA images are 178 × 218
        Image.fromarray(rng.integers(0, 256, size=(218, 178, 3), dtype=np.uint8)).save(folder / f"{i:06d}.jpg")
    data = CelebA(root=str(tmp_path), val_size=2, num_workers=0)
    data.set_plan(TrainingPlan(CriticSchedule(n_critic=1), gen_iters=1, eval_every=1))
    data.setup()
    assert data.held_out.shape == (2, 3, 64, 64) and data.train_files is not None and len(data.train_files) == 4
    (batch,) = list(data.train_dataloader())
    assert batch.shape == (64, 3, 64, 64)
