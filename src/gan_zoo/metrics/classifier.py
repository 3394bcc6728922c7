"""A small classifier trained on the labels of the run's own training data, as the feature network of FID/KID/IS/PRDC
(`metrics=classifier`).

Inception-v3 features (Heusel et al. 2017 §4; Salimans et al. 2016 §4) were learnt on ImageNet photographs; on
digits, clothes or other small domains a network trained on the data's own classes sees what matters there, as the
pre-trained digit classifier of the Stacked-MNIST mode count does (Metz et al. 2017). The numbers compare only
between runs scored with the same classifier (the same data, so the same cache file), never with Inception FIDs.

- Labels: torchvision's MNIST, Fashion-MNIST and CIFAR-10 targets; scikit-learn's digits' targets; for
  `data=folder`, one sub-folder per class (torchvision ImageFolder's layout: `<path>/<class>/<image>`).
- Training: a seeded conv net (`ConvClassifier`), at most `max_train` images (10,000 by default), a held-out split of
  the labelled images it never trained on for its accuracy. The weights are cached in `cache_dir` under a sha256 of
  the labelled images (their bytes, or the files' bytes for a folder), their labels, image size, channels and the
  training settings, so a second run on the same data loads them instead of training again.
- Features: "features" the 128-d penultimate activations (FID, KID, PRDC), "logits" the class logits (IS).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import pickle
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from gan_zoo.data.image_files import READ_ERRORS, list_images, read_image
from gan_zoo.data.image_sets import Digits, ImageFolder, TorchvisionImages
from gan_zoo.errors import ConfigError, DataError
from gan_zoo.metrics.reference_cache import update_with_tensor

log = logging.getLogger(__name__)

FEATURES = 128
FORMAT = "gan_zoo-classifier-1"  # bump when the network or its training changes
OTHER_METRICS = "or use metrics=inception (or metrics=digits for grey digits)"


class ConvClassifier(nn.Module):
    """Three conv blocks (3×3 conv + ReLU, 2×2 max-pool after the first two), a 2×2 adaptive average pool, a
    128-unit layer (the features) and the class logits. Any image size >= 4 px; inputs above `resolution` px are
    resized down to it first (bilinear, antialiased) to keep training fast on a CPU."""

    def __init__(self, channels: int, num_classes: int, width: int = 16, resolution: int = 32) -> None:
        super().__init__()
        self.resolution = resolution
        self.body = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 4 * width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
            nn.Flatten(), nn.Linear(16 * width, FEATURES), nn.ReLU())
        self.head = nn.Linear(FEATURES, num_classes)

    def features(self, x: Tensor) -> Tensor:
        if x.shape[-1] > self.resolution:
            x = F.interpolate(x, size=(self.resolution, self.resolution), mode="bilinear", antialias=True,
                              align_corners=False)
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


@dataclass
class LabelledImages:
    """The labelled images a classifier is trained and tested on: `labels[i]` the class index of image i, `read`
    the images at given indices (uint8 (n, C, H, W)), `fingerprint` feeds their identity to a hasher."""

    labels: Tensor
    classes: list[str]
    source: str
    images: Tensor | None = None  # in memory (torchvision, digits)
    files: list[Path] | None = None  # a folder (read on demand)
    size: int = 0
    channels: int = 0
    crop: int | None = None

    def read(self, index: Tensor) -> tuple[Tensor, Tensor]:
        """(images, labels) at index; unreadable files (folders) are left out with one counted warning."""
        if self.images is not None:
            return self.images[index], self.labels[index]
        images, kept = [], []
        for i in index.tolist():
            try:
                images.append(read_image(self.files[i], self.size, self.channels, self.crop))
                kept.append(i)
            except READ_ERRORS:
                continue
        if len(kept) < len(index):
            log.warning("metrics=classifier: skipped %d unreadable image file(s) of %d", len(index) - len(kept),
                        len(index))
        if not kept:
            raise DataError(f"none of the {len(index)} labelled images of {self.source} could be read")
        return torch.stack(images), self.labels[torch.tensor(kept)]

    def fingerprint(self, hasher: Any, index: Tensor) -> None:
        update_with_tensor(hasher, self.labels[index])
        if self.images is not None:
            update_with_tensor(hasher, self.images[index])
            return
        hasher.update(f"{self.size} {self.channels} {self.crop}".encode())
        for i in index.tolist():  # the files' bytes: cheaper than decoding them, and any change shows
            try:
                hasher.update(self.files[i].read_bytes())
            except OSError:
                hasher.update(b"unreadable")


def folder_labels(path: Path) -> tuple[list[Path], Tensor, list[str]]:
    """Image files under path with their class: the name of the sub-folder of path that holds each (ImageFolder's
    layout). Images directly in path, or a single class, are a ConfigError."""
    files = list_images(path)
    loose = [f for f in files if len(f.relative_to(path).parts) < 2]
    if loose:
        raise ConfigError(
            f"metrics=classifier needs one sub-folder per class in data.path, but {len(loose)} of the {len(files)} "
            f"images in {path} are in no sub-folder (e.g. {loose[0].name}): move each class's images into "
            f"{path}/<class name>/, {OTHER_METRICS}")
    names = [f.relative_to(path).parts[0] for f in files]
    classes = sorted(set(names))
    if len(classes) < 2:
        raise ConfigError(
            f"metrics=classifier needs at least two classes, but {path} has one sub-folder ({classes[0]}): put each "
            f"class's images in its own sub-folder of {path}, {OTHER_METRICS}")
    lookup = {name: i for i, name in enumerate(classes)}
    return files, torch.tensor([lookup[n] for n in names]), classes


def labelled_images(data: Any) -> LabelledImages:
    """The labelled training images of a gan_zoo image data module (see the module docstring for which)."""
    name = type(data).__name__
    if isinstance(data, TorchvisionImages):
        dataset = data.dataset_class(str(data.root), train=True, download=False)  # opened by the data module already
        return LabelledImages(torch.as_tensor(list(dataset.targets)).long(), list(dataset.classes), name,
                              images=data.load_images())
    if isinstance(data, Digits):
        from sklearn.datasets import load_digits  # noqa: PLC0415 - only this data set needs it

        return LabelledImages(torch.from_numpy(load_digits().target).long(), [str(d) for d in range(10)], name,
                              images=data.load_images())
    if isinstance(data, ImageFolder):
        files, labels, classes = folder_labels(data.path)
        return LabelledImages(labels, classes, str(data.path), files=files, size=data.image_size,
                              channels=data.channels, crop=data.crop())
    raise ConfigError(f"metrics=classifier needs labelled images (MNIST, Fashion-MNIST, CIFAR-10, digits, or a folder "
                      f"with one sub-folder per class); {name} data has no labels: {OTHER_METRICS}")


def _prepare(images: Tensor, channels: int) -> Tensor:
    """uint8 (N, C, H, W) → float in [0, 1] with the classifier's channels (grey: the channels' mean, as gan_zoo
    feeds grey images to the metrics as three equal channels)."""
    x = images.float().div(255.0)
    return x.mean(dim=1, keepdim=True) if channels == 1 and x.shape[1] != 1 else x


class DataClassifier(nn.Module):
    """The feature network of `metrics=classifier`: a ConvClassifier trained on the run's labelled training images.

    Built empty; `fit_to_data(datamodule)` (gan_zoo.callbacks.image_metrics calls it at set-up) loads the cached
    weights for those images or trains them (seeded: the same images give the same weights) and records the held-out
    accuracy in `summary`. `weights_path` set: that classifier file is used as it is, whatever the data.
    forward(uint8 images) returns {"features": (N, 128), "logits": (N, classes)} for SharedFeatures.
    """

    def __init__(self, cache_dir: str = "~/.cache/gan_zoo/classifiers", weights_path: str | None = None,
                 max_train: int = 10000, max_held_out: int = 2000, epochs: int = 3, min_steps: int = 300,
                 batch_size: int = 64, lr: float = 3e-3, width: int = 16, resolution: int = 32, seed: int = 0) -> None:
        super().__init__()
        if max_train < 10 or max_held_out < 10:
            raise ConfigError(f"metrics.features.max_train and max_held_out must be >= 10 (got {max_train}, "
                              f"{max_held_out})")
        self.cache_dir = Path(cache_dir).expanduser()
        self.weights_path = None if weights_path is None else Path(weights_path).expanduser()
        self.settings = {"max_train": max_train, "max_held_out": max_held_out, "epochs": epochs,
                         "min_steps": min_steps, "batch_size": batch_size, "lr": lr, "width": width,
                         "resolution": resolution, "seed": seed}
        self.net: ConvClassifier | None = None
        self.input_shape: tuple[int, int, int] | None = None  # (C, H, W) of the images it was trained on
        self.classes: list[str] = []
        self.num_features: dict[str, int] = {"features": FEATURES, "logits": 0}
        self.summary: dict[str, float] = {}  # logged as val/<key> (gan_zoo.callbacks.image_metrics)
        self.trained = False  # trained in this process (not loaded)
        self.path: Path | None = None

    # ------------------------------------------------------------------------------------------- set-up
    def fit_to_data(self, data: Any) -> None:
        """Load or train the classifier for the data module's labelled training images."""
        if self.weights_path is not None:
            if not self.weights_path.is_file():
                raise ConfigError(f"no classifier file at metrics.weights_path={self.weights_path}: point it at a "
                                  f"file saved by metrics=classifier, or set metrics.weights_path=null to train one")
            self._load(self.weights_path)
            self._announce("loaded")
            return
        labelled = labelled_images(data)
        held, train = self._split(len(labelled.labels))
        hasher = hashlib.sha256(FORMAT.encode())
        hasher.update(json.dumps({"settings": self.settings, "classes": labelled.classes,
                                  "shape": list(data.data_shape)}, sort_keys=True).encode())
        labelled.fingerprint(hasher, train)
        labelled.fingerprint(hasher, held)
        self.path = self.cache_dir / f"{hasher.hexdigest()[:32]}.pt"
        if self.path.is_file() and self._load(self.path, missing_ok=True):
            self._announce("loaded", len(train), len(labelled.labels))
            return
        started = time.perf_counter()
        self._train(labelled, train, held, tuple(data.data_shape))
        self._save(self.path)
        self._announce(f"trained in {time.perf_counter() - started:.1f} s and saved", len(train), len(labelled.labels))

    def check_input(self, shape: tuple[int, ...]) -> None:
        """ConfigError unless the data's images (C, H, W) have the shape the classifier was trained on."""
        if self.input_shape is not None and tuple(shape) != self.input_shape:
            trained, given = "×".join(map(str, self.input_shape)), "×".join(map(str, shape))
            raise ConfigError(
                f"metrics=classifier: the classifier {self.path} was trained on {trained} images and cannot score the "
                f"data's {given} images: set data.channels and data.image_size to {trained}, or "
                f"metrics.weights_path=null to train one on this data")

    def _split(self, total: int) -> tuple[Tensor, Tensor]:
        """(held-out, training) indices of a seeded permutation: a fifth held out (at most max_held_out), at most
        max_train of the rest for training."""
        if total < 20:
            raise ConfigError(f"metrics=classifier needs at least 20 labelled images (got {total}): add images, "
                              f"{OTHER_METRICS}")
        order = torch.randperm(total, generator=torch.Generator().manual_seed(self.settings["seed"]))
        held = min(total // 5, self.settings["max_held_out"])
        return order[:held], order[held: held + self.settings["max_train"]]

    def _train(self, labelled: LabelledImages, train: Tensor, held: Tensor, shape: tuple[int, int, int]) -> None:
        s = self.settings
        x_train, y_train = labelled.read(train)
        x_held, y_held = labelled.read(held)
        channels = shape[0]
        x_train, x_held = _prepare(x_train, channels), _prepare(x_held, channels)
        rng = torch.Generator().manual_seed(s["seed"])
        batches_per_epoch = math.ceil(len(x_train) / s["batch_size"])
        steps = max(s["epochs"] * batches_per_epoch, s["min_steps"])
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(s["seed"])
            net = ConvClassifier(channels, len(labelled.classes), s["width"], s["resolution"])
            optimizer = torch.optim.Adam(net.parameters(), lr=s["lr"])
            done = 0
            while done < steps:
                for batch in torch.randperm(len(x_train), generator=rng).split(s["batch_size"]):
                    loss = F.cross_entropy(net(x_train[batch]), y_train[batch])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    done += 1
                    if done == steps:
                        break
        net.eval().requires_grad_(False)
        with torch.no_grad():
            predicted = torch.cat([net(x).argmax(1) for x in x_held.split(500)])
        self._use(net, shape, labelled.classes, float((predicted == y_held).float().mean()), len(y_held))
        self.trained = True

    def _use(self, net: ConvClassifier, shape: tuple[int, int, int], classes: list[str], accuracy: float,
             held_out: int) -> None:
        self.net, self.input_shape, self.classes = net.eval().requires_grad_(False), shape, classes
        self.num_features = {"features": FEATURES, "logits": len(classes)}
        self.summary = {"classifier_accuracy": accuracy}
        self.held_out = held_out

    # --------------------------------------------------------------------------------------- the file
    def _save(self, path: Path) -> None:
        content = {"format": FORMAT, "state_dict": self.net.state_dict(), "shape": list(self.input_shape),
                   "classes": self.classes, "accuracy": self.summary["classifier_accuracy"],
                   "held_out": self.held_out, "settings": json.dumps(self.settings)}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as file:
                temporary = Path(file.name)
            try:
                torch.save(content, temporary)
                os.replace(temporary, path)  # atomic: a concurrent run never reads half a file
            finally:
                temporary.unlink(missing_ok=True)
        except OSError as error:
            log.warning("metrics=classifier: could not save the classifier to %s (%s); it is trained again next time",
                        path, error)

    def _load(self, path: Path, missing_ok: bool = False) -> bool:
        """Load a saved classifier; a cache file that cannot be read is retrained (missing_ok) with one warning, a
        file the user named is a DataError."""
        try:
            content = torch.load(path, map_location="cpu", weights_only=True)
            if not isinstance(content, dict) or content.get("format") != FORMAT:
                raise ValueError("not a metrics=classifier file")
            settings = json.loads(content["settings"])
            shape = tuple(content["shape"])
            net = ConvClassifier(shape[0], len(content["classes"]), settings["width"], settings["resolution"])
            net.load_state_dict(content["state_dict"])
        except (OSError, RuntimeError, EOFError, ValueError, KeyError, TypeError, pickle.UnpicklingError) as error:
            reason = str(error).splitlines()[0] if str(error) else type(error).__name__
            if not missing_ok:
                raise DataError(f"could not read the classifier file {path} ({reason}); point metrics.weights_path "
                                f"at a file saved by metrics=classifier") from error
            log.warning("metrics=classifier: the cached classifier %s could not be read (%s); training it again",
                        path, reason)
            return False
        self.path = path
        self._use(net, shape, list(content["classes"]), float(content["accuracy"]), int(content["held_out"]))
        return True

    def _announce(self, what: str, train: int | None = None, total: int | None = None) -> None:
        on = "" if train is None else f" on {train:,} of {total:,} labelled images"
        log.info("metrics=classifier: %s a %d-class classifier%s (%s): held-out accuracy %.3f on %d images",
                 what, len(self.classes), on, self.path, self.summary["classifier_accuracy"], self.held_out)

    # --------------------------------------------------------------------------------------- features
    def forward(self, images: Tensor) -> dict[str, Tensor]:
        if self.net is None:
            raise ConfigError("DataClassifier has not been fitted: call fit_to_data(datamodule) first (ImageMetrics "
                              "does at set-up; pass the data module to ImageMetrics.build_metrics)")
        features = self.net.features(_prepare(images, self.input_shape[0]))
        return {"features": features, "logits": self.net.head(features)}
