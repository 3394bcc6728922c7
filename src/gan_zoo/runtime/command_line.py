"""Every job of a command line composed and checked before Hydra runs any of them.

`python -m gan_zoo.train ...` composes each job's config here with Hydra's compose API (the same composition
`hydra.main` does, about 0.1 s a job, and no torch) and checks its values (gan_zoo.runtime.schema). Two things
follow that checking inside the job could not give:

- Hydra's own errors (`lipschitz.lamda=1`: "Key 'lamda' is not in struct") are raised here as one ConfigError
  line instead of being printed by `hydra.main` as several lines with exit 1;
- in a `-m` sweep, a bad value of a later job (`seed=0,-1`) stops the sweep before the first job trains.
  The jobs are the product of the sweep's choice and range overrides, as Hydra's basic sweeper forms them
  (hydra/_internal/core_plugins/basic_sweeper.py `split_arguments`, which also composes every job first).

Command lines that only Hydra understands are left to it: its own flags (--cfg, --help, --config-dir, ...), a
sweeper plugin (hydra/sweeper=...) and the sweeps only such a plugin expands (interval(...), glob(...)).
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence

from hydra import compose, initialize_config_module
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

from gan_zoo.errors import ConfigError
from gan_zoo.runtime import schema, search
from gan_zoo.runtime.framework_errors import condense

CONFIG_MODULE = "gan_zoo.conf"
MULTIRUN_FLAGS = ("-m", "--multirun")


def _swept(override: Override) -> list[str] | None:
    """The job overrides one sweep override stands for, or None when only a sweeper plugin can expand it."""
    key = override.get_key_element()
    if not override.is_discrete_sweep():
        return None
    try:
        return [f"{key}={value}" for value in override.sweep_string_iterator()]
    except HydraException:  # glob(...): expanded against the config groups by Hydra's own parser
        return None


def job_overrides(args: Sequence[str]) -> list[list[str]] | None:
    """The overrides of each job the command line asks for (one job without -m), or None where it is Hydra's
    business (its own flags, a sweeper plugin, a sweep that only a plugin expands)."""
    multirun = any(arg in MULTIRUN_FLAGS for arg in args)
    overrides = [arg for arg in args if arg not in MULTIRUN_FLAGS]
    if any(arg.startswith("-") for arg in overrides):
        return None
    if not multirun:
        return [overrides]
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException as error:
        raise ConfigError(condense(error)) from error
    if any(o.key_or_group.startswith(("hydra/sweeper", "hydra.sweeper")) for o in parsed):
        return None
    choices: list[list[str]] = []
    for override in parsed:
        values = _swept(override) if override.is_sweep_override() else [override.input_line]
        if values is None:
            return None
        choices.append(values)
    return [list(job) for job in itertools.product(*choices)]


def _close_keys(overrides: list[str], error: BaseException) -> str:
    """'; did you mean lipschitz.lambda_?' for a key that is not in the config, from the keys beside it."""
    cause = error.__cause__
    full_key = getattr(cause, "full_key", None)
    if not isinstance(cause, (ConfigAttributeError, ConfigKeyError)) or not full_key:
        return ""
    parent, _, name = str(full_key).rpartition(".")
    others = [o for o in overrides if not o.lstrip("+~").startswith(f"{full_key}=")]
    try:
        node = compose("train", overrides=others)
        keys = OmegaConf.select(node, parent) if parent else node
    except (HydraException, OmegaConfBaseException):
        return ""
    if not isinstance(keys, DictConfig):
        return ""
    close = difflib.get_close_matches(name, [str(k) for k in keys], n=3)
    return f"; did you mean {' or '.join(f'{parent}.{k}' if parent else k for k in close)}?" if close else ""


def _compose(overrides: list[str]) -> DictConfig:
    try:
        return compose("train", overrides=overrides)
    except (HydraException, OmegaConfBaseException) as error:
        raise ConfigError(condense(error) + _close_keys(overrides, error)) from error


def check_jobs(args: Sequence[str]) -> None:
    """Compose every job of the command line and check its values; one ConfigError line for the first bad one
    (in a sweep, naming the job and its swept values)."""
    jobs = job_overrides(args)
    if jobs is None:
        return
    with initialize_config_module(CONFIG_MODULE, version_base="1.3"):
        first = _compose(jobs[0])
        if search.is_search(first):  # search=wide: its trials, expanded and checked (gan_zoo.runtime.search)
            search.preflight(args, jobs, first, multirun=any(a in MULTIRUN_FLAGS for a in args))
            return
        fixed = set.intersection(*(set(job) for job in jobs)) if len(jobs) > 1 else set()
        for number, overrides in enumerate(jobs):
            try:
                schema.validate(first if number == 0 else _compose(overrides))
            except ConfigError as error:
                if len(jobs) == 1:
                    raise
                swept = " ".join(o for o in overrides if o not in fixed)
                raise ConfigError(f"{error} (sweep job {number} of {len(jobs)}: {swept})") from error
