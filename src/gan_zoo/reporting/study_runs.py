"""Reading the runs of a study (`python -m gan_zoo.study`): every run folder under the given folders, its method,
trial, seed, overrides and validation history, and the value of a metric per run.

A run folder is any folder holding `.hydra/config.yaml` or `metrics.json` (a job of a `-m` sweep, a trial folder of
a random search, a reseed job); folders inside a run are not searched. Each run's

- method is its objective and Lipschitz strategy, `<objective>+<lipschitz>`, from the config-group choices Hydra
  stored (`.hydra/hydra.yaml`), else from the `_target_` classes of its config (`.hydra/config.yaml`, or the
  config a checkpoint stores), mapped back to the option of conf/objective and conf/lipschitz that names them; a
  trick group's option other than its default (`generator_loss`, `regularizer`: Salimans et al. 2016 §3; any
  group named `tricks...`) and the values of `--by` keys are appended;
- trial is `search.trial` of its config (a random search records it), else its Hydra job number;
- validations are the rows of its `csv/metrics.csv` (gan_zoo.runtime.history.ResumableCSVLogger) that hold
  validation metrics (`val/...`), merged per generator iteration.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from gan_zoo.errors import ConfigError, GanZooError
from gan_zoo.reporting.runs import METRICS_FILE, NothingFinishedError, parse_override, read_record
from gan_zoo.runtime.divergence import diverged

CONFIG_FILE = Path(".hydra") / "config.yaml"
HYDRA_FILE = Path(".hydra") / "hydra.yaml"
OVERRIDES_FILE = Path(".hydra") / "overrides.yaml"
HISTORY_FILE = Path("csv") / "metrics.csv"
EVALUATION_FILE = Path("evaluation") / "evaluation.json"  # `python -m gan_zoo.evaluate run=<run>`
LAST_CHECKPOINT = Path("checkpoints") / "last.ckpt"
NOT_RUNS = frozenset({".hydra", ".submitit", "checkpoints", "csv", "evaluation", "generated", "plots", "samples",
                      "wandb"})
# Config groups that add a trick to a method (Salimans et al. 2016 §3), and their option that adds none.
TRICKS = {"generator_loss": "objective", "regularizer": "none"}
ESTIMATE = "val/w_estimate"  # the critic's estimate E[D(x)] - E[D(G(z))] on the held-out real set

# Lucic et al. 2018 report FID (lower is better); the toy metrics of gan_zoo.callbacks.toy_metrics.
LOWER_IS_BETTER = ("val/fid", "val/w1_exact", "val/kid_mean", "val/reverse_kl", "val/stacked_kl")
HIGHER_IS_BETTER = ("val/modes", "val/high_quality", "val/precision", "val/recall", "val/density", "val/coverage",
                    "val/is_mean", "val/stacked_modes")
# What a run's value is by default, and what the critic's estimate is ranked against: FID on images (Lucic et al.
# 2018), exact W1 on toy data, the mode histogram's KL to uniform on stacked digits without a feature network.
PRIMARY_NAMES = {"val/fid": "FID", "val/w1_exact": "W1", "val/stacked_kl": "stacked-modes KL"}
PRIMARY = tuple(PRIMARY_NAMES)
QUALITY_METRICS = LOWER_IS_BETTER + HIGHER_IS_BETTER


def lower_is_better(metric: str) -> bool:
    return metric in LOWER_IS_BETTER


@dataclass(frozen=True)
class Run:
    """One run folder of a study. `final` is its metrics.json (None while unfinished); a run that diverged
    (gan_zoo.runtime.divergence) is `diverged`, has no value and is counted, never averaged."""

    folder: Path
    method: str
    trial: int
    seed: int | None
    overrides: tuple[str, ...]
    reseed_of: str | None  # `study.reseed_of` of a run launched by `--reseed`: the method it re-seeds
    validations: tuple[dict[str, float], ...] = ()  # gen_iter and the val/... values, one per validation
    evaluations: tuple[dict[str, float], ...] = ()  # evaluation.json's checkpoints, keys as logged (val/fid, ...)
    final: dict[str, float] | None = None
    diverged: bool = False
    config: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def finished(self) -> bool:
        return self.final is not None and not self.diverged

    @property
    def is_reseed(self) -> bool:
        return self.reseed_of is not None


def run_folders(folder: Path) -> list[Path]:
    """The run folders at or under `folder`, sorted by path; ConfigError when it does not exist."""
    if not folder.exists():
        raise ConfigError(f"{folder} does not exist: give the folder of a `python -m gan_zoo.train -m` sweep (or of "
                          f"a random search, or a study's reseed folder)")
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder: give the folder of a `python -m gan_zoo.train -m` sweep")
    found: list[Path] = []

    def walk(path: Path) -> None:
        if (path / CONFIG_FILE).is_file() or (path / METRICS_FILE).is_file():
            found.append(path)
            return
        for child in sorted(path.iterdir()):
            if child.is_dir() and child.name not in NOT_RUNS:
                walk(child)

    walk(folder)
    return found


def load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text()) if path.is_file() else None
    except (OSError, yaml.YAMLError) as error:
        raise GanZooError(f"cannot read {path}: {str(error).splitlines()[0]}") from error


def checkpoint_config(folder: Path) -> dict[str, Any]:
    """The resolved config a run's last checkpoint stores (for a run folder without .hydra/), or {}."""
    from gan_zoo.runtime.history import checkpoint_entry
    from gan_zoo.training.checkpoint_state import CONFIG_KEY

    return checkpoint_entry(str(folder / LAST_CHECKPOINT), CONFIG_KEY) or {}


@lru_cache(maxsize=None)
def option_of_target(group: str) -> dict[str, str]:
    """{`_target_`: option name} of a config group shipped with gan_zoo (conf/objective, conf/lipschitz)."""
    names: dict[str, str] = {}
    folder = resources.files("gan_zoo.conf") / group
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name.endswith(".yaml"):
            target = (yaml.safe_load(path.read_text()) or {}).get("_target_")
            names.setdefault(str(target), path.name[:-5])
    return names


def choice(group: str, choices: dict[str, Any], config: dict[str, Any]) -> str:
    """The option of `group` a run used: Hydra's stored choice, else the option naming its `_target_` class."""
    if choices.get(group):
        return str(choices[group])
    target = str((config.get(group) or {}).get("_target_", "?"))
    return option_of_target(group).get(target, target.rsplit(".", 1)[-1])


def select(config: dict[str, Any], key: str) -> Any:
    """config[a][b] for key "a.b" (None where missing)."""
    node: Any = config
    for part in key.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def method_name(config: dict[str, Any], choices: dict[str, Any], by: Sequence[str] = ()) -> str:
    """`<objective>+<lipschitz>`, then `+<trick>` per trick group (TRICKS, or a group named `tricks...`) not at its
    default, and `,key=value` per --by key."""
    parts = [choice("objective", choices, config), choice("lipschitz", choices, config)]
    for group, default in TRICKS.items():
        if group in choices or group in config:
            option = choice(group, choices, config)
            parts += [] if option == default else [option]
    parts += [str(value) for group, value in sorted(choices.items())
              if group.startswith("tricks") and value not in (None, "null", "none")]
    name = "+".join(parts)
    return name + "".join(f",{key}={select(config, key)}" for key in by)


def as_float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def read_validations(path: Path) -> tuple[dict[str, float], ...]:
    """The validation rows of a metrics.csv, merged per generator iteration (or Lightning step), in order."""
    if not path.is_file():
        return ()
    try:
        with path.open(newline="") as file:
            rows = list(csv.DictReader(file))
    except (OSError, csv.Error) as error:
        raise GanZooError(f"cannot read {path}: {error}") from error
    merged: dict[float, dict[str, float]] = {}
    for row in rows:
        values = {key: number for key, text in row.items()
                  if key and text not in ("", None) and (number := as_float(text)) is not None}
        if not any(key.startswith("val/") for key in values):
            continue
        where = values.get("gen_iter", values.get("step", float(len(merged))))
        merged.setdefault(where, {}).update({k: v for k, v in values.items() if k.startswith("val/") or k == "gen_iter"})
    return tuple(merged[where] for where in sorted(merged))


def read_evaluations(path: Path) -> tuple[dict[str, float], ...]:
    """The per-checkpoint metrics of `python -m gan_zoo.evaluate run=`'s evaluation.json, renamed as logged
    (`fid` -> `val/fid`); null (non-finite) values become NaN."""
    data, _ = read_record(path)
    if not data or not isinstance(data.get("checkpoints"), list):
        return ()
    rows = []
    for entry in data["checkpoints"]:
        row = {"gen_iter": float(entry.get("gen_iter") or 0)}
        for key, value in entry.items():
            if key in ("gen_iter", "seed", "num_fake", "num_real", "num_modes", "stacked_seed"):
                continue
            if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
                row[f"val/{key}"] = math.nan if value is None else float(value)
        rows.append(row)
    return tuple(rows)


def read_run(folder: Path, position: int, by: Sequence[str] = ()) -> Run:
    """One run folder (position: its place among the study's runs, its trial number when nothing else says)."""
    config = load_yaml(folder / CONFIG_FILE)
    if not isinstance(config, dict):
        config = checkpoint_config(folder)
    hydra = load_yaml(folder / HYDRA_FILE) or {}
    runtime = (hydra.get("hydra") or {}) if isinstance(hydra, dict) else {}
    choices = (runtime.get("runtime") or {}).get("choices") or {}
    overrides = load_yaml(folder / OVERRIDES_FILE) or []
    trial = select(config, "search.trial")
    if not isinstance(trial, int):
        job = (runtime.get("job") or {}).get("num")
        trial = job if isinstance(job, int) else int(folder.name) if folder.name.isdigit() else position
    seed = config.get("seed")
    reseed_of = select(config, "study.reseed_of")
    record, _ = read_record(folder / METRICS_FILE)
    final = None if record is None else {k: float(v) for k, v in record.items()
                                          if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return Run(folder, method_name(config, choices, by), trial, seed if isinstance(seed, int) else None,
               tuple(str(line) for line in overrides), None if reseed_of is None else str(reseed_of),
               read_validations(folder / HISTORY_FILE), read_evaluations(folder / EVALUATION_FILE), final,
               record is not None and diverged(record), config)


def read_runs(folders: Iterable[Path], by: Sequence[str] = ()) -> list[Run]:
    """Every run under the folders; NothingFinishedError when none has finished (or diverged)."""
    folders = list(folders)
    paths = [path for folder in folders for path in run_folders(folder)]
    runs = [read_run(path, i, by) for i, path in enumerate(paths)]
    if not any(run.finished or run.diverged for run in runs):
        where = ", ".join(str(f) for f in folders)
        raise NothingFinishedError(f"no finished run under {where}: none of its {len(runs)} run folders has "
                                   f"{METRICS_FILE} (still running, or failed: see each run's train.log)")
    return runs


def available_metrics(runs: Iterable[Run]) -> list[str]:
    """The quality metrics (known to be lower- or higher-is-better) that some finished run has."""
    present = {key for run in runs if run.finished
               for rows in (run.validations, run.evaluations, (run.final or {},)) for row in rows for key in row}
    return [metric for metric in QUALITY_METRICS if metric in present]


def default_metric(available: Sequence[str]) -> str:
    """FID on images (Lucic et al. 2018), exact W1 on toy data, the stacked-digits mode KL, else the first quality
    metric there is."""
    for metric in PRIMARY:
        if metric in available:
            return metric
    if not available:
        raise ConfigError("the finished runs log no quality metric (val/fid, val/w1_exact, ...): train with "
                          "callbacks that measure one (the default callbacks do)")
    return available[0]


def check_metric(metric: str, available: Sequence[str]) -> str:
    if metric not in available:
        raise ConfigError(f"unknown metric {metric}; choose from: {', '.join(available)}")
    return metric


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def values_at(run: Run, metric: str, at: str = "best") -> dict[str, float]:
    """The run's metrics at one of its checkpoints: `at="best"`: the one with the best `metric` (Lucic et al. 2018
    report the best FID over a run's checkpoints), from evaluation.json when `python -m gan_zoo.evaluate run=` wrote
    one, else from the logged validations; `at="last"`: the last. The other metrics are read at the same checkpoint.
    Falls back to metrics.json (the final validation); {} for a run that did not finish."""
    if not run.finished:
        return {}
    for rows in (run.evaluations, run.validations):
        rows = tuple(row for row in rows if finite(row.get(metric)))
        if rows:
            if at == "last":
                return dict(rows[-1])
            pick = min if lower_is_better(metric) else max
            return dict(pick(rows, key=lambda row: row[metric]))
    return dict(run.final or {})


def reseed_overrides(run: Run) -> list[str]:
    """The run's own overrides without its seed, Hydra's settings, earlier study keys and the search (a random
    search's trial records its sampled values as overrides, gan_zoo.runtime.search; `search=` would start a new
    search instead of a sweep over seeds)."""
    kept = []
    for line in run.overrides:
        key = parse_override(line)[0].lstrip("~")
        if key in ("seed", "search") or key.startswith(("hydra", "study.", "search.")):
            continue
        kept.append(line)
    return kept
