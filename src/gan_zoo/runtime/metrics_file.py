"""metrics.json: a run's final metrics, as valid JSON.

The format: one JSON object, keys sorted, written atomically (a temporary file renamed over the target) when a
run ends (gan_zoo.runtime.fit; rank r > 0 of a DDP run writes metrics.rank<r>.json beside it):

    {"critic_steps": 12, "gen_iter": 4, "non_finite": {"val/critic_over_w1": "nan"},
     "train/critic_loss": -0.03, ..., "val/critic_over_w1": null, "val/w_estimate": 0.03, "wall_time_s": 9.2}

- every metric the run logged (its last value), by its logged name, as a number;
- `gen_iter` (generator iterations done), `critic_steps` (critic updates, pre-training included), `wall_time_s`;
- a run that diverged also records where (gan_zoo.runtime.divergence);
- JSON has no NaN or infinity (Python's json module writes bare `NaN`, which other JSON readers reject): a
  non-finite value is written as null, and its key is listed under "non_finite" with what it was ("nan", "inf",
  "-inf"), so nothing is lost.

Every gan_zoo reader goes through `read_metrics` (NaN and ±inf restored; a truncated or non-object file is one
DataError line) or `from_json` (gan_zoo.reporting.runs, which reports an unreadable file instead of stopping).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from gan_zoo.errors import DataError

METRICS_FILE = "metrics.json"
NON_FINITE_KEY = "non_finite"


def to_json(metrics: dict[str, Any]) -> dict[str, Any]:
    """metrics with every non-finite float replaced by null, and listed under "non_finite"."""
    clean: dict[str, Any] = {}
    non_finite: dict[str, str] = {}
    for key, value in metrics.items():
        if isinstance(value, float) and not math.isfinite(value):
            non_finite[key] = str(value)
            value = None
        clean[key] = value
    if non_finite:
        clean[NON_FINITE_KEY] = non_finite
    return clean


def from_json(data: dict[str, Any]) -> dict[str, Any]:
    """The inverse of to_json: nulls listed under "non_finite" become their float again."""
    non_finite = data.get(NON_FINITE_KEY) or {}
    restored = {key: value for key, value in data.items() if key != NON_FINITE_KEY}
    for key, text in non_finite.items():
        restored[key] = float(text)
    return restored


def write_metrics(path: str | Path, metrics: dict[str, Any]) -> Path:
    """Write metrics as valid JSON, atomically (a temporary file in the same folder, renamed over the target)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(to_json(metrics), indent=2, sort_keys=True, allow_nan=False) + "\n"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def read_metrics(path: str | Path) -> dict[str, Any]:
    """The metrics a metrics.json holds (non-finite values restored), or one DataError line saying what is wrong."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except ValueError as error:
        raise DataError(f"{path} is not valid JSON ({error}): the run did not finish writing it; delete it to train "
                        "the run again (auto_resume continues from its last checkpoint)") from error
    if not isinstance(data, dict):
        raise DataError(f"{path} is not a JSON object: delete it to train the run again")
    return from_json(data)
