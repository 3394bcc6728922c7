"""A diverged run is a result, not a crash: its metrics.json records where it diverged.

In a sweep, one point whose loss turns NaN (a learning rate far too high) says something about that point; it
must not stop the other points, nor be trained again by every re-run. So the run writes
`{"diverged": true, "gen_iter": k, "phase": ..., "term": ..., "value": ..., "error": <the NaN guard's line>}`
as its metrics.json (gan_zoo.runtime.metrics_file: the non-finite value is written as null), auto_resume takes
that file as finished, and the sweep report counts the job as a failure of its configuration
(gan_zoo.reporting). Whether the process then stops with exit 3 is `fail_on_divergence`: null (the default)
stops a single run, as a NaN always did, and lets a multirun go on (the job returns NaN to Hydra); true and
false force either.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from gan_zoo.errors import NonFiniteLossError
from gan_zoo.runtime.metrics_file import METRICS_FILE, write_metrics

DIVERGED = "diverged"
log = logging.getLogger(__name__)


def in_multirun() -> bool:
    """True inside a Hydra multirun job (`-m`); False for a single run or without Hydra."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def should_fail(cfg: DictConfig) -> bool:
    """Whether a divergence stops the process with exit 3 (fail_on_divergence; null: only outside a multirun)."""
    policy = cfg.get("fail_on_divergence")
    return (not in_multirun()) if policy is None else bool(policy)


def diverged(metrics: dict[str, Any]) -> bool:
    """Whether a metrics.json's content is a divergence record."""
    return metrics.get(DIVERGED) is True


def record(error: NonFiniteLossError, gen_iter: int, wall_time_s: float) -> dict[str, Any]:
    """What metrics.json says about a run that diverged. gen_iter: the error's (where the bad term came from), else
    where training stood when the NaN guard noticed."""
    value = error.value if isinstance(error.value, float) else None
    return {DIVERGED: True, "gen_iter": gen_iter if error.gen_iter is None else error.gen_iter, "phase": error.phase,
            "term": error.term, "value": value, "error": str(error), "wall_time_s": round(wall_time_s, 3)}


def diverge(cfg: DictConfig, error: NonFiniteLossError, *, gen_iter: int, wall_time_s: float,
            write: bool = True) -> float:
    """Record the divergence in the run folder's metrics.json (when `write`: rank 0 under DDP), then re-raise
    the error if the run should fail, else return NaN as the job's optimized metric."""
    path = Path(cfg.output_dir) / METRICS_FILE
    if write:
        write_metrics(path, record(error, gen_iter, wall_time_s))
    if should_fail(cfg):
        raise error
    log.warning("%s; recorded in %s, going on (fail_on_divergence=true would stop here)", error, path)
    return math.nan


def replay(cfg: DictConfig, metrics: dict[str, Any]) -> float:
    """A re-run of a run that diverged before: not trained again; NaN, or exit 3 again if the run should fail."""
    if should_fail(cfg):
        path = Path(cfg.output_dir) / METRICS_FILE
        raise NonFiniteLossError(f"this run diverged before ({metrics.get('error')}); {path} records it: delete it "
                                 "to train the run again", phase=metrics.get("phase"), term=metrics.get("term"),
                                 value=metrics.get("value"), gen_iter=metrics.get("gen_iter"))
    return math.nan
