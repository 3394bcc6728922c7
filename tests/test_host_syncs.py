"""A training step never waits for the device: no tensor is read on the host between logging steps.

On a GPU every `.item()` / `bool(tensor)` stalls the CPU until the queued kernels have run. The reads are the
same calls on a CPU, so gan_zoo.testing.host_syncs.HostSyncCounter can find them here.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import pytorch_lightning as pl
from hydra import compose, initialize_config_module
from hydra.core.hydra_config import HydraConfig
from hydra.utils import instantiate

from gan_zoo.testing.host_syncs import HostSyncCounter
from gan_zoo.training.module import GANModule
from gan_zoo.runtime.build import build

LOG_EVERY = 10
BASE = ["gen_iters=12", "eval_every=6", "n_critic=5", "data.batch_size=32", "data.val_size=64", "metrics=none",
        "model.generator.width=16", "model.critic.width=16", "logger=csv", f"trainer.log_every_n_steps={LOG_EVERY}",
        "trainer.accelerator=cpu"]
CASES = {
    "toy WGAN-GP with EMA": ["objective=wgan", "lipschitz=gp", "ema_decay=0.9"],
    "digits DCGAN hinge + SN": ["data=digits", "model=dcgan", "objective=hinge", "lipschitz=sn"],
    "digits DCGAN WGAN + clipping, linear lr decay": ["data=digits", "model=dcgan", "lipschitz=clip",
                                                      "lr_scheduler=linear"],
    "toy EBGAN with pre-training": ["objective=ebgan", "model=mlp_autoencoder", "lipschitz=none",
                                    "objective.pretrain_steps=7"],
    "toy NS-GAN + DRAGAN": ["objective=nsgan", "lipschitz=dragan"],
    "toy WGAN + CT-GAN (dropout)": ["objective=wgan", "lipschitz=ct"],
    "toy NS-GAN + R1, WGAN warm-up schedule": ["objective=nsgan", "lipschitz=r1", "wgan_warmup=true"],
    "toy LSGAN + one-sided penalty in float64": ["objective=lsgan", "lipschitz=lp", "trainer.precision=64-true"],
}


def train_counting_reads(tmp_path: Path, overrides: list[str]) -> tuple[HostSyncCounter, GANModule, set[int]]:
    """Train in this process with the shipped callbacks (progress bar, checkpoints, pictures) and a CSV logger;
    return the counter, the module and the batches that end an epoch."""
    logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)
    with initialize_config_module("gan_zoo.conf", version_base="1.3"):
        cfg = compose("train", overrides=[*BASE, *overrides, f"output_dir={tmp_path}"], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    pl.seed_everything(cfg.seed, verbose=False)
    module, datamodule, plan = build(cfg)
    counter = HostSyncCounter()
    trainer = instantiate(cfg.trainer, max_epochs=plan.num_epochs, logger=[instantiate(cfg.logger.csv)],
                          callbacks=[*(instantiate(c) for c in cfg.callbacks.values()), counter])
    trainer.fit(module, datamodule=datamodule)
    return counter, module, {boundary - 1 for boundary in plan.batch_boundaries()}


@pytest.mark.parametrize("overrides", list(CASES.values()), ids=list(CASES))
def test_no_host_reads_between_logging_steps(tmp_path: Path, overrides: list[str]) -> None:
    counter, module, epoch_ends = train_counting_reads(tmp_path, overrides)
    assert module.gen_iter == 12 and module.critic_steps >= 60
    guard_reads = 0
    for batch, reads in counter.by_batch.items():
        if batch is None or batch in epoch_ends or (batch + 1) % LOG_EVERY == 0:
            continue  # logging steps read what they log; epochs end with validation and a checkpoint
        guard_reads += sum("nan_guard.py" in read for read in reads)
        assert all("nan_guard.py" in read for read in reads), (batch, reads)
    # the NaN guard reads once per 50 recorded steps (a batch with a generator update records two)
    assert guard_reads <= (module.critic_steps + module.gen_iter) // 50 + 1
    # the counter does see reads: every logging step reads what it logs
    logging_steps = [b for b in range(module.critic_steps) if (b + 1) % LOG_EVERY == 0]
    assert logging_steps and all(counter.by_batch.get(b) for b in logging_steps)


def test_checking_every_step_is_one_read_per_step(tmp_path: Path) -> None:
    """The counter's own check: with check_finite_every=1 the guard reads in every batch."""
    counter, module, _ = train_counting_reads(tmp_path, ["check_finite_every=1"])
    batches = [b for b in range(module.critic_steps) if (b + 1) % LOG_EVERY]
    assert all(any("nan_guard.py" in read for read in counter.by_batch[b]) for b in batches)


def test_the_counter_sees_value_dependent_reads_and_the_ema_but_not_adams_host_counter() -> None:
    """Reads whose result depends on tensor values are counted (so a regression cannot hide in them); Adam's
    step counter (a host tensor) is not; torch's own AveragedModel, which reads its device counter, is."""
    import torch
    from torch.optim.swa_utils import AveragedModel

    from gan_zoo.testing.host_syncs import _HostReads

    counter = HostSyncCounter()
    counter.batch = 0
    seen = counter.by_batch[0]
    x = torch.randn(8)
    net = torch.nn.Linear(2, 1)
    adam = torch.optim.Adam(net.parameters())
    with _HostReads(counter._record):
        _ = x[x > 0], torch.where(x > 0), torch.equal(x, x)
        _ = x[:, None][x > 0, 0], torch.where(x > 0, x, 0.0), x[1:3]  # a mask inside a tuple; two non-reads
        assert [read.split(" @ ")[0] for read in seen] == ["__getitem__", "where", "equal", "__getitem__"]
        net(torch.randn(4, 2)).sum().backward()
        adam.step()
        assert len(seen) == 4
        AveragedModel(net).update_parameters(net)
    assert [read.split(" @ ")[0] for read in seen[4:]] == ["__bool__", "__bool__"]  # its two `if n_averaged == 0`
