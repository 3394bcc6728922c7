"""Critic iterations per second: gan_zoo (Lightning + a Hydra-built module) against the plain PyTorch loop of
benchmarks/reference_loop.py, side by side in one process, alternating, medians over repetitions.

    python benchmarks/speed.py                      # the four set-ups, CPU
    python benchmarks/speed.py --device cuda --steps 2000
    python benchmarks/speed.py --setups toy_wgan_gp --repeats 7

Both sides build the same nets from the same config (Hydra compose + instantiate, same seed) with the same
optimizers, and do the same arithmetic (tests/test_reference_loop.py trains both and compares the weights).
gan_zoo runs `Trainer.fit` twice per repetition: bare (no logger, no progress bar, no logging steps), and as
shipped (the progress bar and a CSV logger at the default cadence of 50 critic steps); no checkpoints or metrics in
either. A callback times the training batches after a warm-up (data fetching and Lightning's loop included). The
reference runs its loop on the same data: the toy mixture's sampler, or index batches gathered from one uint8
tensor on the device (random CIFAR-10-sized images, as data=cifar10 holds them).
"""

from __future__ import annotations

import argparse
import logging
import platform
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import DictConfig
from pytorch_lightning.loggers import CSVLogger

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_loop  # noqa: E402
from setups import SETUPS, config  # noqa: E402

from gan_zoo.callbacks import GenIterProgressBar  # noqa: E402
from gan_zoo.data.images import to_unit_range  # noqa: E402
from gan_zoo.runtime.build import build  # noqa: E402

class CriticStepClock(pl.Callback):
    """Wall time of the training batches after the first `warmup` (data fetching and the loop included)."""

    def __init__(self, warmup: int, on_first_batch: Callable[[], None] | None = None) -> None:
        self.warmup, self.seen, self.started, self.elapsed = warmup, 0, 0.0, 0.0
        self.on_first_batch = on_first_batch

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:  # noqa: ANN001
        if self.seen == 0 and self.on_first_batch is not None:
            self.on_first_batch()
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


def time_gan_zoo(cfg: DictConfig, warmup: int, shipped: bool = False,
                 on_first_batch: Callable[[], None] | None = None) -> float:
    """Seconds for the timed critic steps of `Trainer.fit`: bare (no logging at all: no logger, no progress bar, no
    logging steps), or as shipped (the progress bar and a CSV logger at the default cadence of 50 critic steps, on
    which gan_zoo also measures ‖∇D‖ for strategies without penalty points; W&B logs the same numbers)."""
    pl.seed_everything(cfg.seed, verbose=False)
    module, datamodule, plan = build(cfg)
    clock = CriticStepClock(warmup, on_first_batch)
    with tempfile.TemporaryDirectory() as logs:
        bar = GenIterProgressBar(console_kwargs={"stderr": True})  # stdout is the table
        extras = {"logger": CSVLogger(logs), "callbacks": [clock, bar]} if shipped else \
            {"logger": False, "callbacks": [clock], "enable_progress_bar": False, "log_every_n_steps": 10**9}
        trainer = instantiate(cfg.trainer, max_epochs=plan.num_epochs, enable_checkpointing=False,
                              limit_val_batches=0, **extras)
        trainer.fit(module, datamodule=datamodule)
    return clock.elapsed


def real_batches(cfg: DictConfig, device: torch.device) -> tuple[Callable[[int], torch.Tensor], tuple[int, ...]]:
    """The reference's real data, drawn the way gan_zoo draws it; and the data shape."""
    datamodule = instantiate(cfg.data)
    rng = torch.Generator().manual_seed(0)
    if hasattr(datamodule, "distribution"):  # drawn on the CPU, copied as Lightning copies gan_zoo's batches
        return (lambda n: datamodule.distribution.sample(n, rng).to(device, non_blocking=True)), datamodule.data_shape
    datamodule.setup("fit")
    images = datamodule.images_on(device)

    def draw(n: int) -> torch.Tensor:
        index = torch.randint(len(images), (n,), generator=rng).to(device, non_blocking=True)
        return to_unit_range(torch.index_select(images, 0, index))

    return draw, datamodule.data_shape


def time_reference(cfg: DictConfig, method: reference_loop.Method, steps: int, warmup: int, device: str) -> float:
    pl.seed_everything(cfg.seed, verbose=False)
    target = torch.device(device)
    draw, shape = real_batches(cfg, target)
    generator = instantiate(cfg.model.generator)(data_shape=shape).to(target)
    critic = reference_loop.prepare_critic(instantiate(cfg.model.critic)(data_shape=shape), method).to(target)
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
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    if (args.steps + args.warmup) % 5:
        sys.exit("--steps + --warmup must be a multiple of n_critic (5)")
    logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", message=".*srun.*")
    device = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"Command: `python benchmarks/speed.py {' '.join(sys.argv[1:])}`  \nMachine: {platform.machine()} {device}; "
          f"{args.steps} critic steps per run after {args.warmup} warm-up steps; {args.repeats} repetitions, the three "
          f"runs of each alternating; medians, and in brackets the lowest and highest ratio of a repetition's runs.\n")
    print("| set-up | reference it/s | gan_zoo it/s | ratio | gan_zoo + progress bar + CSV log it/s | ratio |")
    print("|---|---|---|---|---|---|")
    for setup in args.setups.split(","):
        cfg = config(setup, args.steps, args.warmup, args.device)
        runs = {"reference": lambda: time_reference(cfg, SETUPS[setup][1], args.steps, args.warmup, args.device),
                "bare": lambda: time_gan_zoo(cfg, args.warmup),
                "shipped": lambda: time_gan_zoo(cfg, args.warmup, shipped=True)}
        rates: dict[str, list[float]] = {kind: [] for kind in runs}
        for repetition in range(args.repeats):
            order = list(runs)[repetition % 3:] + list(runs)[:repetition % 3]  # each kind goes first in turn
            for kind in order:
                rates[kind].append(args.steps / runs[kind]())
        ref = statistics.median(rates["reference"])
        cells = [f"{ref:.2f}"]
        for kind in ("bare", "shipped"):
            paired = [ours / theirs for ours, theirs in zip(rates[kind], rates["reference"])]
            rate = statistics.median(rates[kind])
            cells += [f"{rate:.2f}", f"{rate / ref:.3f} ({min(paired):.2f}–{max(paired):.2f})"]
        print(f"| {setup} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
