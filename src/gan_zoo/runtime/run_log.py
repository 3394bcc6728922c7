"""A run's `train.log` holds what the run printed, errors included.

Hydra's job logging (hydra/conf/hydra/job_logging/default.yaml, kept by conf/hydra/default.yaml) gives the root
logger a console handler and a file handler writing `<run folder>/<job name>.log`; Lightning's and gan_zoo's
log records reach both. Three things do not go through logging, and are added here:

- gan_zoo's one-line errors, which `gan_zoo.runtime.cli.report` prints to stderr itself: written to the log
  files only (`to_log_files`), so the console does not show them twice;
- a traceback (a bug, not bad input), which Hydra prints: the same, into the log files only;
- Python warnings (Lightning's `rank_zero_warn`, torch's): `capture_warnings` routes them through logging,
  so they reach the console and the file alike.

Outside a job (the checks in `gan_zoo.train.main` before Hydra starts) there is no log file, and no run folder
either: nothing is written.
"""

from __future__ import annotations

import logging
import traceback

LOGGER = "gan_zoo"


def _file_handlers() -> list[logging.FileHandler]:
    return [h for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]


def to_log_files(message: str, level: int = logging.ERROR) -> None:
    """Write message to every log file of the root logger (the run's train.log), and nowhere else."""
    handlers = _file_handlers()
    if not handlers:
        return
    record = logging.getLogger(LOGGER).makeRecord(LOGGER, level, __file__, 0, message, None, None)
    for handler in handlers:
        if record.levelno >= handler.level:
            handler.handle(record)


def traceback_to_log_files(error: BaseException) -> None:
    """The traceback Hydra is about to print, into the log files too."""
    to_log_files("".join(traceback.format_exception(error)).rstrip())


def capture_warnings() -> None:
    """Python warnings go through logging from now on (the console and train.log)."""
    logging.captureWarnings(True)
