"""Data-parallel training: the DDP strategy for a GAN, and the trainer's strategy factory.

Lightning's DDP wraps the whole LightningModule in one DistributedDataParallel. A GAN step then fails with
"parameters that were not used" (the critic update never touches G, the generator update never updates D;
docs/methods.md#implementation-pitfalls, item 7) unless `find_unused_parameters=True`, which walks the autograd
graph after every backward and all-reduces the untouched net's zero gradients as well. SeparateDDPStrategy wraps G
and D in their own DDP (as StudioGAN and StyleGAN2-ADA do): each update's backward reduces exactly the gradients it
produced, with no graph walk. Measured (benchmarks/ddp_equivalence.py --timing, CPU, 2 gloo processes, s per
generator iteration, separate vs whole): toy WGAN-GP 0.041 vs 0.054, toy hinge+SN 0.044 vs 0.051, DCGAN WGAN-GP
0.120 vs 0.125 (docs/scaling.md); both give the same weights.
`trainer.strategy.wrapping=whole` keeps Lightning's whole-module DDP with find_unused_parameters=True.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytorch_lightning as pl
import torch

from gan_zoo.compat import ChildScriptLauncher, LauncherChoosingDDPStrategy
from gan_zoo.contracts import DataParallelModule
from gan_zoo.errors import require

WRAPPINGS = ("separate", "whole")
LAUNCH_VARIABLES = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")


class HydraJobLauncher(ChildScriptLauncher):
    """Starts ranks 1…N−1 on this node as `python -m gan_zoo.train <this job's overrides>`.

    Lightning's own launcher re-runs the parent's command line, which under `-m` is the whole sweep
    (lightning-hydra-template issue #393); here each child runs just the job that started it, in
    its output folder, without writing a second .hydra/ record.
    """

    def spawn_children(self) -> None:
        from hydra.core.hydra_config import HydraConfig

        self.procs = []
        self.environment_before = {name: os.environ.get(name) for name in LAUNCH_VARIABLES}
        os.environ["MASTER_ADDR"] = self.cluster_environment.main_address
        os.environ["MASTER_PORT"] = str(self.cluster_environment.main_port)
        os.environ["NODE_RANK"] = str(self.cluster_environment.node_rank())
        os.environ["LOCAL_RANK"] = str(self.cluster_environment.local_rank())
        os.environ["WORLD_SIZE"] = f"{self.num_processes * self.num_nodes}"
        hydra = HydraConfig.get()
        command = [sys.executable, "-m", "gan_zoo.train", *hydra.overrides.task,
                   f'hydra.run.dir="{hydra.runtime.output_dir}"', "hydra.output_subdir=null"]
        for local_rank in range(1, self.num_processes):
            env = {**os.environ, "LOCAL_RANK": str(local_rank)}
            self.procs.append(subprocess.Popen([*command, f"hydra.job.name=rank{local_rank}"], env=env))

    def restore_environment(self) -> None:
        """Undo the variables set for the children: with LOCAL_RANK left set, Lightning would take the next job of a
        sweep in this process for an externally launched rank and wait for peers that never come."""
        for name, value in getattr(self, "environment_before", {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _HydraDDPStrategy(LauncherChoosingDDPStrategy):
    """DDP whose ranks 1…N−1, when started on this node under Hydra, run just this job (HydraJobLauncher)."""

    def subprocess_launcher(self) -> HydraJobLauncher | None:
        if not _hydra_running():
            return None
        return HydraJobLauncher(self.cluster_environment, self.num_processes, self.num_nodes)

    def teardown(self) -> None:
        super().teardown()
        # A Hydra sweep runs its jobs one after another in this process: leave it as the job found it.
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
        if isinstance(self.launcher, HydraJobLauncher):
            self.launcher.restore_environment()


class SeparateDDPStrategy(_HydraDDPStrategy):
    """DDP with the generator and the critic in their own DistributedDataParallel wrappers.

    The LightningModule itself stays unwrapped; GANModule.use_data_parallel routes each update's forward
    passes through the wrapper of the net being updated. Gradient penalties take input gradients with
    autograd.grad(create_graph=True) and then run one ordinary backward: the pattern DDP supports (pytorch #63812).
    """

    def configure_ddp(self) -> None:
        module = self.model
        require(isinstance(module, DataParallelModule),
                f"trainer.strategy.wrapping=separate needs a GANModule (got {type(module).__name__})")
        module.use_data_parallel(self.wrap_in_ddp)

    def teardown(self) -> None:
        if isinstance(self.lightning_module, DataParallelModule):
            self.lightning_module.use_data_parallel(None)
        super().teardown()


class WholeModuleDDPStrategy(_HydraDDPStrategy):
    """Lightning's DDP around the whole LightningModule with find_unused_parameters=True (for comparison)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(find_unused_parameters=True, **kwargs)


def _hydra_running() -> bool:
    try:
        from hydra.core.hydra_config import HydraConfig
    except ImportError:  # pragma: no cover - Hydra is a dependency
        return False
    return HydraConfig.initialized()


def _single_device(devices: Any) -> bool:
    if isinstance(devices, int) or (isinstance(devices, str) and devices.strip().isdigit()):
        return int(devices) == 1
    if isinstance(devices, (list, tuple)) or hasattr(devices, "__len__") and not isinstance(devices, str):
        return len(devices) == 1
    return False  # "auto", -1 or "0,1": let Lightning count


def gan_strategy(devices: Any = 1, num_nodes: int = 1, wrapping: str = "separate",
                 **ddp_kwargs: Any) -> pl.strategies.Strategy | str:
    """The trainer's strategy: Lightning's default for one device, else DDP wrapped as `wrapping` says."""
    require(wrapping in WRAPPINGS, f"trainer.strategy.wrapping must be one of {', '.join(WRAPPINGS)} (got {wrapping!r})")
    if num_nodes == 1 and _single_device(devices):
        return "auto"
    strategy = SeparateDDPStrategy if wrapping == "separate" else WholeModuleDDPStrategy
    return strategy(**ddp_kwargs)
