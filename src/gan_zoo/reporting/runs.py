"""Reading a Hydra multirun of `gan_zoo.train`: its numbered job folders, their overrides and metrics.json."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

from gan_zoo.errors import GanZooError
from gan_zoo.runtime.divergence import diverged
from gan_zoo.runtime.metrics_file import from_json

METRICS_FILE = "metrics.json"  # what gan_zoo.train writes into each job's folder
OVERRIDES_FILE = Path(".hydra") / "overrides.yaml"
CSV_FILE = "report.csv"


class NotAMultirunError(GanZooError):
    """The folder does not hold the numbered job folders of a Hydra multirun."""


class NothingFinishedError(GanZooError):
    """No job of the multirun has written metrics.json (yet)."""

    exit_code = 1


@dataclass(frozen=True)
class Job:
    """One job folder of a multirun. `metrics` is None while the job is unfinished, when it failed, or when it
    diverged: then `divergence` holds its metrics.json record (gan_zoo.runtime.divergence), a result of its
    configuration that is counted, never averaged."""

    number: int
    folder: Path
    overrides: dict[str, str]
    metrics: dict[str, float] | None
    problem: str = ""  # why there are no metrics, when it is more than "no metrics.json"
    divergence: dict[str, Any] | None = None

    @property
    def finished(self) -> bool:
        return self.metrics is not None

    @property
    def diverged(self) -> bool:
        return self.divergence is not None


@lru_cache(maxsize=4096)
def parse_override(line: str) -> tuple[str, str]:
    """(key, raw value) of one override line, e.g. `lipschitz.lambda_=1e-3` -> ("lipschitz.lambda_", "1e-3").

    Hydra's parser gives the key without `+`/`++` prefixes (`~` is kept for a deletion, `@package` appended);
    the value is kept as typed. Lines Hydra cannot parse are split at the first '='."""
    key, _, value = line.partition("=")
    try:
        (override,) = OverridesParser.create().parse_overrides([line])
    except HydraException:
        return key.strip(), value.strip()
    parsed_key = override.key_or_group + (f"@{override.package}" if override.package else "")
    return ("~" + parsed_key if override.is_delete() else parsed_key), value


def parse_overrides(lines: Iterable[str]) -> dict[str, str]:
    """The overrides of one job as {key: raw value}."""
    return dict(parse_override(line) for line in lines)


def job_folders(folder: Path) -> list[Path]:
    """The numbered job folders of a multirun that have .hydra/overrides.yaml, sorted by job number."""
    if not folder.is_dir():
        return []
    jobs = [p for p in folder.iterdir() if p.name.isdigit() and (p / OVERRIDES_FILE).is_file()]
    return sorted(jobs, key=lambda p: int(p.name))


def read_record(path: Path) -> tuple[dict[str, Any] | None, str]:
    """Everything a metrics.json holds (non-finite values restored), or (None, why not)."""
    if not path.is_file():
        return None, ""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        return None, f"{path.name} unreadable: {error}"
    if not isinstance(data, dict):
        return None, f"{path.name} is not a JSON object"
    return from_json(data), ""  # non-finite values are written as null (gan_zoo.runtime.metrics_file)


def numeric_values(data: dict[str, Any]) -> dict[str, float]:
    """The numbers of a metrics.json (booleans and strings left out)."""
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def read_metrics(path: Path) -> tuple[dict[str, float] | None, str]:
    """The numeric values of a metrics.json, or (None, why not); None too for a divergence record."""
    data, problem = read_record(path)
    if data is None or diverged(data):
        return None, problem
    return numeric_values(data), ""


def read_job(folder: Path) -> Job:
    """One job folder: its overrides and, if it finished, its metrics."""
    path = folder / OVERRIDES_FILE
    try:
        lines = yaml.safe_load(path.read_text()) or []
    except (OSError, yaml.YAMLError) as error:
        raise GanZooError(f"cannot read {path}: {str(error).splitlines()[0]}") from error
    if not isinstance(lines, list):
        raise GanZooError(f"{path} is not a YAML list of overrides")
    data, problem = read_record(folder / METRICS_FILE)
    overrides = parse_overrides(str(line) for line in lines)
    if data is not None and diverged(data):
        return Job(int(folder.name), folder, overrides, None, problem, divergence=data)
    return Job(int(folder.name), folder, overrides, None if data is None else numeric_values(data), problem)


def read_jobs(folder: Path) -> list[Job]:
    """Every job of the multirun in `folder`, finished or not, sorted by job number."""
    folders = job_folders(folder)
    if not folders:
        raise NotAMultirunError(not_a_multirun_message(folder))
    return [read_job(job) for job in folders]


def not_a_multirun_message(folder: Path) -> str:
    expected = ("expected numbered job folders (0/, 1/, ...) each with .hydra/overrides.yaml, as "
                "`python -m gan_zoo.train -m ...` writes them")
    if not folder.exists():
        return f"{folder} does not exist: {expected}"
    if not folder.is_dir():
        return f"{folder} is not a folder: {expected}"
    if (folder / OVERRIDES_FILE).is_file():
        return f"{folder} is a single run, not a multirun: {expected}"
    return f"{folder} is not a multirun folder: {expected}"
