"""The speed benchmark compares like with like: benchmarks/reference_loop.py and gan_zoo do the same arithmetic."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
import pytorch_lightning as pl
import torch
from hydra.utils import instantiate
from omegaconf import open_dict

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import reference_loop  # noqa: E402
import setups  # noqa: E402
import speed  # noqa: E402

from gan_zoo.runtime.build import build  # noqa: E402

CRITIC_STEPS = 10  # two generator iterations


class _RNGAtFirstBatch(pl.Callback):
    """The global RNG state when training starts (after Lightning's own draws, e.g. the loader's base seed)."""

    state: torch.Tensor | None = None

    def on_train_batch_start(self, *args: object) -> None:
        if self.state is None:
            self.state = torch.get_rng_state()


@pytest.mark.parametrize("setup", list(setups.SETUPS))
def test_reference_loop_trains_exactly_like_gan_zoo(setup: str) -> None:
    logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)
    cfg = setups.config(setup, CRITIC_STEPS, 0, "cpu")
    with open_dict(cfg):  # float64 so that no rounding can hide a difference; small nets so that it is quick
        cfg.trainer.precision = "64-true"
        cfg.model.generator.width = cfg.model.critic.width = 32 if setup.startswith("toy") else 8

    pl.seed_everything(cfg.seed, verbose=False)
    module, datamodule, plan = build(cfg)
    rng = _RNGAtFirstBatch()
    trainer = instantiate(cfg.trainer, max_epochs=plan.num_epochs, enable_checkpointing=False, limit_val_batches=0,
                          logger=False, callbacks=[rng], enable_progress_bar=False)
    trainer.fit(module, datamodule=datamodule)
    assert module.critic_steps == CRITIC_STEPS

    method = setups.SETUPS[setup][1]
    pl.seed_everything(cfg.seed, verbose=False)
    draw, shape = speed.real_batches(cfg, torch.device("cpu"))
    generator = instantiate(cfg.model.generator)(data_shape=shape).double()
    critic = reference_loop.prepare_critic(instantiate(cfg.model.critic)(data_shape=shape), method).double()
    optimizers = (instantiate(cfg.optim.generator)(generator.parameters()),
                  instantiate(cfg.optim.critic)(critic.parameters()))

    def draw_as_gan_zoo(n: int) -> torch.Tensor:  # gan_zoo's loader draws in float32, outside the float64 context
        torch.set_default_dtype(torch.float32)
        try:
            return draw(n).double()
        finally:
            torch.set_default_dtype(torch.float64)

    torch.set_rng_state(rng.state)
    torch.set_default_dtype(torch.float64)
    try:
        reference_loop.train(generator, critic, draw_as_gan_zoo, method, *optimizers, cfg.data.batch_size,
                             CRITIC_STEPS)
    finally:
        torch.set_default_dtype(torch.float32)

    for ours, theirs in ((module.generator, generator), (module.critic, critic)):
        a, b = ours.state_dict(), theirs.state_dict()
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]), (setup, key, float((a[key] - b[key]).abs().max()))
