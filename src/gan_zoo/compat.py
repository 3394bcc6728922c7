"""Every use of a framework's private API in gan_zoo, in one place.

gan_zoo reaches into Lightning, torch, torchvision and torchmetrics where their public API offers no way to do
what it needs (count a step without Lightning's Python around it, stop after this batch from a signal handler,
replace Lightning's DDP launcher, ...). Each such use is a function or a small base class here; the rest of
gan_zoo calls these by public names (subclasses override the public hooks the base classes define), so an
upgrade that moves an internal breaks this file only. Where a public API does the same, it is the fallback.

The private names were checked against the versions in TESTED (constraints.txt pins them, `make install`);
`check_versions()` refuses other major.minor versions of the packages in CHECKED unless GAN_ZOO_ALLOW_UNTESTED=1.
tests/test_compat.py fails when a known private framework name is used outside this file.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import warnings
from collections.abc import Callable
from typing import Any

import pytorch_lightning as pl
import torch
from lightning_fabric.loggers.logger import rank_zero_experiment
from pytorch_lightning.callbacks import RichProgressBar
from pytorch_lightning.loggers import CSVLogger
from pytorch_lightning.loggers.csv_logs import ExperimentWriter as CSVExperimentWriter
from pytorch_lightning.strategies import DDPStrategy
from torch import Tensor, nn
from torchvision import datasets

from gan_zoo.errors import ConfigError

# ------------------------------------------------------------------------------------------------- versions
# The versions this file was tested with (major.minor): distribution name → version.
TESTED: dict[str, str] = {
    "torch": "2.14",
    "torchvision": "0.29",
    "pytorch-lightning": "2.6",
    "torchmetrics": "1.9",
    "torch-fidelity": "0.4",
    "hydra-core": "1.3",
}
# The packages whose internals this file touches: another major.minor of one of them is refused by check_versions.
# (Hydra is used through its public API only: HydraConfig and the job's config.)
CHECKED = ("torch", "torchvision", "pytorch-lightning", "torchmetrics", "torch-fidelity")
ALLOW_UNTESTED = "GAN_ZOO_ALLOW_UNTESTED"

_warned_untested = False


def installed_version(distribution: str) -> str | None:
    """The installed version of a distribution (e.g. "pytorch-lightning"), or None when it is not installed.

    Read from the package metadata, without importing the package."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def major_minor(version: str) -> str:
    """"2.6.6" → "2.6", "2.14.1+cu128" → "2.14"; a version without that form is returned as it is."""
    match = re.match(r"(\d+)\.(\d+)", version)
    return f"{match[1]}.{match[2]}" if match else version


def untested_versions() -> dict[str, str]:
    """The installed packages of CHECKED whose major.minor is not the tested one: name → installed major.minor."""
    found = {}
    for name in CHECKED:
        version = installed_version(name)
        if version is not None and major_minor(version) != TESTED[name]:
            found[name] = major_minor(version)
    return found


def check_versions() -> None:
    """Raise ConfigError (one line) when a package whose internals gan_zoo touches has an untested major.minor
    version; with GAN_ZOO_ALLOW_UNTESTED=1 warn instead, once per process."""
    global _warned_untested
    untested = untested_versions()
    if not untested:
        return
    found = ", ".join(f"{name} {version} is untested by gan_zoo (tested: {TESTED[name]})"
                      for name, version in untested.items())
    if os.environ.get(ALLOW_UNTESTED, "").strip().lower() in ("1", "true", "yes"):
        if not _warned_untested:
            _warned_untested = True
            warnings.warn(f"{found}; trying anyway ({ALLOW_UNTESTED} is set)", UserWarning, stacklevel=2)
        return
    raise ConfigError(f"{found}; install the tested versions with `make install` (constraints.txt), "
                      f"or set {ALLOW_UNTESTED}=1 to try anyway")


# --------------------------------------------------------------------------------------------- checkpoints
_STATE_DICT_MISMATCH = "Error(s) in loading state_dict"  # torch.nn.Module.load_state_dict's message


def is_state_dict_mismatch(error: BaseException) -> bool:
    """Whether `error` is torch's load_state_dict refusing a state dict with other keys or shapes."""
    return isinstance(error, RuntimeError) and _STATE_DICT_MISMATCH in str(error)


def state_dict_mismatch_detail(error: BaseException) -> str:
    """The first line of torch's list of mismatches (e.g. 'Missing key(s) in state_dict: ...'), or the message."""
    lines = str(error).splitlines()
    return lines[1].strip() if len(lines) > 1 else str(error)


# ------------------------------------------------------------------------------------------------ Lightning
def direct_optimizer_step(optimizer: pl.core.optimizer.LightningOptimizer) -> None:
    """`optimizer.optimizer.step()` with Lightning's step counting (trainer.global_step) around it: what
    LightningOptimizer.step does when no precision plugin, strategy, profiler or hook adds anything
    (gan_zoo.training.direct_steps). Fallback: LightningOptimizer.step() itself (the same update, with its Python)."""
    before, after = getattr(optimizer, "_on_before_step", None), getattr(optimizer, "_on_after_step", None)
    if before is None or after is None:
        optimizer.step()
        return
    before()
    optimizer.optimizer.step()
    after()


def precision_plugin(trainer: pl.Trainer) -> Any:
    """The trainer's precision plugin."""
    return trainer.precision_plugin


def grad_scaler(trainer: pl.Trainer) -> torch.amp.GradScaler | None:
    """The precision plugin's fp16 loss scaler (trainer.precision=16-mixed), or None."""
    return getattr(trainer.precision_plugin, "scaler", None)


def averages_in_optimizer_step(strategy: pl.strategies.Strategy) -> bool:
    """Whether the strategy does work inside each optimizer step (DDP's post-local-SGD model averager)."""
    return getattr(strategy, "_model_averager", None) is not None


def stop_after_this_batch(trainer: pl.Trainer) -> None:
    """Make Lightning stop after the current batch as it does on SIGTERM (raising SIGTERMException), from a
    signal handler. No public equivalent: `trainer.should_stop` ends training without the exception."""
    trainer._signal_connector.received_sigterm = True


class KeepingCSVWriter(CSVExperimentWriter):
    """Lightning's CSV experiment writer with what it does to a log folder that already holds files as the public
    hook `on_existing_log_dir()`, called from its constructor once `metrics_file_path` and `metrics_keys` are set.
    Lightning's (the default here) deletes metrics.csv (`_check_log_dir_exists`)."""

    def on_existing_log_dir(self) -> None:
        CSVExperimentWriter._check_log_dir_exists(self)

    def _check_log_dir_exists(self) -> None:
        self.on_existing_log_dir()


class CSVLoggerChoosingWriter(CSVLogger):
    """Lightning's CSVLogger whose experiment writer comes from the public hook `make_writer(log_dir)` (default:
    Lightning's writer)."""

    def make_writer(self, log_dir: str) -> CSVExperimentWriter:
        return CSVExperimentWriter(log_dir=log_dir)

    @property
    @rank_zero_experiment
    def experiment(self) -> CSVExperimentWriter:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = self.make_writer(self.log_dir)
        return self._experiment


class DescribedRichProgressBar(RichProgressBar):
    """Lightning's RichProgressBar whose training-bar label is the public `train_epoch_description`."""

    def train_epoch_description(self, current_epoch: int) -> str:
        """The training bar's label for an epoch (default: Lightning's, "Epoch <n>")."""
        return RichProgressBar._get_train_description(self, current_epoch)

    def _get_train_description(self, current_epoch: int) -> str:
        return self.train_epoch_description(current_epoch)


try:
    from pytorch_lightning.strategies.launchers.subprocess_script import _SubprocessScriptLauncher
except ImportError:  # moved in an untested Lightning: check_versions names it; using the launcher fails clearly
    class _SubprocessScriptLauncher:  # type: ignore[no-redef]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise ConfigError(f"this pytorch-lightning ({installed_version('pytorch-lightning')}) has no subprocess "
                              f"script launcher; install the tested versions with `make install` (constraints.txt)")


class ChildScriptLauncher(_SubprocessScriptLauncher):
    """Lightning's launcher of ranks 1…N−1 as subprocesses of this one, with the start of the children a public
    hook: subclasses override `spawn_children` (start the processes and append them to `self.procs`; the
    attributes `cluster_environment`, `num_processes` and `num_nodes` say what to start)."""

    def spawn_children(self) -> None:
        """Start the processes of local ranks 1…num_processes−1 (Lightning's: re-run this command line)."""
        _SubprocessScriptLauncher._call_children_scripts(self)

    def _call_children_scripts(self) -> None:
        self._check_can_spawn_children()
        self.spawn_children()


class LauncherChoosingDDPStrategy(DDPStrategy):
    """Lightning's DDP with two public hooks: `subprocess_launcher()` may replace the launcher Lightning picks when
    it starts the ranks as scripts, and `wrap_in_ddp(module)` wraps a net the way the strategy wraps its model."""

    def subprocess_launcher(self) -> Any | None:
        """The launcher to use instead of Lightning's subprocess-script one; None keeps Lightning's."""
        return None

    def wrap_in_ddp(self, module: nn.Module) -> nn.Module:
        """`module` in DistributedDataParallel with this strategy's device ids and DDP arguments."""
        return self._setup_model(module)

    def _configure_launcher(self) -> None:
        super()._configure_launcher()
        if isinstance(self._launcher, _SubprocessScriptLauncher):
            replacement = self.subprocess_launcher()
            if replacement is not None:
                self._launcher = replacement


# ---------------------------------------------------------------------------------------------------- wandb
def mark_wandb_warning_shown(message: str) -> None:
    """Make W&B's `wandb.termwarn(message, repeat=False)` print nothing: such a warning is printed once per process,
    and W&B remembers the ones shown in a private set of wandb.errors.term (checked with wandb 0.31). Without that
    set (another wandb), nothing changes: the warning shows."""
    try:
        from wandb.errors import term  # noqa: PLC0415 - wandb is imported only for runs that log to it
    except ImportError:
        return
    shown = getattr(term, "_printed_messages", None)
    if isinstance(shown, set):
        shown.add(f"{term.WARN_STRING} {message}")


# ---------------------------------------------------------------------------------------------------- torch
def is_batch_norm(module: nn.Module) -> bool:
    """Whether `module` normalises with batch statistics (any torch batch norm, lazy and sync ones included)."""
    base = getattr(nn.modules.batchnorm, "_BatchNorm", None)
    if base is not None:
        return isinstance(module, base)
    return isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm,
                               nn.LazyBatchNorm1d, nn.LazyBatchNorm2d, nn.LazyBatchNorm3d))


def tensor_version(tensor: Tensor) -> int:
    """The tensor's version counter, which every in-place operation increments."""
    return tensor._version


# ---------------------------------------------------------------------------------------------- torchvision
class CheckableCIFAR10(datasets.CIFAR10):
    """torchvision's CIFAR10 whose start-up checks are public hooks: `files_complete()` (torchvision's: the md5 of
    every member) and `read_class_names()` (torchvision's: read batches.meta after checking its md5)."""

    def files_complete(self) -> bool:
        return datasets.CIFAR10._check_integrity(self)

    def read_class_names(self) -> None:
        datasets.CIFAR10._load_meta(self)

    def _check_integrity(self) -> bool:
        return self.files_complete()

    def _load_meta(self) -> None:
        self.read_class_names()


# --------------------------------------------------------------------------------------------- torchmetrics
def inception_outputs(net: nn.Module, images: Tensor) -> tuple[Tensor, ...]:
    """Every output that torchmetrics' NoTrainInceptionV3 `net` was built for (its features_list), from one pass
    over uint8 images (its forward returns the first only). Fallback: torch-fidelity's forward, which is the same
    computation for float32 nets without antialiasing (gan_zoo builds them so)."""
    forward: Callable[[Tensor], tuple[Tensor, ...]] | None = getattr(net, "_torch_fidelity_forward", None)
    if forward is not None:
        return forward(images)
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3  # noqa: PLC0415

    return FeatureExtractorInceptionV3.forward(net, images)
