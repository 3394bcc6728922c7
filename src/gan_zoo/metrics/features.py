"""Feature networks for FID/KID/IS that work offline.

torchmetrics accepts any `nn.Module` as its feature extractor. It passes images as uint8 (N, 3, H, W) in
[0, 255] (gan_zoo always feeds them so, as Inception requires), and reads `num_features` if present.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.nn import functional as F

log = logging.getLogger(__name__)

OUTPUTS = ("features", "logits")


def inception_v3(output: str = "2048", weights_path: str | None = None) -> nn.Module:
    """torchmetrics' FID Inception-v3 (the TF-FID port from torch-fidelity) as a feature module.

    output "2048" gives the pool features (FID, KID), "logits_unbiased" the logits (Inception Score).
    weights_path None downloads the weights on first use (cached by torch.hub); on an offline machine point
    it at a copy of pt_inception-2015-12-05-6726825d.pth.
    """
    from torchmetrics.image.fid import NoTrainInceptionV3  # noqa: PLC0415 - needs torch-fidelity

    if weights_path is not None and not Path(weights_path).expanduser().is_file():
        raise FileNotFoundError(f"no Inception weights file at {weights_path}")
    # antialias=False: torch-fidelity's TF1-compatible resize, as in the papers' TF FID/IS (torchmetrics'
    # default, a torch bilinear antialiased resize, gives numbers that do not compare with published ones).
    return NoTrainInceptionV3(name="inception-v3-compat", features_list=[output], antialias=False,
                              feature_extractor_weights_path=None if weights_path is None
                              else str(Path(weights_path).expanduser()))


def _digit_net() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 28 → 14
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 14 → 7
        nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
        nn.Linear(128, 10))


class DigitClassifier(nn.Module):
    """A small CNN trained on scikit-learn's bundled digits (upsampled to 28 px): a domain-specific feature
    network for digit data, available with no download.

    output="features" gives the 128-d penultimate activations (FID, KID); output="logits" the 10 class
    logits (Inception Score). The weights are trained once (seeded, about 10 s on 2 CPU cores) and cached at
    `weights_path`; an existing file is loaded instead.
    """

    def __init__(self, output: str = "features", weights_path: str = "~/.cache/gan_zoo/digit_classifier.pt",
                 train_epochs: int = 10) -> None:
        super().__init__()
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS} (got {output!r})")
        self.output = output
        self.net = _digit_net()
        path = Path(weights_path).expanduser()
        if path.exists():
            self.net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        else:
            accuracy = self._train(train_epochs)
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".tmp")
            torch.save(self.net.state_dict(), temporary)
            temporary.replace(path)  # atomic: a concurrent run never reads half a file
            log.info("trained the digit feature network (held-out accuracy %.3f) and saved it to %s", accuracy, path)
        self.net.eval().requires_grad_(False)
        self.num_features = 128 if output == "features" else 10

    @staticmethod
    def prepare(images: Tensor) -> Tensor:
        """uint8 (N, C, H, W) → float grey (N, 1, 28, 28) in [0, 1]."""
        x = images.float().div(255.0).mean(dim=1, keepdim=True)
        return F.interpolate(x, size=(28, 28), mode="bilinear", antialias=True, align_corners=False)

    def forward(self, images: Tensor) -> Tensor:
        x = self.prepare(images)
        features = self.net[:-1](x)
        return features if self.output == "features" else self.net[-1](features)

    def _train(self, epochs: int) -> float:
        from sklearn.datasets import load_digits  # noqa: PLC0415

        digits = load_digits()
        images = torch.from_numpy(digits.images * (255.0 / 16.0)).round().to(torch.uint8).unsqueeze(1)
        x, y = self.prepare(images), torch.from_numpy(digits.target)
        rng = torch.Generator().manual_seed(0)
        order = torch.randperm(len(x), generator=rng)
        train, test = order[:1500], order[1500:]
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
