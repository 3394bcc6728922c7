"""Images per second into FID / KID / IS: gan_zoo's evaluation path against calling torchmetrics directly.

    python benchmarks/metric_throughput.py                                   # CPU, both feature networks
    python benchmarks/metric_throughput.py --inception-weights /path/pt_inception-2015-12-05-6726825d.pth
    python benchmarks/metric_throughput.py --device cuda

- torchmetrics directly: what a training script does, FrechetInceptionDistance / KernelInceptionDistance /
  InceptionScore each built with its own feature network, `metric.update(uint8_images)` on each.
- gan_zoo: the ImageMetrics callback built from the shipped `metrics=` config (one feature network shared by
  the metrics, SharedFeatures), `callback.update(images)` on the generator's float images (the conversion to
  uint8 included; the direct path converts outside the clock).
Generated-image updates on random CIFAR-10-sized (32 px) images in batches of --batch (ImageMetrics' default is
250). Without --inception-weights the Inception has random weights (the same architecture and cost; offline
machines).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.inception import InceptionScore
from torchmetrics.image.kid import KernelInceptionDistance

import gan_zoo  # noqa: F401 - registers the configs' resolvers (min)
from gan_zoo.callbacks import ImageMetrics
from gan_zoo.data.images import to_uint8
from gan_zoo.metrics.features import DigitClassifier, inception_v3, write_untrained_inception_weights

CONF = Path(__file__).resolve().parents[1] / "conf"


def direct_metrics(network: str, weights: str, names: list[str]) -> dict:
    """torchmetrics' own way: every metric with its own feature network."""
    def features(output: str) -> torch.nn.Module:
        if network == "digits":
            return DigitClassifier(output="logits" if output == "logits" else "features", weights_path=weights)
        return inception_v3("logits_unbiased" if output == "logits" else "2048", weights)

    make = {"fid": lambda: FrechetInceptionDistance(feature=features("features"), reset_real_features=False),
            "kid": lambda: KernelInceptionDistance(feature=features("features"), reset_real_features=False),
            "is": lambda: InceptionScore(feature=features("logits"))}
    return {name: make[name]() for name in names}


def gan_zoo_metrics(network: str, weights: str, names: list[str]) -> ImageMetrics:
    config = OmegaConf.create({"metrics": OmegaConf.load(CONF / "metrics" / f"{network}.yaml")}).metrics
    config.weights_path = weights
    callback = ImageMetrics(metrics={n: config.functions[n] for n in names}, features=config.features)
    callback.build_metrics()
    return callback


def images_per_second(update, batches: list[torch.Tensor], device: torch.device) -> float:  # noqa: ANN001
    update(batches[0])  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    started = time.perf_counter()
    for batch in batches:
        update(batch)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return sum(len(b) for b in batches) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--networks", default="digits,inception")
    parser.add_argument("--inception-weights", help="the real Inception weights (default: random weights)")
    parser.add_argument("--digits-images", type=int, default=5000)
    parser.add_argument("--inception-images", type=int, default=250)
    parser.add_argument("--batch", type=int, default=125)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = torch.device(args.device)
    rng = torch.Generator().manual_seed(0)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        weights = {"digits": str(Path(folder) / "digits.pt"),
                   "inception": args.inception_weights or str(write_untrained_inception_weights(
                       Path(folder) / "inception.pth"))}
        DigitClassifier(weights_path=weights["digits"])  # trains and caches it once, outside the clock
        for network in args.networks.split(","):
            count = args.digits_images if network == "digits" else args.inception_images
            generated = (torch.rand(count, 3, 32, 32, generator=rng) * 2 - 1).to(device)
            batches = list(generated.split(args.batch))
            uint8_batches = [to_uint8(b) for b in batches]
            for names in (["fid"], ["fid", "kid", "is"]):
                direct = {k: m.to(device) for k, m in direct_metrics(network, weights[network], names).items()}
                ours = gan_zoo_metrics(network, weights[network], names)
                for metric in ours.metrics.values():
                    metric.to(device)

                def update_direct(batch: torch.Tensor) -> None:
                    for metric in direct.values():
                        if isinstance(metric, InceptionScore):  # generated images only; no `real` argument
                            metric.update(batch)
                        else:
                            metric.update(batch, real=False)

                rates: dict[str, list[float]] = {"direct": [], "gan_zoo": []}
                for _ in range(args.repeats):  # alternating
                    with torch.no_grad():
                        rates["direct"].append(images_per_second(update_direct, uint8_batches, device))
                        rates["gan_zoo"].append(images_per_second(lambda b: ours.update(b, real=False), batches, device))
                    for metric in (*direct.values(), *ours.metrics.values()):
                        metric.reset()
                a, b = statistics.median(rates["direct"]), statistics.median(rates["gan_zoo"])
                label = "Inception-v3 (TF-FID port)" + ("" if args.inception_weights else ", random weights") \
                    if network == "inception" else "digit classifier"
                rows.append(f"| {label} | {' + '.join(n.upper() for n in names)} | {count} | {a:,.0f} | {b:,.0f} | "
                            f"{b / a:.2f} |")
    where = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"Command: `python benchmarks/metric_throughput.py {' '.join(sys.argv[1:])}`  \nMachine: {platform.machine()} "
          f"{where}; generated-image updates, batches of {args.batch}, median of {args.repeats} alternating repetitions.\n")
    print("| feature network | metrics | images | torchmetrics directly (images/s) | gan_zoo ImageMetrics (images/s) "
          "| gan_zoo / direct |\n|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
