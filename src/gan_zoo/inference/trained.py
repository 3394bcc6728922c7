"""A trained GAN loaded from a checkpoint alone, for notebooks and the `gan_zoo.sample` command."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf
from torch import Tensor, nn

from gan_zoo.training.module import GANModule


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """"auto": the GPU when there is one, else the CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@dataclass
class TrainedGAN:
    """The generator and critic of a gan_zoo checkpoint, in eval mode.

    `generator` is the EMA copy when the run kept one (ema_decay > 0) and `ema` is true, else the trained
    generator; `uses_ema` says which. Noise is drawn on the CPU from a generator seeded by `seed`, so a seed gives
    the same samples on every device (the same noise as the training run's pictures with that seed).
    """

    module: GANModule
    path: Path
    uses_ema: bool

    @property
    def generator(self) -> nn.Module:
        return self.module.eval_generator if self.uses_ema else self.module.generator

    @property
    def critic(self) -> nn.Module:
        return self.module.critic

    @property
    def config(self) -> DictConfig:
        """The run's resolved config, as stored in the checkpoint."""
        return OmegaConf.create(self.module.run_config)

    @property
    def data_shape(self) -> tuple[int, ...]:
        return tuple(self.module.data_shape)

    @property
    def is_image(self) -> bool:
        return len(self.data_shape) == 3

    @property
    def z_dim(self) -> int:
        return int(self.module.generator.z_dim)

    @property
    def device(self) -> torch.device:
        return self.module.device

    @property
    def gen_iter(self) -> int:
        return self.module.gen_iter

    def to(self, device: str | torch.device) -> TrainedGAN:
        self.module.to(pick_device(device))
        return self

    def noise(self, n: int, seed: int = 0) -> Tensor:
        """n noise vectors z ~ N(0, I) fixed by seed (CPU)."""
        return self.module.fixed_noise(n, seed)

    @torch.no_grad()
    def generate(self, z: Tensor) -> Tensor:
        """G(z) in eval mode, on this object's device: images in [−1, 1] (N, C, H, W) or points (N, d)."""
        return self.module.generate(z, self.generator)

    def sample(self, n: int, seed: int = 0, batch_size: int = 500,
               on_batch: Callable[[int], Any] | None = None) -> Tensor:
        """n samples fixed by seed, generated in batches of batch_size (returned on the CPU). The noise is drawn
        for all n at once, so the samples do not depend on batch_size. on_batch(k) is called after each batch
        with the number of samples it made (a progress bar)."""
        z = self.noise(n, seed)
        out = []
        for start in range(0, n, batch_size):
            batch = self.generate(z[start:start + batch_size]).cpu()
            out.append(batch)
            if on_batch is not None:
                on_batch(len(batch))
        return torch.cat(out) if out else torch.empty(0, *self.data_shape)


def load(ckpt_path: str | Path, ema: bool = True, device: str | torch.device = "auto") -> TrainedGAN:
    """The trained GAN a gan_zoo checkpoint holds, rebuilt from the checkpoint alone (GANModule.load_from_checkpoint),
    in eval mode on `device` ("auto": the GPU when there is one). `ema=False` uses the trained generator even when
    the run kept an EMA copy."""
    module = GANModule.load_from_checkpoint(ckpt_path, map_location="cpu", check_finite_every=0)
    module.to(pick_device(device))
    return TrainedGAN(module, Path(ckpt_path), uses_ema=bool(ema) and module.generator_ema is not None)
