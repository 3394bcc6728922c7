"""Pictures of the critic on 2-D data: its value contours and gradient field under the real and generated
samples (as in the WGAN-GP paper's toy figures), and histograms of its gradient norm."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytorch_lightning as pl  # noqa: E402
import torch  # noqa: E402
from pytorch_lightning.loggers import WandbLogger  # noqa: E402
from pytorch_lightning.utilities import rank_zero_info, rank_zero_only  # noqa: E402
from torch import Tensor, nn  # noqa: E402

from gan_zoo.callbacks.cadence import EveryNthValidation  # noqa: E402
from gan_zoo.contracts import HeldOutData, evaluated_module  # noqa: E402
from gan_zoo.lipschitz.gradients import input_gradients  # noqa: E402
from gan_zoo.lipschitz.measurement import evaluation_mode  # noqa: E402
from gan_zoo.parallel import sharding  # noqa: E402


def critic_gradients(critic: nn.Module, points: Tensor) -> Tensor:
    """∇D at points, usable inside Lightning's validation (which runs in inference mode)."""
    with torch.inference_mode(False), torch.enable_grad():
        return input_gradients(critic, points.clone(), create_graph=False).detach()


def plot_critic(critic: nn.Module, real: Tensor, fake: Tensor, title: str, resolution: int = 120,
                arrows: int = 20) -> plt.Figure:
    """Critic value contours with its gradient field, real and generated samples on top."""
    both = torch.cat([real, fake]).cpu()
    low, high = both.quantile(0.005, dim=0), both.quantile(0.995, dim=0)
    pad = 0.15 * (high - low).clamp_min(1e-3)
    low, high = low - pad, high + pad
    xs = torch.linspace(float(low[0]), float(high[0]), resolution)
    ys = torch.linspace(float(low[1]), float(high[1]), resolution)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    weight = next(critic.parameters())
    device, dtype = weight.device, weight.dtype
    grid = torch.stack([gx.flatten(), gy.flatten()], dim=1).to(device, dtype)
    with torch.no_grad():
        values = critic(grid).score.view(resolution, resolution).cpu()
    ax_, ay_ = torch.meshgrid(torch.linspace(float(low[0]), float(high[0]), arrows),
                              torch.linspace(float(low[1]), float(high[1]), arrows), indexing="xy")
    grad = critic_gradients(critic, torch.stack([ax_.flatten(), ay_.flatten()], dim=1).to(device, dtype)).cpu()
    fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    contour = ax.contourf(gx, gy, values, levels=30, cmap="viridis", alpha=0.85)
    fig.colorbar(contour, ax=ax, fraction=0.046, pad=0.04, label="critic score D(x)")
    ax.quiver(ax_.flatten(), ay_.flatten(), grad[:, 0], grad[:, 1], color="white", alpha=0.7)
    ax.scatter(*real[:500].cpu().T, s=4, c="tab:orange", label="real")
    ax.scatter(*fake[:500].cpu().T, s=4, c="tab:red", marker="x", linewidths=0.6, label="generated")
    ax.set_xlim(float(low[0]), float(high[0]))
    ax.set_ylim(float(low[1]), float(high[1]))
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


def plot_gradient_norms(norms: dict[str, Tensor], title: str) -> plt.Figure:
    """Histograms of ‖∇D‖ at real, generated and penalty points, with the Lipschitz bound 1 marked."""
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    top = max(float(n.max()) for n in norms.values())
    bins = torch.linspace(0, max(top, 1.05) * 1.02, 60).numpy()
    for (label, n), color in zip(norms.items(), ("tab:orange", "tab:red", "tab:blue")):
        ax.hist(n.cpu().numpy(), bins=bins, alpha=0.5, label=f"{label} (mean {float(n.mean()):.3g})", color=color)
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1)
    ax.set_xlabel("‖∇D(x)‖₂")
    ax.set_ylabel("samples")
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


class CriticPlots(EveryNthValidation):
    """At every `every_n_validations`-th validation on 2-D data, saves to `dirpath` and logs to W&B:
    critic_gen_iter_<k>.png (contours, gradient field, samples) and grad_norms_gen_iter_<k>.png."""

    def __init__(self, dirpath: str, every_n_validations: int = 1, num_points: int = 1000, seed: int = 2468) -> None:
        super().__init__(every_n_validations)
        self.dirpath = Path(dirpath)
        self.num_points, self.seed = num_points, seed

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        held_out = trainer.datamodule.held_out if isinstance(trainer.datamodule, HeldOutData) else None
        self.active = held_out is not None and math.prod(held_out.shape[1:]) == 2
        if not self.active:
            rank_zero_info("CriticPlots: the data is not 2-D; critic pictures are off")
            return
        evaluated_module(pl_module, "CriticPlots")

    @rank_zero_only
    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._due(trainer):
            return
        module = evaluated_module(pl_module, "CriticPlots")
        real = trainer.datamodule.held_out[: self.num_points].to(module.device, module.dtype)
        fake = module.sample(len(real), seed=module.val_seed)
        # Plotting never changes training: the penalty points come from a generator of their own (not the global
        # stream) and the critic is looked at in eval mode (gan_zoo.lipschitz.measurement). Rank 0 draws them
        # alone (DRAGAN's std would otherwise wait in an all-reduce for ranks that do not plot).
        generator = torch.Generator(device=module.device).manual_seed(self.seed)
        with evaluation_mode(module.critic):
            with sharding.single_process():
                probe_points = module.lipschitz.probe_points(real, fake, generator)  # a gradient penalty's own points
            norms = {name: critic_gradients(module.critic, x).flatten(1).norm(dim=1)
                     for name, x in (("real", real), ("generated", fake), ("penalty points", probe_points))}
            step = module.gen_iter
            name = f"{type(module.objective).__name__} + {type(module.lipschitz).__name__}, G iter {step}"
            figures = (("critic", plot_critic(module.critic, real, fake, name)),
                       ("grad_norms", plot_gradient_norms(norms, name)))
        self.dirpath.mkdir(parents=True, exist_ok=True)
        paths = {}
        for key, fig in figures:
            paths[key] = self.dirpath / f"{key}_gen_iter_{step:06d}.png"
            fig.savefig(paths[key])
            plt.close(fig)
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                for key, path in paths.items():
                    logger.log_image(key=f"plots/{key}", images=[str(path)], step=step)
