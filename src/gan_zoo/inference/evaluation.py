"""Evaluating a trained generator after training, from its checkpoint alone.

Toy data: exact W1 to held-out real samples (and its noise floor), mode coverage, and precision/recall/density/
coverage on raw coordinates. Images: the run's own metrics (FID, KID, IS, precision/recall/density/coverage, the
`metrics` config stored in the checkpoint) on `num_fake` generated and `num_real` training images. The real data is
the run's own (rebuilt from the stored `data` config, the same held-out split and reference images as in training).
Each result records the sample counts and the feature network with the SHA-256 of its weights, so a number is never
read without what it was measured with.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from gan_zoo.contracts import HeldOutData, KnownDistribution, ModeMixture
from gan_zoo.errors import ConfigError
from gan_zoo.inference.trained import TrainedGAN
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


def evaluate_images(trained: TrainedGAN, datamodule: Any, num_fake: int | None, num_real: int | None, seed: int,
                    batch_size: int) -> dict[str, Any]:
    """The run's image metrics (its stored `metrics` config), computed as the ImageMetrics callback does."""
    from gan_zoo.callbacks.image_metrics import ImageMetrics

    metrics_config = trained.config.get("metrics")
    if not metrics_config or not metrics_config.get("functions"):
        raise ConfigError(f"{trained.path} was trained without image metrics (metrics=none): nothing to compute")
    plain = OmegaConf.to_container(metrics_config, resolve=True)
    evaluator = ImageMetrics(plain["functions"], plain.get("features"), num_fake=num_fake or plain["num_fake"],
                             num_real=num_real or plain["num_real"], batch_size=batch_size, seed=seed)
    evaluator.build_metrics()
    device = trained.device
    with torch.no_grad(), torch.random.fork_rng(devices=[]):  # KID subsets draw random numbers
        for metric in evaluator.metrics.values():
            metric.to(device)
        for batch in datamodule.real_images(evaluator.num_real, seed=seed).split(batch_size):
            evaluator.update(batch.to(device), real=True)
        for z in trained.noise(evaluator.num_fake, seed).split(batch_size):
            evaluator.update(trained.generate(z), real=False)
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
    results.update(num_fake=evaluator.num_fake, num_real=evaluator.num_real,
                   features=features.get("_target_", "torchmetrics default"),
                   features_sha256=file_sha256(features.get("weights_path")))
    return results


IMAGE_SEED = 4321  # the ImageMetrics callback's default seed (gan_zoo.callbacks.image_metrics)


def evaluate(trained: TrainedGAN, num_fake: int | None = None, num_real: int | None = None, seed: int | None = None,
             batch_size: int = 250) -> dict[str, Any]:
    """Every metric that fits the run's data, with what it was measured on. seed None: the seeds the run's own
    validation used (its data.val_seed on toy data, the image metrics' seed on images), so the numbers of the last
    checkpoint repeat the run's last validation."""
    datamodule = build_data(trained)
    if seed is None:
        seed = IMAGE_SEED if trained.is_image else trained.module.val_seed
    if trained.is_image:
        results = evaluate_images(trained, datamodule, num_fake, num_real, seed, batch_size)
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
