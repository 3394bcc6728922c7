"""Composing one of gan_zoo's configs from command-line overrides with Hydra's compose API, for the commands that
need no output folder of Hydra's own (sample, evaluate). Hydra's errors become one ConfigError line."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from hydra import compose, initialize_config_module
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from gan_zoo.errors import ConfigError
from gan_zoo.runtime.cli import report, user_error
from gan_zoo.runtime.framework_errors import condense
from gan_zoo.runtime.schema import Rule, validate

Result = TypeVar("Result")

CONFIG_MODULE = "gan_zoo.conf"


def compose_config(name: str, overrides: Sequence[str]) -> DictConfig:
    """conf/<name>.yaml with `key=value` overrides; every mandatory value (???) must be given."""
    try:
        with initialize_config_module(CONFIG_MODULE, version_base="1.3"):
            cfg = compose(name, overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as error:
        raise ConfigError(condense(error)) from error
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise ConfigError(f"{', '.join(missing)} must be given, e.g. {missing[0]}=<value> (python -m gan_zoo.{name} "
                          f"{' '.join(f'{k}=...' for k in missing)})")
    return cfg


def run_command(name: str, rules: Sequence[Rule], action: Callable[[DictConfig], Result],
                argv: Sequence[str] | None = None) -> tuple[DictConfig, Result]:
    """Compose conf/<name>.yaml from argv, check it against rules (before anything heavy is imported), run action on
    it; a user error ends the process with one `gan_zoo: error:` line and its exit code."""
    try:
        cfg = compose_config(name, list(sys.argv[1:] if argv is None else argv))
        validate(cfg, tuple(rules))
        return cfg, action(cfg)
    except Exception as error:  # noqa: BLE001 - user errors become one line, the rest propagate
        cause = user_error(error)
        if cause is None:
            raise
        report(cause)
        sys.exit(cause.exit_code)
