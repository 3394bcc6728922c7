"""Is the digit feature network (`metrics=digits`) looking at digits? One warning when it is not.

The DigitClassifier was trained on scikit-learn's grey 8×8 digits; on other data its FID still gives a number
(RGB noise against RGB noise scored 30.8) that means nothing. Two tests on the real reference images, the first
batch it sees (gan_zoo.callbacks.image_metrics feeds the real images before any generated one):

- colour: the images come in as RGB (gan_zoo.callbacks.image_metrics `_as_rgb`); grey images have three equal
  channels;
- distance: d = mean over the 128 penultimate features of ((m_j − μ_j) / σ_j)², m the batch's mean feature, μ and
  σ the bundled digits' mean and standard deviation. Measured (250 images each): bundled digits 0.003 (64
  images: 0.004; 32 px RGB-grey: 0.003), digits dilated by a 3×3 max-pool 0.069; smoothed grey noise 0.35, RGB
  noise 0.59, grey noise 0.89, inverted digits 3.2. The threshold 0.15 is 2× above dilated digits and 2.3×
  below the closest noise.

The classifier's own confidence does not tell them apart: its mean top softmax probability is 0.98 on digits and
0.97 on RGB noise (a CNN is over-confident off its training data).
"""

from __future__ import annotations

import logging

import torch
from torch import Tensor

log = logging.getLogger(__name__)

DISTANCE_THRESHOLD = 0.15


def bundled_digits() -> Tensor:
    """scikit-learn's digits as uint8 (N, 1, 8, 8), grey levels 0–16 scaled to 0–255."""
    from sklearn.datasets import load_digits  # noqa: PLC0415 - only the digit network needs it

    return torch.from_numpy(load_digits().images * (255.0 / 16.0)).round().to(torch.uint8).unsqueeze(1)


def feature_distance(features: Tensor, reference: Tensor) -> float:
    """mean_j ((m_j − μ_j) / σ_j)² for the mean features m of `features` and μ, σ of `reference` (both (N, F))."""
    reference = reference.double()
    mean, std = reference.mean(0), reference.std(0) + 1e-6
    return float((((features.double().mean(0) - mean) / std) ** 2).mean())


def is_grey(images: Tensor) -> bool:
    return images.shape[1] == 1 or bool((images == images[:, :1]).all())


def problems(images: Tensor, features: Tensor, reference: Tensor) -> list[str]:
    """Why `images` (uint8 (N, C, H, W)) with digit features `features` do not look like the bundled digits."""
    found = [] if is_grey(images) else ["in colour"]
    distance = feature_distance(features, reference)
    if distance > DISTANCE_THRESHOLD:
        found.append(f"far from the digits it was trained on (feature distance {distance:.2f} > {DISTANCE_THRESHOLD})")
    return found


def warn_unless_digits(images: Tensor, features: Tensor, reference: Tensor) -> None:
    found = problems(images, features, reference)
    if found:
        log.warning("metrics=digits: the real images are %s; a digit classifier's FID/KID/IS say little about "
                    "them: use metrics=inception for data that is not grey digits", " and ".join(found))
