"""Turning bad input into one clear line before Hydra or Lightning print a wall of text."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, Override
from hydra.errors import HydraException

from gan_zoo.errors import ConfigError, GanZooError, Interrupted
from gan_zoo.runtime import run_log
from gan_zoo.runtime.framework_errors import framework_error

CONFIG_PACKAGE = "gan_zoo.conf"


def group_options(group: str) -> list[str] | None:
    """The options of a config group shipped with gan_zoo, or None if it is not one of ours."""
    folder = resources.files(CONFIG_PACKAGE)
    for part in group.split("/"):
        folder = folder / part
    if not folder.is_dir():
        return None
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _values(override: Override) -> Iterator[str]:
    value = override.value()
    if isinstance(value, ChoiceSweep):
        yield from (str(v) for v in value.list)
    elif isinstance(value, str):
        yield value


def check_group_overrides(args: Sequence[str]) -> None:
    """Refuse an unknown option of one of our config groups (e.g. objective=wgna), listing the valid ones."""
    overrides = [a for a in args if not a.startswith("-") and "=" in a]
    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException:
        return  # Hydra reports malformed overrides itself
    for override in parsed:
        group = override.key_or_group
        if override.is_delete() or group.startswith("hydra"):
            continue  # Hydra's own groups (launchers, sweepers) span several packages: Hydra checks them
        options = group_options(group)
        if options is None:
            continue
        for value in _values(override):
            if value not in options and value != "null":
                raise ConfigError(f"unknown {group} '{value}'; choose one of: {', '.join(options)}")


def check_output_folder(args: Sequence[str]) -> None:
    """Refuse an output folder that cannot be written (read-only disk, no permission) before Hydra tries to
    create it, which would fail with a traceback. Folders with interpolations are left to Hydra."""
    multirun = any(a in ("-m", "--multirun") for a in args)
    key = "hydra.sweep.dir=" if multirun else "hydra.run.dir="
    given = [a[len(key):] for a in args if a.startswith(key)]
    folder = Path(given[-1]) if given else Path.cwd() / "outputs"
    if "${" in str(folder):
        return
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise ConfigError(f"cannot write the output folder {folder} ({error.strerror or error}): choose a writable "
                          f"place with {key}<folder>") from error


def report(error: BaseException) -> None:
    # A run stopped by a signal after saving a checkpoint did what was asked: a plain line, not an error.
    kind = "" if isinstance(error, Interrupted) else "error: "
    print(f"gan_zoo: {kind}{error}", file=sys.stderr, flush=True)
    run_log.to_log_files(f"gan_zoo: {kind}{error}")  # train.log keeps it too (inside a job)


def user_error(error: BaseException) -> GanZooError | None:
    """The GanZooError behind an exception (Hydra's instantiate wraps constructors' errors), if any; else a
    ConfigError for Hydra's, OmegaConf's or Lightning's error about the input (gan_zoo.runtime.framework_errors)."""
    # Only explicit causes (`raise ... from`, as Hydra's instantiate wraps): an error raised while another was being
    # handled (a full disk while a divergence is recorded) is a new error, not the one it interrupted.
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, GanZooError):
            return seen
        seen = seen.__cause__
    return framework_error(error)
