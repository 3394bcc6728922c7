"""GANModule: one LightningModule for every objective × Lipschitz strategy."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import Tensor, nn
from torch.optim import Optimizer
from pytorch_lightning.core.optimizer import LightningOptimizer
from torch.optim.lr_scheduler import LRScheduler

from gan_zoo import compat
from gan_zoo.parallel import sharding
from gan_zoo.training.checkpoint_state import (CONFIG_KEY, DATA_SHAPE_KEY, LATEST_GENERATOR_KEY, METRICS_KEY,
                                              PROGRESS_KEY, RNG_KEY, read_checkpoint, rng_states, set_rng_states)
from gan_zoo.training.direct_steps import lightning_adds_nothing
from gan_zoo.training.ema import GeneratorEMA
from gan_zoo.errors import ConfigError, NonFiniteLossError
from gan_zoo.lipschitz.base import LipschitzStrategy
from gan_zoo.lipschitz.gradients import loss_scaling
from gan_zoo.lipschitz.measurement import measured_gradient_norms, measurement_generator
from gan_zoo.training.nan_guard import NonFiniteGuard
from gan_zoo.nets.base import Critic, Generator, Scored
from gan_zoo.objectives.base import Objective
from gan_zoo.objectives.feature_matching import GeneratorLoss, ObjectiveGeneratorLoss
from gan_zoo.regularizers.base import NoRegularizer, Regularizer
from gan_zoo.training.schedule import CriticSchedule

NetFactory = Callable[..., nn.Module]
OptimizerFactory = Callable[[Iterable[nn.Parameter]], Optimizer]
SchedulerFactory = Callable[[Optimizer], LRScheduler]

NAN_HINTS = ("lower the learning rates, lower the penalty weight (lipschitz.lambda_), "
             "or add a Lipschitz strategy if the objective is wgan")


class GANModule(pl.LightningModule):
    """Adversarial training with manual optimization (WGAN Algorithm 1).

    Each training batch is one critic update on a fresh real batch and fresh noise; after the
    schedule's number of critic updates, one generator update. The objective supplies both losses (the generator's
    through `generator_loss`: the objective's own by default, or e.g. feature matching, which declares that it
    needs the real batch's critic output), the Lipschitz strategy its hooks and the regulariser extra terms of
    either player's cost (historical averaging); the module treats every combination the same way.
    Progress is counted in generator iterations (`gen_iter`), which is also the logging x-axis.

    A step never waits for the device (no `.item()`, no tensor in an `if`): metrics are logged only on logging
    steps (every `trainer.log_every_n_steps` critic steps; the generator's are those of its latest update), the
    progress bar shows floats read there (`progress_bar_values`) instead of Lightning's prog_bar metrics (which
    Lightning converts with `.item()` after every batch), and the NaN guard checks its terms in batches
    (gan_zoo.training.nan_guard).
    """

    def __init__(self, generator: Generator | NetFactory, critic: Critic | NetFactory, objective: Objective,
                 lipschitz: LipschitzStrategy, generator_optimizer: OptimizerFactory, critic_optimizer: OptimizerFactory,
                 schedule: CriticSchedule, data_shape: Sequence[int] | None = None, val_seed: int = 1234,
                 check_finite_every: int = 50, ema_decay: float = 0.0, lr_scheduler: SchedulerFactory | None = None,
                 seed: int | None = None, generator_loss: GeneratorLoss | None = None,
                 regularizer: Regularizer | None = None) -> None:
        """`generator` and `critic` are nets, or factories (the configs' `_partial_` nets) called with
        `data_shape`; the optimizers and the scheduler are factories of parameters and of an optimizer.
        `generator_loss` None: the objective's own; `regularizer` None: no extra terms."""
        super().__init__()
        generator, critic = (net if isinstance(net, nn.Module) else net(data_shape=tuple(data_shape))
                             for net in (generator, critic))
        self.data_shape = tuple(data_shape) if data_shape is not None else tuple(generator.data_shape)
        # The run's config (gan_zoo.runtime.build.describe_run), stored in every checkpoint so that
        # load_from_checkpoint needs no other file. Empty for a module built by hand.
        self.run_config: dict[str, Any] = {}
        objective.check_critic(critic)
        self.generator = generator
        # Exponential moving average of G's weights and buffers, updated after every generator step; evaluation
        # and pictures use it. Off when ema_decay is 0.
        self.generator_ema = GeneratorEMA(generator, ema_decay) if ema_decay else None
        self.critic = lipschitz.prepare_critic(critic)
        self.objective = objective
        self.generator_loss = generator_loss if generator_loss is not None else ObjectiveGeneratorLoss()
        self.lipschitz = lipschitz
        # A submodule: its running state (e.g. historical averages) is in the state dict, hence in checkpoints.
        self.regularizer = regularizer if regularizer is not None else NoRegularizer()
        self.regularizer.bind(self.generator, self.critic)
        self.generator_optimizer = generator_optimizer
        self.critic_optimizer = critic_optimizer
        self.lr_scheduler = lr_scheduler  # stepped once per generator iteration, for both optimizers
        self.schedule = schedule
        self.val_seed = val_seed
        self.nan_guard = NonFiniteGuard(check_finite_every, NAN_HINTS)
        self.seed = seed
        self.automatic_optimization = False
        # The nets that take part in an update: the plain ones, or their DDP wrappers (gan_zoo.parallel.distributed).
        # A dict, so that the wrappers are not registered as submodules (state-dict keys stay the same).
        self._data_parallel: dict[str, nn.Module] = {}
        # Progress, stored in checkpoints.
        self.gen_iter = 0
        self.critic_steps = 0  # all critic updates, pre-training included
        self.phase = 0  # critic updates since the last generator update
        # Shown by the progress bar (gan_zoo.callbacks.GenIterProgressBar): floats, read on logging steps.
        self.progress_bar_values: dict[str, float] = {}
        self._progress_tensors: dict[str, Tensor] = {}  # this logging step's critic numbers for the progress bar
        self._latest_generator: dict[str, Tensor] = {}  # the latest generator update's loss terms (detached)
        self._direct_steps = False  # set when training starts (gan_zoo.training.direct_steps)

    # ----------------------------------------------------------------------------------- set-up
    def setup(self, stage: str) -> None:
        sharding.set_shard(self.trainer.global_rank, self.trainer.world_size)
        if self.seed is not None:
            # Training's random stream (noise, penalty points, dropout) starts here from the seed, in every process
            # and whatever building the nets drew; a resumed run then restores the checkpoint's state instead.
            torch.manual_seed(self.seed)

    def use_data_parallel(self, wrap: Callable[[nn.Module], nn.Module] | None) -> None:
        """Train G and D through `wrap` (e.g. each in its own DistributedDataParallel); None: the plain nets."""
        self._data_parallel = {} if wrap is None else {"generator": wrap(self.generator), "critic": wrap(self.critic)}

    @property
    def training_generator(self) -> nn.Module:
        return self._data_parallel.get("generator", self.generator)

    @property
    def training_critic(self) -> nn.Module:
        return self._data_parallel.get("critic", self.critic)

    def configure_optimizers(self) -> tuple[list[Optimizer], list[LRScheduler]]:
        optimizers = [self.generator_optimizer(self.generator.parameters()),
                      self.critic_optimizer(self.critic.parameters())]
        if self.lr_scheduler is None:
            return optimizers, []
        return optimizers, [self.lr_scheduler(optimizer) for optimizer in optimizers]

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.nan_guard.check()  # a pending non-finite term is named before the weights are looked at
        floats = {name: tensor for name, tensor in self.state_dict().items() if tensor.is_floating_point()}
        finite = torch.stack([torch.isfinite(tensor).all() for tensor in floats.values()])
        bad = [] if bool(finite.all()) else [name for name, ok in zip(floats, finite.tolist()) if not ok]
        if bad:  # raising here stops Lightning before it writes: the last good checkpoint stays as it was
            raise NonFiniteLossError(f"non-finite weights ({bad[0]}) at generator iteration {self.gen_iter}; the last "
                                     f"good checkpoint was kept: {NAN_HINTS}")
        checkpoint[PROGRESS_KEY] = {"gen_iter": self.gen_iter, "critic_steps": self.critic_steps, "phase": self.phase}
        # Logged again on every logging step until the next generator update: a run stopped between two of them
        # must log them after resuming as it would have without stopping.
        checkpoint[LATEST_GENERATOR_KEY] = {name: value.cpu() for name, value in self._latest_generator.items()}
        checkpoint[RNG_KEY] = rng_states()
        # What was logged up to here (the validation that triggered this checkpoint included): a run killed after its
        # last checkpoint writes metrics.json from it (gan_zoo.runtime.fit.metrics_at_end). One read per checkpoint.
        logged = self.trainer.callback_metrics
        checkpoint[METRICS_KEY] = dict(zip(logged, torch.stack([v.detach().double().cpu().reshape(()) for v in
                                                               logged.values()]).tolist())) if logged else {}
        checkpoint[CONFIG_KEY] = self.run_config
        checkpoint[DATA_SHAPE_KEY] = list(self.data_shape)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self._restore_progress(checkpoint)
        if RNG_KEY in checkpoint:
            set_rng_states(checkpoint[RNG_KEY])
        self._latest_generator = dict(checkpoint.get(LATEST_GENERATOR_KEY, {}))  # moved to the device at train start

    def _restore_progress(self, checkpoint: dict[str, Any]) -> None:
        progress = checkpoint[PROGRESS_KEY]
        self.gen_iter, self.critic_steps, self.phase = progress["gen_iter"], progress["critic_steps"], progress["phase"]
        self.run_config = checkpoint.get(CONFIG_KEY) or self.run_config

    @classmethod
    def load_from_checkpoint(cls, checkpoint_path: str | Path, map_location: Any = "cpu", strict: bool = True,
                             **kwargs: Any) -> GANModule:
        """The module a gan_zoo checkpoint holds, rebuilt from the config stored in it (no other file needed):
        weights, EMA generator, progress counters and `run_config`, in eval mode. The global random state is
        left alone (resuming training restores it; use `ckpt_path=` for that). `kwargs` override entries of the
        stored `module` config node (e.g. `check_finite_every=0`)."""
        from hydra.utils import instantiate
        from omegaconf import OmegaConf

        checkpoint = read_checkpoint(checkpoint_path, map_location)
        config = checkpoint.get(CONFIG_KEY)
        if not config or "module" not in config:
            raise ConfigError(f"{checkpoint_path} holds no gan_zoo configuration (written by another program or "
                              "an older gan_zoo): load it with the config it was trained with")
        with torch.random.fork_rng(devices=[]):  # building the nets draws initial weights: not from the caller's RNG
            module = instantiate(OmegaConf.create(config["module"]), data_shape=tuple(checkpoint[DATA_SHAPE_KEY]),
                                 **kwargs)
        module.load_state_dict(checkpoint["state_dict"], strict=strict)
        module._restore_progress(checkpoint)
        return module.eval()

    # -------------------------------------------------------------------------------- training
    def training_step(self, real: Tensor, batch_idx: int) -> None:
        real = real.to(self.dtype)  # batches gathered on the device are float32; 64-true nets are float64
        log_now = self._logging_now()
        if self.critic_steps < self.schedule.pretrain_steps:
            self._pretrain_step(real, log_now)
        else:
            self._critic_step(real, log_now)
            self.phase += 1
            if self.phase == self.schedule.critic_iters(self.gen_iter):
                self._generator_step(real)
                self.phase = 0
                self.gen_iter += 1
        if log_now:
            if self._latest_generator:
                self.log_dict(self._latest_generator)
            self._log_progress()
            self._update_progress_bar()

    def _critic_step(self, real: Tensor, log_now: bool) -> None:
        _, critic_opt = self.optimizers()
        with torch.no_grad():
            fake = self.generator(self.generator.sample_noise(real.shape[0], self.device))
        critic = self.training_critic
        with self.lipschitz.forward_context(self.critic), loss_scaling(self._grad_scaler()):
            real_scored, fake_scored = Scored.of(critic, real), Scored.of(critic, fake)
            terms = self.objective.critic_loss(real_scored, fake_scored)
            penalty = self.lipschitz.penalty(critic, real_scored, fake_scored)
            terms.update(self.regularizer.terms("critic", self.critic))
            loss = sum([*terms.values(), *penalty.terms.values()])
            self._guard("critic", {**terms, **penalty.terms})
            self._optimize(critic_opt, loss)
        self.lipschitz.after_critic_step(self.critic)
        self.regularizer.after_step("critic", self.critic)  # θ[i]: the parameters after update i, clipping included

        if log_now:
            w_estimate = real_scored.score.detach().mean() - fake_scored.score.detach().mean()
            grad_norms = penalty.grad_norms
            if grad_norms is None:  # measured only on logging steps, never trained on
                grad_norms = self._grad_norms_at_probe_points(real, fake)
            estimates = self.objective.estimates(real_scored, fake_scored)  # e.g. f-GAN's variational bound
            metrics = {"train/critic_loss": loss.detach(), "train/w_estimate": w_estimate,
                       **{f"train/{k}": v.detach() for k, v in estimates.items()},
                       **{f"train/critic/{k}": v.detach() for k, v in terms.items()},
                       **{f"train/penalty/{k}": v.detach() for k, v in penalty.terms.items()}}
            if grad_norms is not None:
                grad_norms = grad_norms.detach()
                metrics.update({"train/grad_norm_mean": grad_norms.mean(), "train/grad_norm_max": grad_norms.max()})
            self.log_dict(metrics)
            self._progress_tensors = {"w_est": w_estimate, "loss_d": loss.detach()}
        self.critic_steps += 1

    def _generator_step(self, real: Tensor) -> None:
        """One generator update on fresh noise. `real` is the batch of the iteration's last critic step: a
        generator loss that declares `needs_real` (feature matching) gets the updated critic's output on it,
        without gradients; other losses never see it and cost no extra critic pass."""
        generator_opt, _ = self.optimizers()
        self.toggle_optimizer(generator_opt)  # no gradients for the critic's weights
        fake = self.training_generator(self.generator.sample_noise(real.shape[0], self.device))
        # The plain critic: its weights are frozen here, so its DDP wrapper (if any) has nothing to reduce.
        with self.lipschitz.forward_context(self.critic):
            fake_scored = Scored.of(self.critic, fake)  # first: a cached forward (spectral norm) keeps its graph
            real_scored = None
            if self.generator_loss.needs_real:  # a declared capability (a Python bool), not a tensor
                with torch.no_grad():
                    real_scored = Scored.of(self.critic, real)
            terms = {**self.generator_loss(self.objective, fake_scored, real_scored),
                     **self.regularizer.terms("generator", self.generator)}
            loss = sum(terms.values())
            self._guard("generator", terms)
            self._optimize(generator_opt, loss)
        self.untoggle_optimizer(generator_opt)
        self.regularizer.after_step("generator", self.generator)
        for scheduler in self.lr_schedulers() or []:
            scheduler.step()
        if self.generator_ema is not None:
            self.generator_ema.update_parameters(self.generator)
        # Kept, not logged: references only (no copy, no sync); the next logging step logs them.
        self._latest_generator = {"train/generator_loss": loss.detach(),
                                  **{f"train/generator/{k}": v.detach() for k, v in terms.items()}}

    def _pretrain_step(self, real: Tensor, log_now: bool) -> None:
        _, critic_opt = self.optimizers()
        terms = self.objective.pretrain_loss(Scored.of(self.training_critic, real))
        loss = sum(terms.values())
        self._guard("pretrain", terms)
        self._optimize(critic_opt, loss)
        self.lipschitz.after_critic_step(self.critic)
        if log_now:
            self.log("train/pretrain_loss", loss.detach())
            self._progress_tensors = {"loss_pre": loss.detach()}
        self.critic_steps += 1

    def _optimize(self, optimizer: LightningOptimizer, loss: Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        if self._direct_steps:  # what Lightning's calls below would do, without their Python (gan_zoo.training.direct_steps)
            loss.backward()
            compat.direct_optimizer_step(optimizer)  # optimizer.step() with Lightning's step counting (global_step)
        else:
            self.manual_backward(loss)
            optimizer.step()

    def on_train_start(self) -> None:
        self._direct_steps = lightning_adds_nothing(self.trainer)
        self._latest_generator = {name: value.to(self.device) for name, value in self._latest_generator.items()}

    def _grad_norms_at_probe_points(self, real: Tensor, fake: Tensor) -> Tensor:
        """‖∇D‖ at the strategy's probe points (random interpolates), measured (not trained on) for strategies
        whose penalty gave no gradient norms. Observing never changes training: the points come from a stream
        of their own, seeded by (seed, critic step), and the critic is measured in eval mode, so no SN vector,
        batch-norm statistic or training random number moves (gan_zoo.lipschitz.measurement)."""
        generator = measurement_generator(self.device, 0 if self.seed is None else self.seed, self.critic_steps)
        return measured_gradient_norms(self.lipschitz, self.critic, real, fake, generator)

    # ------------------------------------------------------------------------------ validation
    def validation_step(self, real: Tensor, batch_idx: int) -> None:
        """Ŵ = E[D(x)] − E[D(G(z))] on held-out real data with fixed noise (WGAN-GP Fig. 5b)."""
        # The live generator, the one this critic is trained against (not the EMA copy).
        fake = self.sample(real.shape[0], seed=self.val_seed + batch_idx, generator=self.generator)
        real_scored, fake_scored = Scored.of(self.critic, real), Scored.of(self.critic, fake)
        w_estimate = real_scored.score.mean() - fake_scored.score.mean()
        self.log("val/w_estimate", w_estimate, batch_size=real.shape[0], prog_bar=True)
        for name, value in self.objective.estimates(real_scored, fake_scored).items():
            self.log(f"val/{name}", value, batch_size=real.shape[0])

    @property
    def eval_generator(self) -> nn.Module:
        """The generator that evaluation and pictures use: the EMA copy when there is one."""
        return self.generator if self.generator_ema is None else self.generator_ema.module

    def fixed_noise(self, n: int, seed: int) -> Tensor:
        """n noise vectors fixed by seed (drawn on the CPU, so the same on every device and every rank)."""
        return torch.randn(n, self.generator.z_dim, generator=torch.Generator().manual_seed(seed))

    def sample(self, n: int, seed: int, generator: nn.Module | None = None) -> Tensor:
        """n samples of the evaluation generator (or `generator`) from the noise fixed by seed."""
        return self.generate(self.fixed_noise(n, seed), generator)

    @torch.no_grad()
    def generate(self, z: Tensor, generator: nn.Module | None = None) -> Tensor:
        """G(z) with the evaluation generator (or `generator`) in eval mode (batch norm with running statistics,
        whether called inside validation or after training)."""
        net = self.eval_generator if generator is None else generator
        z = z.to(self.device, self.dtype)  # self.dtype: float64 under trainer.precision=64-true
        was_training = net.training
        net.eval()
        try:
            return net(z)
        finally:
            net.train(was_training)

    def on_validation_epoch_end(self) -> None:
        self._log_progress()

    # --------------------------------------------------------------------------------- helpers
    def _logging_now(self) -> bool:
        # The same cadence as Lightning's own flush (every log_every_n_steps training batches).
        return (self.critic_steps + 1) % max(self.trainer.log_every_n_steps, 1) == 0

    def _log_progress(self) -> None:
        """Completed generator iterations: a metric, and the x-axis of every logged metric."""
        self.log("gen_iter", float(self.gen_iter))
        self.log("step", float(self.gen_iter))

    def _update_progress_bar(self) -> None:
        """Read the progress bar's numbers to the host: one sync, on logging steps only."""
        shown = dict(self._progress_tensors)
        if "train/generator_loss" in self._latest_generator:
            shown["loss_g"] = self._latest_generator["train/generator_loss"]
        values = torch.stack([value.float() for value in shown.values()]).tolist() if shown else []
        self.progress_bar_values = {**dict(zip(shown, values)), "gen_iter": self.gen_iter}

    def _grad_scaler(self) -> torch.amp.GradScaler | None:
        """The fp16 loss scaler (trainer.precision=16-mixed), which gradient penalties must use too."""
        return compat.grad_scaler(self.trainer)

    def _guard(self, phase: str, terms: dict[str, Tensor]) -> None:
        if self._grad_scaler() is None:  # fp16: the scaler skips overflowing steps and lowers its scale
            self.nan_guard.record(phase, self.gen_iter, terms)

    def on_validation_start(self) -> None:
        self.nan_guard.check()

    def on_train_epoch_end(self) -> None:
        self.nan_guard.check()

    def on_train_end(self) -> None:
        self.nan_guard.check()
