"""Evaluating a trained generator after training, from its checkpoint alone, and comparing two folders of images.

Toy data: exact W1 to held-out real samples (and its noise floor), mode coverage, and precision/recall/density/
coverage on raw coordinates. Images: the run's own metrics (FID, KID, IS, precision/recall/density/coverage, the
`metrics` config stored in the checkpoint, or another conf/metrics option) on `num_fake` generated and `num_real`
real images. The real images are the run's own (rebuilt from the stored `data` config, the same held-out split and
reference images as in training) or those of a folder, read as the run's folder data would be. compare_folders
measures the same metrics between two folders, with no checkpoint. Each result records the sample counts, where the
real images came from and the feature network with the SHA-256 of its weights, so a number is never read without
what it was measured with.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf, open_dict
from torch import Tensor

from gan_zoo.contracts import HeldOutData, KnownDistribution, ModeMixture, StackedDigitSource
from gan_zoo.errors import ConfigError
from gan_zoo.inference.image_folders import FolderBatches, choose, first_image_size, folder_images
from gan_zoo.inference.trained import TrainedGAN, pick_device
from gan_zoo.metrics import exact_w1, mode_coverage
from gan_zoo.metrics.prdc import precision_recall_density_coverage

FLOOR_SEED = 9876  # the toy metrics' noise-floor draw (callbacks/toy_metrics.py)


def build_data(trained: TrainedGAN) -> Any:
    """The run's data module, set up (held-out split and training images as in training)."""
    data_config = trained.config.get("data")
    if data_config is None:
        raise ConfigError(f"{trained.path} stores no data config: evaluate it with the data it was trained on")
    with torch.random.fork_rng(devices=[]):
        datamodule = instantiate(data_config)
        datamodule.setup("fit")
    return datamodule


def file_sha256(path: str | Path | None) -> str | None:
    if not path or not Path(path).expanduser().is_file():
        return None
    digest = hashlib.sha256()
    with Path(path).expanduser().open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def evaluate_toy(trained: TrainedGAN, datamodule: Any, num_samples: int | None, seed: int,
                 n_sigma: float = 3.0) -> dict[str, Any]:
    """Exact W1, its noise floor, mode coverage and PRDC on coordinates, for 2-D (low-dimensional) data."""
    if not isinstance(datamodule, HeldOutData) or not isinstance(datamodule, KnownDistribution):
        raise ConfigError("toy metrics need data with a held-out set and a known distribution")
    # by default the toy-metrics callback's count (2,500), so the numbers repeat the run's validation
    toy_callback = (trained.config.get("callbacks") or {}).get("toy_metrics") or {}
    real = datamodule.held_out[: num_samples or toy_callback.get("num_samples", 2500)]
    fake = trained.sample(len(real), seed=seed)
    floor = datamodule.distribution.sample(len(real), torch.Generator().manual_seed(FLOOR_SEED))
    results: dict[str, Any] = {"w1_exact": exact_w1(fake, real), "w1_noise_floor": exact_w1(real, floor),
                               **precision_recall_density_coverage(real, fake)}
    with torch.no_grad():
        critic = trained.critic
        device = next(critic.parameters()).device
        results["w_estimate_exact"] = float(critic(real.to(device)).score.mean() - critic(fake.to(device)).score.mean())
    if isinstance(datamodule.distribution, ModeMixture):
        coverage = mode_coverage(fake, datamodule.distribution.centers, datamodule.distribution.std, n_sigma)
        results.update(modes=coverage.modes, num_modes=len(datamodule.distribution.centers),
                       high_quality=coverage.high_quality, reverse_kl=coverage.reverse_kl)
    results.update(num_fake=len(fake), num_real=len(real), features="coordinates")
    return results


def evaluate_stacked(trained: TrainedGAN, datamodule: StackedDigitSource, num_fake: int | None,
                     seed: int | None) -> dict[str, Any]:
    """Stacked-digit mode coverage (Metz et al. 2017; VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018) as
    the run's StackedModeCoverage callback measures it (gan_zoo.metrics.stacked_modes): modes covered (of 1,000)
    and KL to uniform of num_fake samples, and what as many real held-out stacks score. None: the callback's
    stored sample count and noise seed, so the last checkpoint repeats the run's last validation."""
    from gan_zoo.callbacks.stacked_modes import StackedModeCoverage
    from gan_zoo.metrics.features import DigitClassifier
    from gan_zoo.metrics.stacked_modes import StackedModeCounter, generated_modes, real_reference

    stored = dict((trained.config.get("callbacks") or {}).get("stacked_modes") or {})
    stored.pop("_target_", None)
    defaults = StackedModeCoverage(**stored)  # the run's settings, with the callback's own defaults
    num_samples = num_fake or defaults.num_samples
    seed = defaults.seed if seed is None else seed
    with torch.random.fork_rng(devices=[]):  # a first use trains the classifier: not from the caller's stream
        classifier = DigitClassifier(output="logits", weights_path=defaults.weights_path)
    counter = StackedModeCounter(classifier, defaults.batch_size)
    with torch.no_grad():
        # in the callback's batches, as its validation generated them
        fake = generated_modes(counter, trained.generate, trained.noise(num_samples, seed), defaults.batch_size)
    reference = real_reference(counter, datamodule, num_samples, defaults.real_seed, trained.device)
    return {**fake, **reference, "stacked_seed": seed}


def has_image_metrics(metrics_config: Any) -> bool:
    """Whether a metrics config computes anything (not metrics=none)."""
    return bool(metrics_config and metrics_config.get("functions"))


def metric_values(metrics_config: Any, num_fake: int, num_real: int) -> dict[str, Any]:
    """A metrics config (the run's stored one, or a conf/metrics option) as plain values for num_fake generated and
    num_real real images: its counts set to them before interpolations such as KID's subset_size
    (`${min:1000,${metrics.num_fake},${metrics.num_real}}`) are resolved, and every subset_size at most both counts
    (KID draws subsets of that size from each side; the run's stored config has it resolved for the run's counts)."""
    if isinstance(metrics_config, DictConfig):
        with open_dict(metrics_config):
            metrics_config.num_fake, metrics_config.num_real = num_fake, num_real
        plain = OmegaConf.to_container(metrics_config, resolve=True)
    else:
        plain = dict(metrics_config)
    functions = {}
    for name, config in (plain.get("functions") or {}).items():
        if isinstance(config, dict) and "subset_size" in config:
            config = {**config, "subset_size": min(int(config["subset_size"]), num_fake, num_real)}
        functions[name] = config
    return {**plain, "functions": functions}


def measure(plain: dict[str, Any], num_fake: int, num_real: int, seed: int, batch_size: int, device: torch.device,
            real: Tensor | Iterable[Tensor], fake: Iterable[Tensor], data: Any = None) -> dict[str, Any]:
    """The metrics of a plain metrics config (metric_values) on batches of real and generated images (uint8, or
    floats in [−1, 1]; `real` all at once: statistics from the reference cache when it holds them), computed as the
    ImageMetrics callback does; random subsets (KID, IS) drawn with seed. `data`:
    the run's data module, for a feature network trained on it (metrics=classifier)."""
    from gan_zoo.callbacks.image_metrics import ImageMetrics

    evaluator = ImageMetrics(plain["functions"], plain.get("features"), num_fake=num_fake, num_real=num_real,
                             batch_size=batch_size, seed=seed, reference_cache=plain.get("reference_cache"))
    evaluator.build_metrics(data)
    devices = [device] if device.type == "cuda" else []
    with torch.no_grad(), torch.random.fork_rng(devices=devices):  # KID/IS subsets: not from the caller's stream
        for metric in evaluator.metrics.values():
            metric.to(device)
        if isinstance(real, Tensor):  # the run's real images: their statistics from the reference cache if there
            evaluator.add_real_images(real, device)
        else:
            for batch in real:
                evaluator.update(batch.to(device), real=True)
        for batch in fake:
            evaluator.update(batch.to(device), real=False)
        if evaluator.shared is not None:
            evaluator.shared.clear()
        torch.manual_seed(seed)
        results: dict[str, Any] = {}
        for name, metric in evaluator.metrics.items():
            value = metric.compute()
            if isinstance(value, dict):
                results.update({key: float(v) for key, v in value.items()})
            elif isinstance(value, tuple):
                results[f"{name}_mean"], results[f"{name}_std"] = float(value[0]), float(value[1])
            else:
                results[name] = float(value)
    features = plain.get("features") or {}
    results.update({f"{name}_subset_size": config["subset_size"] for name, config in plain["functions"].items()
                    if isinstance(config, dict) and "subset_size" in config})
    results.update(features=features.get("_target_", "torchmetrics default"),
                   features_sha256=file_sha256(features.get("weights_path")))
    return results


def fits_to_data(plain: dict[str, Any]) -> bool:
    """Whether the feature network is trained on a run's data (it has `fit_to_data`, e.g. metrics=classifier)."""
    target = (plain.get("features") or {}).get("_target_")
    return target is not None and hasattr(get_class(target), "fit_to_data")


def image_metrics_config(metrics_config: Any, where: str) -> Any:
    """metrics_config, unless it computes nothing (metrics=none)."""
    if not has_image_metrics(metrics_config):
        raise ConfigError(f"{where} has no image metrics (metrics=none): nothing to compute; choose metrics=inception "
                          f"or metrics=digits")
    return metrics_config


def evaluate_images(trained: TrainedGAN, datamodule: Any, num_fake: int | None, num_real: int | None, seed: int,
                    batch_size: int, real: str | Path | None = None, metrics: Any = None) -> dict[str, Any]:
    """The run's image metrics (its stored `metrics` config, or `metrics`, a conf/metrics option) on num_fake
    samples and num_real real images: the run's training images, or with `real` those of a folder, each
    centre-cropped and resized to the run's image size and channels as the run's folder data would be
    (gan_zoo.data.image_files; null num_real: every image of the folder)."""
    if metrics is None:
        metrics = image_metrics_config(trained.config.get("metrics"), f"{trained.path}'s run")
    else:
        metrics = image_metrics_config(metrics, "metrics=")
    num_fake = num_fake or int(metrics.get("num_fake"))
    if real is None:
        num_real = num_real or int(metrics.get("num_real"))
        real_batches: Tensor | Iterable[Tensor] = datamodule.real_images(num_real, seed=seed)
        source: dict[str, Any] = {"real_source": "run data",
                                  "real": (trained.config.get("data") or {}).get("_target_")}
    else:
        files = choose(folder_images(real, "real"), num_real, seed, "real")
        channels, size, _ = trained.data_shape
        real_batches = FolderBatches(files, size, channels, (trained.config.get("data") or {}).get("crop"),
                                     batch_size)
        num_real = len(files)
        source = {"real_source": "folder", "real": str(Path(real).expanduser().resolve())}
    fake_batches = (trained.generate(z) for z in trained.noise(num_fake, seed).split(batch_size))
    plain = metric_values(metrics, num_fake, num_real)
    if datamodule is None and fits_to_data(plain):  # its classifier is trained on (or cached for) the run's data
        datamodule = build_data(trained)
    results = measure(plain, num_fake, num_real, seed, batch_size, trained.device, real_batches, fake_batches,
                      datamodule)
    if isinstance(real_batches, FolderBatches):
        num_real = real_batches.count  # files that passed the header check but did not decode are not counted
    return {**results, "num_fake": num_fake, "num_real": num_real, **source}


def compare_folders(fake: str | Path, real: str | Path, metrics: Any, image_size: int | None = None,
                    num_fake: int | None = None, num_real: int | None = None, seed: int | None = None,
                    batch_size: int = 250, device: str | torch.device = "auto") -> dict[str, Any]:
    """Image metrics of the images of folder `fake` against those of folder `real` (as pytorch-fid's command line
    compares two folders), with the feature network of `metrics` (a conf/metrics option). Every image is read as RGB,
    centre-cropped to a square and resized to image_size (None: the shorter side of fake's first image); the
    feature networks then resize to their own input (Inception-v3 299 px as TF-FID does, the digit classifier
    28 px). num_fake/num_real None: every image of the folder; n: n of them drawn with seed."""
    seed = IMAGE_SEED if seed is None else seed
    fake_files = choose(folder_images(fake, "fake"), num_fake, seed, "fake")
    real_files = choose(folder_images(real, "real"), num_real, seed, "real")
    size = image_size or first_image_size(fake_files)
    fake_batches = FolderBatches(fake_files, size, 3, None, batch_size)
    real_batches = FolderBatches(real_files, size, 3, None, batch_size)
    plain = metric_values(image_metrics_config(metrics, "metrics="), len(fake_files), len(real_files))
    if fits_to_data(plain):
        raise ConfigError("this metrics= option trains its feature network on a run's labelled data, which fake= "
                          "real= does not have: choose metrics=inception or metrics=digits, or measure a checkpoint "
                          "of that run against the folder (ckpt_path=<ckpt> real=<folder>)")
    results = measure(plain, len(fake_files), len(real_files), seed, batch_size, pick_device(device), real_batches,
                      fake_batches)
    return {"fake": str(Path(fake).expanduser().resolve()), "real": str(Path(real).expanduser().resolve()),
            "real_source": "folder", "image_size": size, "seed": seed, **results, "num_fake": fake_batches.count,
            "num_real": real_batches.count}


IMAGE_SEED = 4321  # the ImageMetrics callback's default seed (gan_zoo.callbacks.image_metrics)


IMAGE_METRICS = ("fid", "kid_mean", "kid_std", "is_mean", "is_std")


def toy_run_refusal(trained: TrainedGAN, asked: str) -> ConfigError:
    """What to say when image metrics are asked of a run on 2-D points."""
    return ConfigError(f"{trained.path} is a toy run (points, not images): {asked} needs images; toy runs get exact W1, "
                       f"modes and precision/recall/density/coverage on coordinates instead (drop {asked})")


def evaluate(trained: TrainedGAN, num_fake: int | None = None, num_real: int | None = None, seed: int | None = None,
             batch_size: int = 250, real: str | Path | None = None, metrics: Any = None) -> dict[str, Any]:
    """Every metric that fits the run's data, with what it was measured on. seed None: the seeds the run's own
    validation used (its data.val_seed on toy data, the image metrics' seed on images), so the numbers of the last
    checkpoint repeat the run's last validation. Images only: `real` a folder whose images replace the run's real
    data, `metrics` a metrics config (a conf/metrics option) replacing the run's own. Stacked digits also get
    their mode coverage (evaluate_stacked; against the run's own data only), and a stacked-digits run trained
    with metrics=none only that."""
    if not trained.is_image and (real is not None or metrics is not None):
        raise toy_run_refusal(trained, "real=" if real is not None else "metrics=")
    datamodule = build_data(trained) if real is None or not trained.is_image else None
    given_seed = seed
    if seed is None:
        seed = IMAGE_SEED if trained.is_image else trained.module.val_seed
    if trained.is_image:
        stacked = isinstance(datamodule, StackedDigitSource)
        results = {}
        if not stacked or metrics is not None or has_image_metrics(trained.config.get("metrics")):
            results = evaluate_images(trained, datamodule, num_fake, num_real, seed, batch_size, real, metrics)
        if stacked:
            results.update(evaluate_stacked(trained, datamodule, num_fake, given_seed))
            if "num_fake" not in results:  # mode coverage only: its noise seed is the one used
                seed = results["stacked_seed"]
    else:
        results = evaluate_toy(trained, datamodule, num_fake, seed)
    return {"ckpt_path": str(trained.path.resolve()), "gen_iter": trained.gen_iter, "ema": trained.uses_ema,
            "seed": seed, **results}


def best_checkpoint(evaluations: list[dict[str, Any]], metric: str, lower_is_better: bool) -> dict[str, Any]:
    """The evaluation with the best finite value of metric (Lucic et al. 2018 report FID as the best over a run's
    checkpoints)."""
    finite = [e for e in evaluations if isinstance(e.get(metric), (int, float)) and math.isfinite(e[metric])]
    if not finite:
        raise ConfigError(f"no checkpoint has a finite {metric}")
    return (min if lower_is_better else max)(finite, key=lambda e: e[metric])
