"""Training-batch throughput: gan_zoo's in-memory tensor path against the plain DataLoader path.

- in-memory (gan_zoo): the stream yields index batches; images are gathered from one uint8 tensor on the
  device and scaled to [−1, 1] in one op per batch.
- plain DataLoader (what a torchvision training script does): a Dataset returning one PIL image per item,
  `ToTensor()` + `Normalize(0.5, 0.5)` per item, `DataLoader(shuffle=True)` collating the batch.
- streamed folder (gan_zoo, `in_memory: false`): PNG files decoded per item by DataLoader workers.

Run: `python benchmarks/data_throughput.py [--device cuda] [--batches 300]`; prints one markdown table.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

from gan_zoo.data import Digits, ImageFolder
from gan_zoo.data.images import ImageDataModule
from gan_zoo.training.schedule import CriticSchedule, TrainingPlan


class Tensors(ImageDataModule):
    """An in-memory data module over a given uint8 tensor (here: random CIFAR-10-sized data)."""

    def __init__(self, images: torch.Tensor, **kwargs) -> None:
        super().__init__(image_size=images.shape[-1], channels=images.shape[1], **kwargs)
        self.images = images

    def load_images(self) -> torch.Tensor:
        return self.images


class RandomImages(Tensors):
    """Random uint8 images held in memory, like data=cifar10 (what the speed benchmarks train on: no download)."""

    def __init__(self, count: int = 10_000, image_size: int = 32, channels: int = 3, **kwargs) -> None:
        rng = torch.Generator().manual_seed(0)
        super().__init__(torch.randint(0, 256, (count, channels, image_size, image_size), dtype=torch.uint8,
                                       generator=rng), **kwargs)


class PILItems(Dataset):
    """The plain path: one PIL image per item, ToTensor + Normalize per item."""

    def __init__(self, images: torch.Tensor) -> None:
        self.arrays = [x.permute(1, 2, 0).squeeze(-1).numpy() for x in images]
        channels = images.shape[1]
        self.transform = transforms.Compose([transforms.ToTensor(),
                                             transforms.Normalize([0.5] * channels, [0.5] * channels)])

    def __len__(self) -> int:
        return len(self.arrays)

    def __getitem__(self, index: int) -> torch.Tensor:
        return self.transform(Image.fromarray(self.arrays[index]))


WARMUP = 30  # batches before the clock starts: worker start-up and first-touch page faults are not throughput


def images_per_second(batches, count: int, device: torch.device, prepare=lambda b: b) -> float:
    seen = 0
    for i, batch in enumerate(batches):
        if i == WARMUP:
            seen, started = 0, time.perf_counter()
        if i == WARMUP + count:
            break
        batch = prepare(batch.to(device, non_blocking=True))
        seen += batch.shape[0]
    if device.type == "cuda":
        torch.cuda.synchronize()
    return seen / (time.perf_counter() - started)


def endless(loader: DataLoader):
    while True:
        yield from loader


def measure(module: ImageDataModule, count: int, device: torch.device, workers: int) -> dict[str, float]:
    module.set_plan(TrainingPlan(CriticSchedule(n_critic=1), gen_iters=count + WARMUP, eval_every=count + WARMUP))
    module.setup()
    results = {}
    if module.in_memory:
        results["in-memory (gan_zoo)"] = images_per_second(
            module.train_dataloader(), count, device, lambda b: module.on_after_batch_transfer(b, 0))
        plain = DataLoader(PILItems(module.train_images), batch_size=module.batch_size, shuffle=True,
                           num_workers=workers, persistent_workers=workers > 0)
        results[f"plain DataLoader, {workers} workers"] = images_per_second(endless(plain), count, device)
    else:
        results[f"streamed files (gan_zoo), {workers} workers"] = images_per_second(
            module.train_dataloader(), count, device)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    device = torch.device(args.device)
    cifar_sized = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (50000, 3, 32, 32), dtype=np.uint8))
    with tempfile.TemporaryDirectory() as folder:
        for i, image in enumerate(cifar_sized[:2000]):
            Image.fromarray(image.permute(1, 2, 0).numpy()).save(Path(folder) / f"{i:05d}.png")
        cases = {
            "digits 28 px, 1 channel (1,500 images)": lambda: Digits(val_size=297),
            "CIFAR-10-sized 32 px, 3 channels (50,000 random images)": lambda: Tensors(cifar_sized, val_size=1000),
            "folder of 2,000 PNGs, 32 px, 3 channels": lambda: ImageFolder(
                path=folder, image_size=32, val_size=100, in_memory=False, num_workers=args.workers),
        }
        rows = []
        for name, make in cases.items():
            workers = 0 if "digits" in name else args.workers
            samples: dict[str, list[float]] = {}
            for _ in range(args.repeats):  # alternate the paths; report medians
                for path, value in measure(make(), args.batches, device, workers).items():
                    samples.setdefault(path, []).append(value)
            medians = {path: statistics.median(values) for path, values in samples.items()}
            base = next((v for k, v in medians.items() if k.startswith("plain")), None)
            for path, value in medians.items():
                speedup = f"{value / base:.1f}×" if base else "–"
                rows.append(f"| {name} | {path} | {value:,.0f} | {speedup} |")
    where = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"Command: `python benchmarks/data_throughput.py --device {args.device} --batches {args.batches}`  \n"
          f"Machine: {platform.machine()} {where}; batch 64; median of {args.repeats} repetitions.\n")
    print("| data | path | images / s | vs plain DataLoader |\n|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
