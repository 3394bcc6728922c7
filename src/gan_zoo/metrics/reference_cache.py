"""Real-image reference statistics computed once and kept on disk, for later validations, runs and evaluations.

FID (Heusel et al. 2017, eq. 6) needs the real features' mean and covariance, which torchmetrics keeps as the sums
`real_features_sum`, `real_features_cov_sum` and `real_features_num_samples`; KID (Bińkowski et al. 2018, eq. 3) and
precision/recall/density/coverage (gan_zoo.metrics.prdc) keep the real features themselves (`real_features`).
Those states depend only on the real images, the feature network and the metric, so they are saved once under a key
that hashes all of them (`reference_key`) and put back into the metrics instead of running the feature network over
the real images again (gan_zoo.callbacks.image_metrics).

A file that cannot be read, or whose states do not fit the metrics, is recomputed with one warning; files are
written to a temporary name and renamed, so a concurrent run never reads half a file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torchmetrics import Metric

log = logging.getLogger(__name__)

FORMAT = "gan_zoo-reference-stats-1"  # bump when what a file holds changes
REAL_PREFIX = "real_"  # torchmetrics' (and gan_zoo's PRDC) real-side states: real_features, real_features_sum, ...

States = dict[str, dict[str, Any]]  # metric name → state name → tensor or list of tensors


def update_with_tensor(hasher: Any, tensor: Tensor) -> None:
    """Feed a tensor's dtype, shape and bytes (whatever its dtype or device) to a hashlib object."""
    tensor = tensor.detach().cpu().contiguous()
    hasher.update(f"{tensor.dtype}{tuple(tensor.shape)}".encode())
    hasher.update(tensor.reshape(-1).view(torch.uint8).numpy())


def weights_digest(modules: Iterable[nn.Module]) -> str:
    """sha256 of the parameters and buffers of the modules (each tensor once, however many modules share it)."""
    hasher, seen = hashlib.sha256(), set()
    for module in modules:
        for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
            if id(tensor) in seen:
                continue
            seen.add(id(tensor))
            hasher.update(name.encode())
            update_with_tensor(hasher, tensor)
    return hasher.hexdigest()


def reference_key(real: Tensor, description: Mapping[str, Any]) -> str:
    """sha256 of the real images (their bytes) and of everything else the real states depend on (`description`:
    the metrics and their configs, the feature network's weights digest, batch size, device, library versions)."""
    hasher = hashlib.sha256(FORMAT.encode())
    hasher.update(json.dumps(description, sort_keys=True, default=str).encode())
    update_with_tensor(hasher, real)
    return hasher.hexdigest()


def real_states(metrics: Mapping[str, Metric]) -> States:
    """The real-side states of every metric, on the CPU (metrics without any, e.g. the Inception Score, are left
    out)."""
    out: States = {}
    for name, metric in metrics.items():
        states = {key: value for key, value in metric.metric_state.items() if key.startswith(REAL_PREFIX)}
        if states:
            out[name] = {key: [t.detach().cpu() for t in value] if isinstance(value, list) else value.detach().cpu()
                         for key, value in states.items()}
    return out


def _fits(current: Any, saved: Any) -> bool:
    if isinstance(current, list):
        return isinstance(saved, list) and all(isinstance(t, Tensor) for t in saved)
    return isinstance(saved, Tensor) and saved.shape == current.shape and saved.dtype == current.dtype


def restore(metrics: Mapping[str, Metric], saved: States) -> bool:
    """Put saved real states back into the metrics (on each metric's device); False (and nothing changed) when they
    do not fit: other metric names, state names, shapes or dtypes."""
    expected = {name: {key: value for key, value in metric.metric_state.items() if key.startswith(REAL_PREFIX)}
                for name, metric in metrics.items()}
    expected = {name: states for name, states in expected.items() if states}
    if not isinstance(saved, Mapping) or set(saved) != set(expected):
        return False
    for name, states in expected.items():
        if not isinstance(saved[name], Mapping) or set(saved[name]) != set(states):
            return False
        if not all(_fits(states[key], saved[name][key]) for key in states):
            return False
    for name, states in expected.items():
        metric = metrics[name]
        for key, current in states.items():
            value = saved[name][key]
            if isinstance(current, list):
                setattr(metric, key, [t.to(metric.device) for t in value])
            else:
                setattr(metric, key, value.to(metric.device).clone())  # updated in place later: not the cached one
    return True


def load(path: Path) -> States | None:
    """The states saved at path; None when there is no file, or (with one warning) when it cannot be read."""
    if not path.is_file():
        return None
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(content, Mapping) or content.get("format") != FORMAT:
            raise ValueError("not a reference-statistics file")
        return content["states"]
    except (OSError, RuntimeError, EOFError, ValueError, KeyError, pickle.UnpicklingError) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        log.warning("the reference statistics %s could not be read (%s); computing them again", path, reason)
        return None


def save(path: Path, states: States, description: Mapping[str, Any]) -> None:
    """Write the states atomically (temporary file + rename); a folder that cannot be written is one warning."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, suffix=".tmp", delete=False) as file:
            temporary = Path(file.name)
        try:
            torch.save({"format": FORMAT, "description": json.dumps(description, sort_keys=True, default=str),
                        "states": states}, temporary)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as error:
        log.warning("could not save the reference statistics to %s (%s); they are computed again next time",
                    path, error)
