"""What a schema of value rules cannot see, checked after torch is imported and before anything is built.

gan_zoo.runtime.schema checks each value on its own, before torch; these checks need gan_zoo's classes or a file:

- `optimized_metric` names a metric this run logs (gan_zoo.runtime.logged_metrics), else the valid names;
- the checkpoint to resume from was trained with the same objective, Lipschitz strategy, optimizers and nets,
  and has generator iterations left (gan_zoo.runtime.checkpoint_match).

Each raises one ConfigError line (exit 2). Called from gan_zoo.runtime.fit.train once ckpt_path is known (given,
or found by auto_resume).
"""

from __future__ import annotations

from omegaconf import DictConfig

from gan_zoo.errors import ConfigError
from gan_zoo.runtime.checkpoint_match import check_checkpoint
from gan_zoo.runtime.logged_metrics import is_logged


def check_optimized_metric(cfg: DictConfig) -> None:
    logged, names = is_logged(cfg.optimized_metric, cfg)
    if not logged:
        raise ConfigError(f"optimized_metric '{cfg.optimized_metric}' is not logged by this run; choose one of: "
                          f"{', '.join(names)}")


def check(cfg: DictConfig) -> None:
    """Every check of this module; the first problem raises."""
    check_optimized_metric(cfg)
    check_checkpoint(cfg)
