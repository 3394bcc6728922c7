"""Errors that gan_zoo reports to the user as one line, without a traceback."""

from __future__ import annotations


class GanZooError(Exception):
    """Base class: the message says what is wrong and how to fix it."""

    exit_code = 2


class ConfigError(GanZooError, ValueError):
    """A configuration value or combination that cannot work."""


class DataError(GanZooError, OSError):
    """Training data that is missing, empty or unreadable."""


class Interrupted(GanZooError):
    """The run was stopped by a signal (SIGTERM, SIGUSR1) after saving a checkpoint."""

    exit_code = 143  # 128 + SIGTERM, what a shell reports for a terminated process


class NonFiniteLossError(GanZooError, ArithmeticError):
    """A loss term became NaN or Inf during training.

    Besides the message, it says where, so that a sweep job can record its divergence in metrics.json
    (gan_zoo.runtime.divergence) without parsing text: the phase ("critic", "generator", "pretrain"; None when
    another DDP process diverged), the loss term, its value and the generator iteration (None where unknown).
    """

    exit_code = 3

    def __init__(self, message: str, *, phase: str | None = None, term: str | None = None,
                 value: float | None = None, gen_iter: int | None = None) -> None:
        super().__init__(message)
        self.phase, self.term, self.value, self.gen_iter = phase, term, value, gen_iter


class FolderInUseError(GanZooError):
    """A run folder is held by a live run (gan_zoo.runtime.run_folder): two runs would mix their files."""


def require(condition: bool, message: str) -> None:
    """Raise ConfigError(message) unless condition holds."""
    if not condition:
        raise ConfigError(message)
