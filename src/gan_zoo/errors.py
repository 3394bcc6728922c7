"""Errors that gan_zoo reports to the user as one line, without a traceback."""


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
    """A loss term became NaN or Inf during training."""

    exit_code = 3


def require(condition: bool, message: str) -> None:
    """Raise ConfigError(message) unless condition holds."""
    if not condition:
        raise ConfigError(message)
