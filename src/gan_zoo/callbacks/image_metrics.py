"""FID, KID and Inception Score with torchmetrics, at every validation (every eval_every generator
iterations and at the end of training)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import torchmetrics
from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig, OmegaConf
from pytorch_lightning.utilities import rank_zero_info
from torch import Tensor
from torchmetrics import Metric

from gan_zoo.callbacks.cadence import EveryNthValidation
from gan_zoo.contracts import RealImageSource, evaluated_module
from gan_zoo.data.images import to_uint8
from gan_zoo.errors import ConfigError, DataError, GanZooError, require
from gan_zoo.metrics import reference_cache
from gan_zoo.metrics.features import SharedFeatures

log = logging.getLogger(__name__)


def _as_rgb(images: Tensor) -> Tensor:
    return images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images


def _plain(config: Any) -> Any:
    """A config as plain containers (the callback gets OmegaConf nodes, gan_zoo.evaluate plain dicts)."""
    return OmegaConf.to_container(config, resolve=True) if isinstance(config, (DictConfig, ListConfig)) else config


class ImageMetrics(EveryNthValidation):
    """Logs val/<name> for every metric (val/<name>_mean and _std for KID and IS) on `num_fake` samples of
    the evaluation generator (fixed noise) and `num_real` training images, with both counts
    (val/metric_num_fake, val/metric_num_real) so a number is never read without its sample size.

    `metrics` maps names to torchmetrics configs (`_target_`), instantiated only for image data, so toy runs
    never load a feature network. With `features` (a network config whose forward returns named outputs, e.g.
    InceptionV3 or DigitClassifier(output="all")) every metric's `feature` names one of its outputs, and one pass
    of that one network per batch serves all metrics (SharedFeatures); without it each metric config is
    torchmetrics' own. Real-image statistics are computed once (the metrics keep them with
    `reset_real_features=False`); each rank handles its share of the samples and torchmetrics reduces them,
    so every rank logs the same value.

    `reference_cache` (a folder, or None for none) keeps the metrics' real-image states on disk
    (gan_zoo.metrics.reference_cache), keyed by the real images' bytes, the metrics' configs, the feature network's
    weights, batch size, device and library versions: later validations, runs and evaluations on the same images
    load them instead of running the feature network over the real images again, with the same numbers.

    A feature network may have `fit_to_data(datamodule)` (trained on the run's data: DataClassifier, called at
    set-up), `check_input(shape)` (ConfigError unless it can score (C, H, W) images; a network without it is tried
    on a batch of zeros), `check_domain(images)` (a warning about the real images, run on the first real batch
    when the real states come from the cache) and `summary` (values logged as val/<key>, e.g. the classifier's
    held-out accuracy).
    """

    def __init__(self, metrics: Mapping[str, Any], features: Mapping[str, Any] | None = None, num_fake: int = 10000,
                 num_real: int = 10000, batch_size: int = 250, every_n_validations: int = 1, seed: int = 4321,
                 reference_cache: str | None = None) -> None:
        require(num_fake >= 2 and num_real >= 2,
                f"metrics.num_fake and metrics.num_real must be >= 2 (got {num_fake}, {num_real})")
        super().__init__(every_n_validations)
        self.configs = dict(metrics or {})
        self.features_config = features
        self.shared: SharedFeatures | None = None
        self.num_fake, self.num_real, self.batch_size, self.seed = num_fake, num_real, batch_size, seed
        self.metrics: dict[str, Metric] = {}
        self.real_done = False
        self.reference_cache = None if reference_cache is None else Path(reference_cache).expanduser()
        self.reference_hit: bool | None = None  # whether the last real states came from the cache
        self._weights_digest: str | None = None

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        datamodule = trainer.datamodule
        held_out = datamodule.held_out if isinstance(datamodule, RealImageSource) else None
        if held_out is None or held_out.dim() != 4:
            rank_zero_info("ImageMetrics: the data are not images; FID/IS/KID are off")
            return
        evaluated_module(pl_module, "ImageMetrics")
        self.build_metrics(datamodule)

    def build_metrics(self, data: Any = None) -> None:
        """Instantiate the metrics (and their feature network). Called in setup, for image data only. `data`, the
        image data module, is needed by a feature network trained on it (metrics=classifier) and for the check
        that the network can take the data's images."""
        if not self.configs:
            return
        try:
            # fork_rng: building a feature network must not move the training's random stream
            with torch.random.fork_rng(devices=[]):
                if self.features_config:
                    network = instantiate(self.features_config)
                    if hasattr(network, "fit_to_data"):
                        if data is None:
                            raise ConfigError(f"{type(network).__name__} is trained on the run's data: pass the "
                                              f"data module to ImageMetrics.build_metrics")
                        network.fit_to_data(data)
                    if data is not None:
                        self._check_input(network, data)
                    self.shared = SharedFeatures(network)
                for name, config in self.configs.items():
                    self.metrics[name] = instantiate(config, **self._feature_of(name, config))
        except Exception as error:  # noqa: BLE001 - e.g. Inception weights unreachable offline
            # Hydra wraps the constructor's own error; ours already says what is wrong and what to do.
            while error.__cause__ is not None and not isinstance(error, GanZooError):
                error = error.__cause__
            if isinstance(error, GanZooError):
                raise error from None
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            where = f"could not build the feature network of {', '.join(self.configs)} ({reason})"
            if not isinstance(error, OSError):  # a wrong setting, not a missing file or download
                raise ConfigError(where) from error
            raise DataError(
                f"{where}: offline, put the Inception weights (pt_inception-2015-12-05-6726825d.pth) in a file and set "
                f"metrics.weights_path to it, or use another feature network (e.g. metrics=digits)") from error
        self.active = bool(self.metrics)

    @staticmethod
    def _check_input(network: Any, data: Any) -> None:
        """ConfigError at set-up when the feature network cannot take the data's images."""
        shape = tuple(getattr(data, "data_shape", None) or data.held_out.shape[1:])
        if hasattr(network, "check_input"):
            network.check_input(shape)
            return
        probe = torch.zeros(2, 3, *shape[1:], dtype=torch.uint8)  # as update() feeds them: uint8 RGB
        try:
            with torch.no_grad():
                network(probe)
        except RuntimeError as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise ConfigError(
                f"metrics.features ({type(network).__name__}) cannot take the data's {'×'.join(map(str, shape))} "
                f"images (fed as {'×'.join(map(str, probe.shape[1:]))} uint8: {reason}): set data.image_size and "
                f"data.channels to what it takes, or use metrics=inception or metrics=classifier") from None

    def _feature_of(self, name: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """The `feature` argument of a metric: its output of the shared network, when the config names one (a
        `_target_` config or no shared network: the metric builds its own, as torchmetrics does)."""
        output = config.get("feature")
        if self.shared is None or isinstance(output, Mapping):
            return {}
        outputs = ", ".join(self.shared.network.num_features)
        if output is None:
            raise ConfigError(f"metrics.functions.{name}.feature must name an output of metrics.features ({outputs})")
        try:
            return {"feature": self.shared.output(str(output))}
        except ValueError as error:
            raise ConfigError(f"metrics.functions.{name}.feature: {error}") from None

    def _share(self, total: int, trainer: pl.Trainer) -> tuple[int, int]:
        """(count, offset) of this rank's part of `total` samples."""
        base, extra = divmod(total, trainer.world_size)
        rank = trainer.global_rank
        return base + (rank < extra), rank * base + min(rank, extra)

    @torch.no_grad()
    def update(self, images: Tensor, real: bool) -> None:
        """One batch into every metric: uint8 images, or floats in [−1, 1] as the generators make them."""
        images = _as_rgb(to_uint8(images) if images.is_floating_point() else images)
        for metric in self.metrics.values():
            if "real" in inspect.signature(metric.update).parameters:
                metric.update(images, real=real)
            elif not real:  # the Inception Score looks at generated images only
                metric.update(images)

    @torch.no_grad()
    def add_real_images(self, real: Tensor, device: torch.device | str = "cpu") -> None:
        """The real images (uint8 (N, C, H, W), this process's share) into every metric, in batches of batch_size:
        their states loaded from the reference cache when it holds them, else computed and saved there."""
        device = torch.device(device)
        for metric in self.metrics.values():
            metric.to(device)
        path = None if self.reference_cache is None else self._reference_path(real, device)
        saved = None if path is None else reference_cache.load(path)
        if saved is not None:
            if reference_cache.restore(self.metrics, saved):
                self.reference_hit = True
                network = self.shared.network if self.shared is not None else None
                if hasattr(network, "check_domain") and len(real):
                    network.check_domain(_as_rgb(real[: self.batch_size].to(device)))
                return
            log.warning("the reference statistics %s do not fit these metrics; computing them again", path)
        self.reference_hit = False
        for batch in real.split(self.batch_size):
            self.update(batch.to(device), real=True)
        if self.shared is not None:
            self.shared.clear()
        if path is not None:
            reference_cache.save(path, reference_cache.real_states(self.metrics), self._description(real, device))

    def _description(self, real: Tensor, device: torch.device) -> dict[str, Any]:
        """Everything besides the images' bytes that the real states depend on (the reference cache's key)."""
        if self._weights_digest is None:
            modules = [*([self.shared.network] if self.shared is not None else []), *self.metrics.values()]
            self._weights_digest = reference_cache.weights_digest(modules)
        return {"metrics": {name: [type(m).__name__, _plain(self.configs[name])] for name, m in self.metrics.items()},
                "features": _plain(self.features_config), "weights": self._weights_digest, "images": list(real.shape),
                "batch_size": self.batch_size, "device": device.type, "torch": torch.__version__,
                "torchmetrics": torchmetrics.__version__}

    def _reference_path(self, real: Tensor, device: torch.device) -> Path:
        key = reference_cache.reference_key(real, self._description(real, device))
        return self.reference_cache / f"{key[:32]}.pt"

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._due(trainer):
            return
        devices = [pl_module.device] if pl_module.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):  # KID/IS subsets draw random numbers: not from training's stream
            self._evaluate(trainer, pl_module)

    @torch.no_grad()
    def _evaluate(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        device = pl_module.device
        for metric in self.metrics.values():
            metric.to(device)
            metric.reset()  # generated-image state only (reset_real_features=False keeps the real statistics)
        if not self.real_done:
            count, offset = self._share(self.num_real, trainer)
            self.add_real_images(trainer.datamodule.real_images(self.num_real, seed=self.seed)[offset: offset + count],
                                 device)
            self.real_done = True
        count, offset = self._share(self.num_fake, trainer)
        # One noise draw for all samples, sliced: the same images whatever the number of processes.
        for z in pl_module.fixed_noise(self.num_fake, self.seed)[offset: offset + count].split(self.batch_size):
            self.update(pl_module.generate(z), real=False)
        if self.shared is not None:
            self.shared.clear()
        values: dict[str, float] = {"val/metric_num_fake": float(self.num_fake), "val/metric_num_real": float(self.num_real)}
        if self.shared is not None:
            values.update({f"val/{key}": float(v) for key, v in getattr(self.shared.network, "summary", {}).items()})
        for name, metric in self.metrics.items():
            result = metric.compute()
            if isinstance(result, tuple):
                values[f"val/{name}_mean"], values[f"val/{name}_std"] = float(result[0]), float(result[1])
            elif isinstance(result, dict):  # several named values (precision/recall/density/coverage)
                values.update({f"val/{key}": float(value) for key, value in result.items()})
            else:
                values[f"val/{name}"] = float(result)
        pl_module.log_dict(values)
