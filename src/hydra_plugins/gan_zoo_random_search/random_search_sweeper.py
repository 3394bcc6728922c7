"""The sweeper of `python -m gan_zoo.train -m search=wide ...` (conf/hydra/sweeper/random_search.yaml, the default).

Without a search (search=none) it is Hydra's basic sweeper: the product of the sweep overrides. With one, each
trial t of the search is job t, whose overrides gan_zoo.runtime.search.expand makes from (search.seed, t); the
configured launcher (basic, local, SLURM) runs them like any other sweep's jobs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Hydra's basic sweeper is only in its _internal package; gan_zoo.compat (the home of private names) imports torch,
# which every command would then pay for: Hydra imports every hydra_plugins module at start.
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from omegaconf import OmegaConf


class RandomSearchSweeper(BasicSweeper):
    """Hydra's BasicSweeper, or the trials of the config's search (Lucic et al. 2018: random search over a
    space, trial 0 = the defaults) in batches of max_batch_size, job number = trial number."""

    def sweep(self, arguments: list[str]) -> Any:
        assert self.config is not None and self.launcher is not None
        # Imported here, not at the top: Hydra imports every hydra_plugins module when any Hydra app starts, and
        # importing gan_zoo registers its config resolvers.
        from gan_zoo.runtime import search
        if not search.is_search(self.config):
            return super().sweep(arguments)
        trials = search.expand(arguments, self.config)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        search.check_record(sweep_dir, self.config)
        search.write_record(sweep_dir, self.config)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        self.overrides = list(BasicSweeper.split_overrides_to_chunks(trials, self.max_batch_size))
        returns = []
        first = 0
        while not self.is_done():
            batch = self.get_job_batch()
            results = self.launcher.launch(batch, initial_job_idx=first)
            for result in results:
                _ = result.return_value  # raises for a failed job, as Hydra's basic sweeper does
            first += len(batch)
            returns.append(results)
        return returns
