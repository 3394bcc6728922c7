"""Critic iterations per second: gan_zoo (Lightning + a Hydra-built module) against the plain PyTorch loop of
benchmarks/reference_loop.py, side by side in one process, alternating, medians over repetitions.

    python benchmarks/speed.py                      # the four set-ups, CPU
    python benchmarks/speed.py --device cuda --steps 2000
    python benchmarks/speed.py --setups toy_wgan_gp --repeats 7

Both sides build the same nets from the same config (Hydra compose + instantiate, same seed) with the same
optimizers. gan_zoo runs `Trainer.fit` with no loggers, progress bar, checkpoints or metrics; a callback times the
training batches after a warm-up (data fetching and Lightning's loop included). The reference runs its loop on the
same data: the toy mixture's sampler, or index batches gathered from one uint8 tensor on the device (random
CIFAR-10-sized images, as data=cifar10 holds them).
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra import compose, initialize_config_module
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf, open_dict

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_loop  # noqa: E402

from gan_zoo.data.images import to_unit_range  # noqa: E402
from gan_zoo.train import build  # noqa: E402

RANDOM_IMAGES = {"_target_": "data_throughput.RandomImages", "batch_size": 64, "val_size": 100, "seed": 0}
DCGAN32 = ["model=dcgan", "model.generator.norm=batch"]
SETUPS: dict[str, tuple[list[str], reference_loop.Method]] = {
    "toy_wgan_gp": (["data=8gaussians", "model=mlp", "objective=wgan", "lipschitz=gp", "data.batch_size=256"],
                    reference_loop.Method("wgan", "gp")),
    "dcgan32_wgan_gp": ([*DCGAN32, "objective=wgan", "lipschitz=gp"], reference_loop.Method("wgan", "gp")),
    "dcgan32_hinge_sn": ([*DCGAN32, "objective=hinge", "lipschitz=sn"], reference_loop.Method("hinge", "sn")),
    "dcgan32_wgan_clip": ([*DCGAN32, "objective=wgan", "lipschitz=clip", "lipschitz.c=0.01", "optim=rmsprop"],
                          reference_loop.Method("wgan", "clip", clip=0.01)),
}
QUIET = ["logger=none", "callbacks=none", "metrics=none", "n_critic=5", "output_dir=/tmp/gan_zoo_speed", "seed=0"]


class CriticStepClock(pl.Callback):
    """Wall time of the training batches after the first `warmup` (data fetching and the loop included)."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.seen, self.started, self.elapsed = warmup, 0, 0.0, 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:  # noqa: ANN001
        if self.seen == self.warmup:
            _sync(pl_module.device)
            self.started = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # noqa: ANN001
        self.seen += 1

    def on_train_end(self, trainer, pl_module) -> None:  # noqa: ANN001
        _sync(pl_module.device)
        self.elapsed = time.perf_counter() - self.started


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def config(setup: str, steps: int, warmup: int, device: str) -> DictConfig:
    """The composed training config of a set-up, `steps + warmup` critic steps long, no evaluation."""
    gen_iters = (steps + warmup) // 5
    overrides = [*SETUPS[setup][0], *QUIET, f"gen_iters={gen_iters}", f"eval_every={gen_iters}",
                 f"trainer.accelerator={device}", "trainer.devices=1"]
    with initialize_config_module("gan_zoo.conf", version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    if not setup.startswith("toy"):
        with open_dict(cfg):
            cfg.data = OmegaConf.create(RANDOM_IMAGES)
    return cfg


def time_gan_zoo(cfg: DictConfig, warmup: int) -> float:
    pl.seed_everything(cfg.seed, verbose=False)
    module, datamodule, plan = build(cfg)
    clock = CriticStepClock(warmup)
    trainer = instantiate(cfg.trainer, logger=False, callbacks=[clock], max_epochs=plan.num_epochs,
                          enable_checkpointing=False, enable_progress_bar=False, limit_val_batches=0)
    trainer.fit(module, datamodule=datamodule)
    return clock.elapsed


def real_batches(cfg: DictConfig, device: torch.device) -> tuple[Callable[[int], torch.Tensor], tuple[int, ...]]:
    """The reference's real data, drawn the way gan_zoo draws it; and the data shape."""
    datamodule = instantiate(cfg.data)
    rng = torch.Generator().manual_seed(0)
    if hasattr(datamodule, "distribution"):
        return (lambda n: datamodule.distribution.sample(n, rng).to(device)), datamodule.data_shape
    datamodule.setup("fit")
    images = datamodule.images_on(device)
    return (lambda n: to_unit_range(torch.index_select(images, 0, torch.randint(len(images), (n,),
                                                                                 generator=rng).to(device)))), \
        datamodule.data_shape


def time_reference(cfg: DictConfig, method: reference_loop.Method, steps: int, warmup: int, device: str) -> float:
    pl.seed_everything(cfg.seed, verbose=False)
    target = torch.device(device)
    draw, shape = real_batches(cfg, target)
    generator = instantiate(cfg.model.generator, data_shape=shape).to(target)
    critic = reference_loop.prepare_critic(instantiate(cfg.model.critic, data_shape=shape), method).to(target)
    optimizers = instantiate(cfg.optim.generator)(generator.parameters()), instantiate(cfg.optim.critic)(critic.parameters())
    batch = cfg.data.batch_size
    reference_loop.train(generator, critic, draw, method, *optimizers, batch, warmup)
    _sync(target)
    started = time.perf_counter()
    reference_loop.train(generator, critic, draw, method, *optimizers, batch, steps)
    _sync(target)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setups", default=",".join(SETUPS))
    parser.add_argument("--steps", type=int, default=200, help="timed critic steps per run")
    parser.add_argument("--warmup", type=int, default=25)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    if (args.steps + args.warmup) % 5:
        sys.exit("--steps + --warmup must be a multiple of n_critic (5)")
    logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)
    device = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"Command: `python {' '.join(sys.argv)}`  \nMachine: {platform.machine()} {device}; {args.steps} critic "
          f"steps per run after {args.warmup} warm-up steps, {args.repeats} alternating repetitions, medians.\n")
    print("| set-up | gan_zoo critic it/s | reference critic it/s | ratio (gan_zoo / reference) |")
    print("|---|---|---|---|")
    for setup in args.setups.split(","):
        cfg = config(setup, args.steps, args.warmup, args.device)
        ours, theirs = [], []
        for _ in range(args.repeats):
            ours.append(args.steps / time_gan_zoo(cfg, args.warmup))
            theirs.append(args.steps / time_reference(cfg, SETUPS[setup][1], args.steps, args.warmup, args.device))
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"| {setup} | {a:.1f} | {b:.1f} | {a / b:.3f} |", flush=True)


if __name__ == "__main__":
    main()
