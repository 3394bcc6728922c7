"""What a gan_zoo checkpoint holds beside Lightning's own entries, and reading one back.

Keys: the progress counters (generator iteration, critic steps, n_critic phase), every global random state, the
latest generator update's loss terms (logged again on every logging step until the next one), the metrics logged
so far (a run killed after its last checkpoint writes its metrics.json from them), the run's resolved config and
the data shape, so a checkpoint alone rebuilds its module (GANModule.load_from_checkpoint).
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gan_zoo.errors import ConfigError

PROGRESS_KEY = "gan_zoo_progress"
RNG_KEY = "gan_zoo_rng"
CONFIG_KEY = "gan_zoo_config"
DATA_SHAPE_KEY = "gan_zoo_data_shape"
LATEST_GENERATOR_KEY = "gan_zoo_latest_generator"  # the latest generator update's loss terms, re-logged
METRICS_KEY = "gan_zoo_metrics"  # the metrics logged up to this checkpoint (trainer.callback_metrics), as floats


def read_checkpoint(path: str | Path, map_location: Any = "cpu") -> dict[str, Any]:
    """The checkpoint dict at path (tensors only, no pickled code), or one clear ConfigError: missing, truncated,
    not a torch checkpoint, or not written by gan_zoo."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"checkpoint {path} is not a file: point at one, e.g. <run>/checkpoints/last.ckpt")
    # torch.save writes a zip archive whose directory is at the end: a truncated file is not a valid zip.
    if not zipfile.is_zipfile(path):
        raise ConfigError(f"checkpoint {path} is truncated or not a checkpoint: use an earlier one of the same run")
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # noqa: BLE001 - torch's unpickling errors have many types
        raise ConfigError(f"checkpoint {path} cannot be read ({type(error).__name__}): is it a gan_zoo "
                          "checkpoint?") from error
    if not isinstance(checkpoint, dict) or PROGRESS_KEY not in checkpoint or "state_dict" not in checkpoint:
        raise ConfigError(f"{path} is not a gan_zoo checkpoint (no {PROGRESS_KEY} entry): use a file from a run's "
                          "checkpoints/ folder")
    return checkpoint


def rng_states() -> dict[str, Any]:
    """Every global random state a training step can draw from: torch (CPU and CUDA), numpy, python."""
    name, keys, position, has_gauss, gauss = np.random.get_state()
    # Plain tensors and numbers only, so that torch.load(weights_only=True) (Lightning's default) accepts them.
    numpy_state = [name, torch.from_numpy(keys.astype(np.int64)), int(position), int(has_gauss), float(gauss)]
    return {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}


def set_rng_states(states: dict[str, Any]) -> None:
    torch.set_rng_state(states["torch"])
    name, keys, position, has_gauss, gauss = states["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), position, has_gauss, gauss))
    random.setstate(states["python"])
    if states["cuda"] and torch.cuda.is_available():
        # a job requeued on a node with fewer GPUs restores the devices it has
        torch.cuda.set_rng_state_all(states["cuda"][: torch.cuda.device_count()])
