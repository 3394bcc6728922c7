"""The training entry point: `python -m gan_zoo.train` or `gan-zoo-train`, configured by Hydra.

Thin on purpose: Hydra composes the config, `gan_zoo.runtime.schema` checks its values, and only then is the
training code (torch, Lightning) imported, so a typo costs a fraction of a second instead of the imports.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import hydra
from omegaconf import DictConfig, open_dict

from gan_zoo.errors import GanZooError
from gan_zoo.runtime import run_folder, run_log, schema, search
from gan_zoo.runtime.command_line import check_jobs
from gan_zoo.runtime.cli import check_group_overrides, check_output_folder, report, user_error

log = logging.getLogger(__name__)


def keep_asked_constant_rates(cfg: DictConfig) -> None:
    """A tuned default (conf/tuned/, e.g. the default job's) may turn the default constant rates into a linear decay
    through lr_scheduler.end_factor; `lr_scheduler=constant` on the command line keeps them constant."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return
    tuned = HydraConfig.get().runtime.choices.get("tuned@_global_")
    if tuned:
        log.info("tuned defaults: conf/tuned/%s.yaml (the command line overrides them)", tuned)
    if "lr_scheduler=constant" in HydraConfig.get().overrides.task:
        with open_dict(cfg):
            cfg.lr_scheduler.end_factor = cfg.lr_scheduler.start_factor


def train(cfg: DictConfig) -> float:
    """Train one configuration (gan_zoo.runtime.fit.train) after checking its values; returns cfg.optimized_metric."""
    keep_asked_constant_rates(cfg)
    schema.validate(cfg)
    search.check_job(cfg)  # a search's trial came from its sweeper (not another one that would train the defaults)
    from gan_zoo.runtime import fit  # the slow imports, once the config is known to be good

    return fit.train(cfg)


@hydra.main(version_base="1.3", config_path="pkg://gan_zoo.conf", config_name="train")
def _hydra_main(cfg: DictConfig) -> Any:
    run_log.capture_warnings()  # Lightning's warnings into train.log as well
    try:
        return train(cfg)
    except KeyboardInterrupt:  # a second Ctrl-C, while the first one's checkpoint was being written
        print("gan_zoo: stopped by a second Ctrl-C: no checkpoint saved for this stop; the previous ones are intact",
              file=sys.stderr, flush=True)
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 - user errors become one line, the rest propagate
        cause = user_error(error)
        if cause is None:
            run_log.traceback_to_log_files(error)
            raise
        report(cause)
        sys.exit(cause.exit_code)


def register_sweeper() -> None:
    """Hydra finds the random-search sweeper (conf/hydra/sweeper/random_search.yaml) by scanning the hydra_plugins
    folders; an editable install (`pip install -e .`, PEP 660 import hooks) has no such folder to scan, so the
    sweeper is registered by hand as well."""
    from hydra.core.plugins import Plugins

    plugins = Plugins.instance()  # Hydra's scan first: importing the module before it would define the class twice
    from hydra_plugins.gan_zoo_random_search.random_search_sweeper import RandomSearchSweeper

    plugins.register(RandomSearchSweeper)


def main() -> None:
    register_sweeper()
    try:
        check_group_overrides(sys.argv[1:])
        check_output_folder(sys.argv[1:])
        check_jobs(sys.argv[1:])  # every job composed and its values checked, before any job runs
        run_folder.hold_requested_folder(sys.argv[1:])  # before Hydra writes into it
    except GanZooError as error:
        report(error)
        sys.exit(error.exit_code)
    _hydra_main()


if __name__ == "__main__":
    main()
