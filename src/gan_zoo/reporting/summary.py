"""Grouping a multirun's finished jobs over their seeds, and each metric's mean ± sample standard deviation."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gan_zoo.errors import ConfigError
from gan_zoo.reporting.runs import METRICS_FILE, Job, NothingFinishedError, read_jobs

SEED = "seed"
BOOKKEEPING = ("gen_iter", "critic_steps", "wall_time_s")
DEFAULT_VALUE = "(default)"  # shown for a job that does not override a parameter other jobs override


@dataclass(frozen=True)
class Summary:
    """Mean and sample standard deviation of one metric over a group (`sd` None for a single value)."""

    mean: float
    sd: float | None
    count: int  # how many runs had a (non-NaN) value


@dataclass(frozen=True)
class Group:
    """The finished runs that share every swept value (they differ at most in their seed), and those of the same
    values that diverged: failures of this configuration, counted but never averaged."""

    values: tuple[str, ...]  # one raw override value per swept parameter
    jobs: tuple[Job, ...]
    diverged: tuple[Job, ...] = ()

    @property
    def n(self) -> int:
        return len(self.jobs)

    @property
    def attempted(self) -> int:
        """The runs that got a result: finished or diverged."""
        return len(self.jobs) + len(self.diverged)

    def summary(self, metric: str) -> Summary:
        return summarise([job.metrics.get(metric, math.nan) for job in self.jobs if job.metrics is not None])


@dataclass(frozen=True)
class Report:
    """Everything the table, the CSV and the plots show."""

    folder: Path
    parameters: tuple[str, ...]  # swept, in the order they first appear in the overrides
    metrics: tuple[str, ...]  # the table's and the CSV's columns
    plotted: tuple[str, ...]  # the metrics that get a plot
    groups: tuple[Group, ...]  # sorted by their swept values
    unfinished: tuple[Job, ...]
    diverged: tuple[Job, ...] = ()


def swept_parameters(jobs: Sequence[Job]) -> list[str]:
    """Override keys whose values differ between jobs (a key some jobs lack counts as differing), except seed."""
    keys = list(dict.fromkeys(key for job in jobs for key in job.overrides))
    return [key for key in keys if key != SEED and len({job.overrides.get(key) for job in jobs}) > 1]


def as_number(value: str) -> float | None:
    """The value as a float, or None if it is not a number."""
    try:
        return float(value)
    except ValueError:
        return None


def is_numeric(values: Iterable[str]) -> bool:
    return all(as_number(v) is not None for v in values)


def sort_key(value: str, numeric: bool) -> tuple:
    """Order numbers by value (NaN last), everything else as text."""
    if numeric:
        number = float(value)
        return (math.isnan(number), number)
    return (False, value)


def group_jobs(jobs: Sequence[Job], parameters: Sequence[str]) -> list[Group]:
    """The finished and the diverged jobs grouped by their swept values, sorted by those values (numerically where
    possible)."""
    grouped: dict[tuple[str, ...], list[Job]] = {}
    for job in jobs:
        if job.finished or job.diverged:
            grouped.setdefault(tuple(job.overrides.get(p, DEFAULT_VALUE) for p in parameters), []).append(job)
    numeric = [is_numeric(values[i] for values in grouped) for i in range(len(parameters))]
    order = sorted(grouped, key=lambda values: tuple(sort_key(v, num) for v, num in zip(values, numeric)))
    return [Group(values, tuple(j for j in grouped[values] if j.finished),
                  tuple(j for j in grouped[values] if j.diverged)) for values in order]


def summarise(values: Iterable[float]) -> Summary:
    """Mean and sample standard deviation of the values that are not NaN (sd None for one value)."""
    kept = [v for v in values if not math.isnan(v)]
    if not kept:
        return Summary(math.nan, None, 0)
    mean = statistics.fmean(kept)
    if len(kept) == 1:
        return Summary(mean, None, 1)
    sd = statistics.stdev(kept) if all(math.isfinite(v) for v in kept) else math.nan
    return Summary(mean, sd, len(kept))


def available_metrics(jobs: Iterable[Job]) -> list[str]:
    """Every numeric key of the finished jobs' metrics.json: the validation metrics (val/...) first, then the
    others (training losses), each sorted, then the bookkeeping keys."""
    present = {key for job in jobs if job.metrics is not None for key in job.metrics}
    validation = sorted(key for key in present if key.startswith("val/"))
    others = sorted(present - set(validation) - set(BOOKKEEPING))
    return validation + others + [key for key in BOOKKEEPING if key in present]


def choose_metrics(available: Sequence[str], requested: Sequence[str] | None) -> tuple[list[str], list[str]]:
    """(table columns, plotted metrics): everything (bookkeeping not plotted), or exactly the requested ones."""
    if not requested:
        return list(available), [m for m in available if m not in BOOKKEEPING]
    unknown = [m for m in requested if m not in available]
    if unknown:
        raise ConfigError(f"unknown metric{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                          f"choose from: {', '.join(available)}")
    return list(requested), list(requested)


def build_report(folder: Path, requested_metrics: Sequence[str] | None = None) -> Report:
    """Read and group a multirun; raises NotAMultirunError, NothingFinishedError or ConfigError."""
    jobs = read_jobs(folder)
    finished = [job for job in jobs if job.finished]
    if not finished and not any(job.diverged for job in jobs):
        raise NothingFinishedError(f"no job of {folder} has finished: none of its {len(jobs)} job folders has "
                                   f"{METRICS_FILE} (still running, or failed: see each job's train.log)")
    parameters = swept_parameters(jobs)
    metrics, plotted = choose_metrics(available_metrics(finished), requested_metrics)
    return Report(folder, tuple(parameters), tuple(metrics), tuple(plotted), tuple(group_jobs(jobs, parameters)),
                  tuple(job for job in jobs if not job.finished and not job.diverged),
                  tuple(job for job in jobs if job.diverged))
