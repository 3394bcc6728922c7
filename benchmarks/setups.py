"""The set-ups that the speed and memory benchmarks train, as composed gan_zoo configs (Hydra only: importing this
does not import Lightning, so that the plain reference loop can be measured without it)."""

from __future__ import annotations

from hydra import compose, initialize_config_module
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict

import reference_loop

# random CIFAR-10-sized images held in memory (benchmarks/data_throughput.py), as data=cifar10 holds them
IMAGES = 10_000
RANDOM_IMAGES = {"_target_": "data_throughput.RandomImages", "count": IMAGES, "batch_size": 64, "val_size": 100,
                 "seed": 0}
DCGAN32 = ["model=dcgan", "model.generator.norm=batch"]
# The values these set-ups were measured with, not the default job's tuned ones (conf/tuned/,
# which a composition on the default data picks up): Adam 1e-4, λ = 10, constant rates.
UNTUNED_GP = ["optim.generator.lr=1e-4", "optim.critic.lr=1e-4", "lipschitz.lambda_=10", "lr_scheduler.end_factor=1.0"]
SETUPS: dict[str, tuple[list[str], reference_loop.Method]] = {
    "toy_wgan_gp": (["data=8gaussians", "model=mlp", "objective=wgan", "lipschitz=gp", "data.batch_size=256", *UNTUNED_GP],
                    reference_loop.Method("wgan", "gp")),
    "dcgan32_wgan_gp": ([*DCGAN32, "objective=wgan", "lipschitz=gp", *UNTUNED_GP], reference_loop.Method("wgan", "gp")),
    "dcgan32_hinge_sn": ([*DCGAN32, "objective=hinge", "lipschitz=sn"], reference_loop.Method("hinge", "sn")),
    "dcgan32_wgan_clip": ([*DCGAN32, "objective=wgan", "lipschitz=clip", "lipschitz.c=0.01", "optim=rmsprop"],
                          reference_loop.Method("wgan", "clip", clip=0.01)),
}
QUIET = ["logger=none", "~callbacks", "metrics=none", "n_critic=5", "output_dir=/tmp/gan_zoo_speed", "seed=0"]


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
