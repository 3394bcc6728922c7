"""Stacked-digit mode coverage (Metz et al. 2017; VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al.
2018): each channel of an image holds one digit, so C channels give 10^C modes (1,000 for three); a sample's
mode is the digit classifier's label of each channel. Reported: the modes with at least one sample, and
KL(mode histogram ‖ uniform) = Σ_m q_m log(q_m · 10^C) (the KL VEEGAN and PacGAN report beside the modes).

The classifier is gan_zoo.metrics.features.DigitClassifier (scikit-learn's digits, no download), applied to each
channel as a grey image. The KL of an empirical histogram of N samples to the uniform is not 0 even for a perfect
generator: `expected_uniform_kl` gives its value for N uniform draws, `expected_uniform_modes` the modes covered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import Tensor

from gan_zoo.errors import require

if TYPE_CHECKING:
    from gan_zoo.contracts import StackedDigitSource
    from gan_zoo.metrics.features import DigitClassifier

CLASSES = 10  # digits per channel
def classifier_split(total: int = 1797) -> tuple[Tensor, Tensor]:
    """(train, test) indices into scikit-learn's digits as the DigitClassifier splits them
    (gan_zoo.metrics.features.digit_split), so that accuracy measured on the test digits is held out from it."""
    from gan_zoo.metrics.features import digit_split  # noqa: PLC0415 - the feature networks' imports, when needed

    return digit_split(total)


@dataclass(frozen=True)
class StackedModes:
    """Mode statistics of N stacked-digit samples."""

    modes: int  # modes (of CLASSES ** channels) with at least one sample
    kl: float  # KL(mode histogram ‖ uniform), in nats
    num_samples: int


def mode_index(labels: Tensor) -> Tensor:
    """(N, C) digit labels → (N,) mode numbers Σ_c labels[:, c] · 10^(C−1−c) (channel 0 the most significant)."""
    powers = CLASSES ** torch.arange(labels.shape[1] - 1, -1, -1, device=labels.device)
    return (labels.long() * powers).sum(dim=1)


def kl_to_uniform(counts: Tensor) -> float:
    """Σ_m q_m log(q_m · K) for the histogram q = counts / Σ counts over K = len(counts) modes (0 log 0 = 0)."""
    counts = counts.double()
    require(bool(counts.sum() > 0), "kl_to_uniform needs at least one sample")
    q = counts[counts > 0] / counts.sum()
    return float((q * torch.log(q * len(counts))).sum())


def modes_of_labels(labels: Tensor) -> StackedModes:
    """Modes covered and KL to uniform of (N, C) per-channel digit labels."""
    counts = torch.bincount(mode_index(labels).cpu(), minlength=CLASSES ** labels.shape[1])
    return StackedModes(int((counts > 0).sum()), kl_to_uniform(counts), len(labels))


def expected_uniform_modes(n: int, k: int = 1000) -> float:
    """E[modes covered] by n uniform draws over k modes: k (1 − (1 − 1/k)^n)."""
    return k * -math.expm1(n * math.log1p(-1.0 / k))


def expected_uniform_kl(n: int, k: int = 1000) -> float:
    """E[KL(empirical histogram ‖ uniform)] for n uniform draws over k modes: each count c ~ Binomial(n, 1/k), so
    E = k Σ_c P(c) (c/n) log(k c / n). About (k − 1) / (2n) when n ≫ k; 0.0509 nats for n = 10,000, k = 1,000."""
    from scipy.stats import binom  # noqa: PLC0415 - only this reference value needs it

    c = np.arange(1, n + 1)
    p = binom.pmf(c, n, 1.0 / k)
    return float(k * np.sum(p * (c / n) * np.log(k * c / n)))


class StackedModeCounter:
    """Labels each channel of stacked-digit images with a DigitClassifier and counts the modes.

    Images are uint8 in [0, 255] or floats in [−1, 1] (the generators' tanh range), (N, C, H, W) of any size
    (DigitClassifier.prepare resizes each channel to 28 px).
    """

    def __init__(self, classifier: DigitClassifier, batch_size: int = 500) -> None:
        require(batch_size >= 1, f"the stacked-modes batch_size must be >= 1 (got {batch_size})")
        self.classifier, self.batch_size = classifier, batch_size

    @torch.no_grad()
    def labels(self, images: Tensor) -> Tensor:
        """(N, C, H, W) images → (N, C) digit labels, each channel classified as a grey digit."""
        if images.is_floating_point():  # [−1, 1] → [0, 255], as gan_zoo.data.images.to_uint8
            images = images.float().add_(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)
        n, c, h, w = images.shape
        # Each distinct channel image once: real stacks repeat a few hundred digits (10,000 real stacks of the 297
        # held-out digits: 30,000 channels, 297 passes instead of 30,000); distinct generated ones cost one sort.
        unique, inverse = torch.unique(images.reshape(n * c, h * w), dim=0, return_inverse=True)
        network = self.classifier.net.to(images.device)
        # Its logits directly, without DigitClassifier.forward's check that real FID references look like digits.
        predicted = torch.cat([network(self.classifier.prepare(batch.view(-1, 1, h, w))).argmax(dim=1)
                               for batch in unique.split(self.batch_size)])
        return predicted[inverse].view(n, c).cpu()

    def __call__(self, images: Tensor) -> StackedModes:
        return modes_of_labels(self.labels(images))


def real_reference(counter: StackedModeCounter, data: StackedDigitSource, num_samples: int, seed: int,
                   device: Any = "cpu") -> dict[str, float]:
    """What the data itself scores, measured as generated samples are: `stacked_modes_real` and `stacked_kl_real`
    of num_samples held-out stacks (drawn with seed), `stacked_kl_uniform` (E[KL] of as many uniform draws, the
    floor), the classifier's accuracy on each channel of those stacks (`stacked_channel_accuracy_<c>`) and on all
    three at once (`stacked_mode_accuracy`), and `stacked_num_samples`."""
    images, truth = data.held_out_stacks(num_samples, seed)
    predicted = counter.labels(images.to(device))
    right = predicted == truth
    real = modes_of_labels(predicted)
    reference = {"stacked_modes_real": float(real.modes), "stacked_kl_real": real.kl,
                 "stacked_kl_uniform": expected_uniform_kl(num_samples, CLASSES ** truth.shape[1]),
                 "stacked_mode_accuracy": float(right.all(dim=1).double().mean()),
                 "stacked_num_samples": float(num_samples)}
    for channel, accuracy in enumerate(right.double().mean(dim=0).tolist()):
        reference[f"stacked_channel_accuracy_{channel}"] = accuracy
    return reference


def generated_modes(counter: StackedModeCounter, generate: Callable[[Tensor], Tensor], noise: Tensor,
                    batch_size: int) -> dict[str, float]:
    """`stacked_modes` and `stacked_kl` of the images `generate` makes from noise, batch_size vectors at a time."""
    labels = torch.cat([counter.labels(generate(z)) for z in noise.split(batch_size)])
    fake = modes_of_labels(labels)
    return {"stacked_modes": float(fake.modes), "stacked_kl": fake.kl}
