"""What the reference-statistics cache (metrics.reference_cache) and the classifier cache (metrics=classifier) save.

    python benchmarks/reference_cache.py                       # metrics=digits and metrics=classifier on data=digits
    python benchmarks/reference_cache.py --inception 128       # also the untrained-Inception path, 128 real images

For each metrics config, on scikit-learn's digits (28 px grey; ImageMetrics feeds them as RGB):
- set-up: ImageMetrics.build_metrics (the feature network and metrics; metrics=classifier cold: trains the classifier,
  warm: loads it from its cache);
- first validation: the real images' states (computed; or, with the cache, loaded) plus num_fake generated images
  (real digits stand in for them) and compute();
- later validation: generated images and compute() only (the real states are kept in memory either way).
"without" has metrics.reference_cache=null; "cold" an empty cache folder (compute and write); "warm" the folder the
cold run wrote. The numbers are checked to be equal in all three.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf

import gan_zoo  # noqa: F401 - registers the configs' resolvers (min)
from gan_zoo.callbacks import ImageMetrics
from gan_zoo.data import Digits
from gan_zoo.metrics.features import write_untrained_inception_weights

CONF = Path(__file__).resolve().parents[1] / "conf"


def _config(name: str, num_real: int, num_fake: int, overrides: dict) -> dict:
    config = OmegaConf.create({"metrics": OmegaConf.load(CONF / "metrics" / f"{name}.yaml")})
    config.metrics.num_fake, config.metrics.num_real = num_fake, num_real
    config.merge_with({"metrics": overrides})
    return OmegaConf.to_container(config, resolve=True)["metrics"]


def _validation(metrics: ImageMetrics, real: torch.Tensor | None, fake: torch.Tensor) -> dict[str, object]:
    if real is not None:
        metrics.add_real_images(real)
    for metric in metrics.metrics.values():
        metric.reset()
    for batch in fake.split(metrics.batch_size):
        metrics.update(batch, real=False)
    torch.manual_seed(0)
    return {name: metric.compute() for name, metric in metrics.metrics.items()}


def measure(name: str, data: Digits, num_real: int, num_fake: int, overrides: dict, cache: Path | None,
            repeats: int) -> tuple[float, float, float, dict]:
    config = _config(name, num_real, num_fake, overrides)
    real, fake = data.real_images(num_real, seed=4321), data.real_images(num_fake, seed=1)
    started = time.perf_counter()
    metrics = ImageMetrics(config["functions"], config["features"], num_fake=num_fake, num_real=num_real,
                           reference_cache=None if cache is None else str(cache))
    metrics.build_metrics(data)
    setup = time.perf_counter() - started
    started = time.perf_counter()
    values = _validation(metrics, real, fake)
    first = time.perf_counter() - started
    later = []
    for _ in range(repeats):
        started = time.perf_counter()
        _validation(metrics, None, fake)
        later.append(time.perf_counter() - started)
    return setup, first, statistics.median(later), values


def _same(a: dict, b: dict) -> bool:
    return all(str(a[k]) == str(b[k]) for k in a)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-real", type=int, default=1500)
    parser.add_argument("--num-fake", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--inception", type=int, default=0, help="real (and generated) images for the untrained "
                        "Inception (0: skip; it is slow on a CPU)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = Digits(val_size=297)
    data.setup()
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, {args.threads} thread(s)")
    print("| metrics | num_real / num_fake | cache | set-up (s) | first validation (s) | later validation (s) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        runs = [("digits", args.num_real, args.num_fake, {}),
                ("classifier", args.num_real, args.num_fake, {"classifier_cache": str(root / "classifiers")})]
        if args.inception:
            weights = write_untrained_inception_weights(root / "inception.pth")
            runs.append(("inception", args.inception, args.inception, {"weights_path": str(weights)}))
        for name, num_real, num_fake, overrides in runs:
            results = {}
            for label, cache in (("without", None), ("cold", root / f"reference_{name}"),
                                 ("warm", root / f"reference_{name}")):
                setup, first, later, values = measure(name, data, num_real, num_fake, overrides, cache, args.repeats)
                results[label] = values
                what = label if name != "classifier" or label != "without" else "without (classifier trained)"
                print(f"| {name} | {num_real} / {num_fake} | {what} | {setup:.2f} | {first:.2f} | {later:.2f} |",
                      flush=True)
            same = _same(results["without"], results["cold"]) and _same(results["without"], results["warm"])
            print(f"|  |  | equal numbers: {same} |  |  |  |")


if __name__ == "__main__":
    main()
