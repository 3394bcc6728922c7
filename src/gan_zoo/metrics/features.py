"""Feature networks for FID/KID/IS, one pass per batch for all metrics, and one that works offline.

torchmetrics accepts any `nn.Module` as its feature extractor. It passes images as uint8 (N, 3, H, W) in
[0, 255] (gan_zoo always feeds them so, as Inception requires), and reads `num_features` if present. Given
its own feature network each metric runs the images through it again; `SharedFeatures` runs one network once
per batch and hands each metric its output.
"""

from __future__ import annotations

import logging
import pickle
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from gan_zoo import compat
from gan_zoo.metrics import digit_domain
from gan_zoo.errors import ConfigError, DataError

log = logging.getLogger(__name__)

DIGIT_OUTPUTS = {"features": 128, "logits": 10}
INCEPTION_DIMS = {"64": 64, "192": 192, "768": 768, "2048": 2048, "logits_unbiased": 1008, "logits": 1008}


class SharedFeatures(nn.Module):
    """One feature network for several metrics: `network(images)` returns a dict of named (N, d) outputs (its
    `num_features` maps the names to d); `output(name)` is the module a torchmetrics metric takes as `feature`.

    torchmetrics' FID, KID and IS each call their feature module on the same images tensor; the first call runs
    the network, the others get its cached outputs (the cache holds that tensor, so it cannot be mistaken for a
    new batch allocated at the same address, and checks its version counter against in-place changes).
    """

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        if not isinstance(getattr(network, "num_features", None), Mapping):
            raise ConfigError(
                f"metrics.features must give named outputs (num_features a dict), e.g. DigitClassifier with "
                f"output=all or InceptionV3; {type(network).__name__} gives one")
        self.network = network
        self._input: Tensor | None = None
        self._input_version = -1  # the cached input's version counter when its outputs were computed
        self._outputs: dict[str, Tensor] = {}

    def output(self, name: str) -> nn.Module:
        if name not in self.network.num_features:
            raise ValueError(f"unknown output {name!r}; {type(self.network).__name__} gives "
                             f"{', '.join(self.network.num_features)}")
        return _SharedOutput(self, name)

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        if images is not self._input or compat.tensor_version(images) != self._input_version:
            self._outputs = self.network(images)
            self._input, self._input_version = images, compat.tensor_version(images)
        return self._outputs

    def clear(self) -> None:
        """Drop the cached batch and its outputs (after an evaluation, to free their memory)."""
        self._input, self._outputs = None, {}


class _SharedOutput(nn.Module):
    def __init__(self, shared: SharedFeatures, name: str) -> None:
        super().__init__()
        self.shared, self.name = shared, name
        self.num_features = shared.network.num_features[name]

    def forward(self, images: Tensor) -> Tensor:
        return self.shared(images)[self.name]


class InceptionV3(nn.Module):
    """torchmetrics' FID Inception-v3 (the TF-FID port from torch-fidelity) giving several outputs in one pass:
    "2048" the pool features (FID, KID), "logits_unbiased" the logits (Inception Score), also "64", "192",
    "768", "logits". weights_path None downloads the weights on first use (cached by torch.hub); on an offline
    machine point it at a copy of pt_inception-2015-12-05-6726825d.pth.
    """

    def __init__(self, outputs: Sequence[str] = ("2048", "logits_unbiased"), weights_path: str | None = None) -> None:
        super().__init__()
        unknown = [o for o in outputs if o not in INCEPTION_DIMS]
        if unknown:
            raise ValueError(f"unknown Inception outputs {unknown}; choose from {', '.join(INCEPTION_DIMS)}")
        self.outputs = tuple(outputs)
        self.net = inception_v3(list(self.outputs), weights_path)
        self.num_features = {name: INCEPTION_DIMS[name] for name in self.outputs}

    def check_input(self, shape: tuple[int, ...]) -> None:
        """Any image shape: torch-fidelity's Inception resizes every image to 299 px, grey ones come as RGB."""

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        values = compat.inception_outputs(self.net, images)  # every requested output, one pass
        return {name: value.reshape(len(images), -1) for name, value in zip(self.outputs, values)}


def write_untrained_inception_weights(path: str | Path) -> Path:
    """A weights file for `InceptionV3` with the right architecture and random weights, for timing and for tests on
    machines without the real file (the numbers it gives mean nothing)."""
    from torchmetrics.image.fid import NoTrainInceptionV3  # noqa: PLC0415 - needs torch-fidelity

    class Untrained(NoTrainInceptionV3):
        def load_state_dict(self, *args: object, **kwargs: object) -> None:  # keep the random initialisation
            return None

    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.pth"
        torch.save({}, empty)
        with torch.random.fork_rng():
            torch.manual_seed(0)
            net = Untrained(name="inception-v3-compat", features_list=["2048"], feature_extractor_weights_path=str(empty))
    path = Path(path)
    torch.save(net.state_dict(), path)
    return path


def inception_v3(output: str | list[str] = "2048", weights_path: str | None = None) -> nn.Module:
    """torchmetrics' FID Inception-v3 (the TF-FID port from torch-fidelity) as a torchmetrics feature module.

    output "2048" gives the pool features (FID, KID), "logits_unbiased" the logits (Inception Score); a list
    gives them all (see InceptionV3). weights_path None downloads the weights on first use (cached by torch.hub);
    on an offline machine point it at a copy of pt_inception-2015-12-05-6726825d.pth.
    """
    from torchmetrics.image.fid import NoTrainInceptionV3  # noqa: PLC0415 - needs torch-fidelity

    if weights_path is not None and not Path(weights_path).expanduser().is_file():
        raise FileNotFoundError(f"no Inception weights file at {weights_path}")
    # antialias=False: torch-fidelity's TF1-compatible resize, as in the papers' TF FID/IS (torchmetrics'
    # default, a torch bilinear antialiased resize, gives numbers that do not compare with published ones).
    path = None if weights_path is None else str(Path(weights_path).expanduser())
    try:
        return NoTrainInceptionV3(name="inception-v3-compat", antialias=False, feature_extractor_weights_path=path,
                                  features_list=[output] if isinstance(output, str) else output)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as error:
        if path is None:  # not a file of the user's: let the caller report it
            raise
        raise DataError(f"could not read the Inception weights file {weights_path} ({_load_failure(error)}); "
                        f"replace it with a complete copy of pt_inception-2015-12-05-6726825d.pth") from error


def _load_failure(error: BaseException) -> str:
    """The reason `torch.load` gave, in one line (its weights-only refusal of a non-checkpoint is a paragraph)."""
    if isinstance(error, pickle.UnpicklingError) and "Weights only load failed" in str(error):
        return "not a torch weights file"
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _digit_net() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 28 → 14
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 14 → 7
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
        nn.Linear(128, 10))


DIGIT_TRAIN = 1500  # scikit-learn digits the DigitClassifier trains on; the other 297 are its test digits


def digit_split(total: int = 1797, rng: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """(train, test) indices into scikit-learn's digits as DigitClassifier trains on them: the first permutation
    of `rng` (a generator seeded 0 when None), the first 1,500 for training."""
    order = torch.randperm(total, generator=rng if rng is not None else torch.Generator().manual_seed(0))
    return order[:DIGIT_TRAIN], order[DIGIT_TRAIN:]


class DigitClassifier(nn.Module):
    """A small CNN trained on scikit-learn's bundled digits (upsampled to 28 px): a domain-specific feature
    network for digit data, available with no download.

    output="features" gives the 128-d penultimate activations (FID, KID); output="logits" the 10 class
    logits (Inception Score); output="all" both, as a dict (for SharedFeatures). The weights are trained once
    (seeded, about 10 s on 2 CPU cores) and cached at `weights_path`; an existing file is loaded instead.
    """

    def __init__(self, output: str = "features", weights_path: str = "~/.cache/gan_zoo/digit_classifier.pt",
                 train_epochs: int = 10) -> None:
        super().__init__()
        if output not in (*DIGIT_OUTPUTS, "all"):
            raise ValueError(f"output must be one of {', '.join(DIGIT_OUTPUTS)}, all (got {output!r})")
        self.output = output
        self.net = _digit_net()
        path = Path(weights_path).expanduser()
        if path.exists():
            try:
                self.net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            except (RuntimeError, EOFError, pickle.UnpicklingError) as error:
                raise DataError(f"could not read the digit classifier's weights {path} ({_load_failure(error)}); "
                                f"delete the file and it is trained again") from error
        else:
            accuracy = self._train(train_epochs)
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            torch.save(self.net.state_dict(), temporary)
            temporary.replace(path)  # atomic: a concurrent run never reads half a file
            log.info("trained the digit feature network (held-out accuracy %.3f) and saved it to %s", accuracy, path)
        self.net.eval().requires_grad_(False)
        self.num_features = DIGIT_OUTPUTS if output == "all" else DIGIT_OUTPUTS[output]
        self._domain_checked = False  # the first batch (the real images) is checked to be digits (digit_domain)

    @staticmethod
    def prepare(images: Tensor) -> Tensor:
        """uint8 (N, C, H, W) → float grey (N, 1, 28, 28) in [0, 1]."""
        x = images.float().div(255.0).mean(dim=1, keepdim=True)
        return F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)

    def forward(self, images: Tensor) -> Tensor | dict[str, Tensor]:
        x = self.prepare(images)
        features = self.net[:-1](x)
        if not self._domain_checked:
            self._check_domain(images, features)
        if self.output == "features":
            return features
        logits = self.net[-1](features)
        return {"features": features, "logits": logits} if self.output == "all" else logits

    def check_domain(self, images: Tensor) -> None:
        """Warn once unless the (real) images look like digits (gan_zoo.metrics.digit_domain). forward checks the
        first batch it sees; call this instead when the real features come from a cache (metrics.reference_cache)."""
        with torch.no_grad():
            self._check_domain(images, self.net[:-1](self.prepare(images)))

    def _check_domain(self, images: Tensor, features: Tensor) -> None:
        self._domain_checked = True
        reference = self.net[:-1](self.prepare(digit_domain.bundled_digits()).to(features.device))
        digit_domain.warn_unless_digits(images, features, reference)

    def check_input(self, shape: tuple[int, ...]) -> None:
        """Any image shape: every image is turned grey and resized to 28 px (prepare)."""

    def _train(self, epochs: int) -> float:
        from sklearn.datasets import load_digits  # noqa: PLC0415

        digits = load_digits()
        images = torch.from_numpy(digits.images * (255.0 / 16.0)).round().to(torch.uint8).unsqueeze(1)
        x, y = self.prepare(images), torch.from_numpy(digits.target)
        rng = torch.Generator().manual_seed(0)
        train, test = digit_split(len(x), rng)
        with torch.random.fork_rng():
            torch.manual_seed(0)
            self.net = _digit_net()
            optimizer = torch.optim.Adam(self.net.parameters(), lr=1e-3)
            for _ in range(epochs):
                for batch in torch.randperm(len(train), generator=rng).split(64):
                    index = train[batch]
                    loss = F.cross_entropy(self.net(x[index]), y[index])
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
        with torch.no_grad():
            return float((self.net(x[test]).argmax(1) == y[test]).float().mean())
