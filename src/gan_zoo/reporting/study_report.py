"""A study's methods and its text: grouping runs by method, the markdown table, study.csv, study_trials.csv and the
`--reseed` commands (Lucic et al. 2018, §5: the best configuration of each model re-run over several seeds)."""

from __future__ import annotations

import csv
import math
import shlex
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gan_zoo.reporting.plots import slug
from gan_zoo.reporting.study_runs import (ESTIMATE, PRIMARY_NAMES, Run, finite, lower_is_better, reseed_overrides,
                                         values_at)
from gan_zoo.reporting.study_stats import (RHO_THRESHOLD, BudgetCurve, RhoSummary, best_of_k, run_rho, summarise_rhos,
                                            target_of)
from gan_zoo.reporting.summary import summarise
from gan_zoo.reporting.table import format_mean_sd

DEFAULT_TRIAL = 0  # a random search's trial 0 is the method's default settings (Lucic et al. 2018, §5)
SECONDARY = ("val/w1_exact", "val/fid", "val/modes", "val/high_quality", "val/precision", "val/recall",
             "val/stacked_modes", "val/stacked_kl")
TABLE_FILE, CSV_FILE, TRIALS_FILE = "study.md", "study.csv", "study_trials.csv"


@dataclass(frozen=True)
class Trial:
    """One searched run: its values at its best (or last) checkpoint and its ρ (estimate vs W1/FID)."""

    run: Run
    values: dict[str, float]
    rho: float
    rho_points: int

    def value(self, metric: str) -> float:
        return self.values.get(metric, math.nan)


@dataclass(frozen=True)
class Method:
    """The trials of one method (objective + Lipschitz strategy [+ tricks]) and the runs re-seeding its best."""

    name: str
    trials: tuple[Trial, ...]  # searched runs, by trial number (diverged and unfinished ones included)
    reseeds: tuple[Trial, ...]
    curve: BudgetCurve
    rhos: RhoSummary

    def finite_trials(self, metric: str) -> list[Trial]:
        return [t for t in self.trials if finite(t.values.get(metric))]

    def best(self, metric: str) -> Trial | None:
        kept = self.finite_trials(metric)
        if not kept:
            return None
        return (min if lower_is_better(metric) else max)(kept, key=lambda t: t.value(metric))

    def default(self) -> Trial | None:
        return next((t for t in self.trials if t.run.trial == DEFAULT_TRIAL), None)

    @property
    def diverged(self) -> int:
        return sum(t.run.diverged for t in self.trials)


@dataclass(frozen=True)
class Study:
    metric: str
    at: str
    methods: tuple[Method, ...]  # best first
    secondary: tuple[str, ...]
    unfinished: tuple[Run, ...]
    resamples: int = 1000


def make_trial(run: Run, metric: str, at: str) -> Trial:
    rho, points = run_rho(run) if run.finished else (math.nan, 0)
    return Trial(run, values_at(run, metric, at), rho, points)


def build_study(runs: Sequence[Run], metric: str, available: Sequence[str], at: str = "best",
                resamples: int = 1000, seed: int = 0) -> Study:
    """Group the runs by method (reseed runs by the method they re-seed) and compute each method's statistics."""
    grouped: dict[str, tuple[list[Trial], list[Trial]]] = {}
    for run in runs:
        trials, reseeds = grouped.setdefault(run.reseed_of or run.method, ([], []))
        (reseeds if run.is_reseed else trials).append(make_trial(run, metric, at))
    methods = []
    for name, (trials, reseeds) in grouped.items():
        trials.sort(key=lambda t: (t.run.trial, str(t.run.folder)))
        values = [t.value(metric) for t in trials if finite(t.values.get(metric))]
        curve = best_of_k(values, lower_is_better(metric), resamples=resamples, seed=seed)
        rhos = summarise_rhos([t.rho for t in trials if t.run.finished])
        methods.append(Method(name, tuple(trials), tuple(reseeds), curve, rhos))

    def rank(method: Method) -> tuple[bool, float]:
        best = method.best(metric)
        if best is None:
            return (True, 0.0)
        return (False, best.value(metric) if lower_is_better(metric) else -best.value(metric))

    methods.sort(key=lambda m: (rank(m), m.name))
    secondary = tuple(m for m in SECONDARY if m != metric and m in available)
    return Study(metric, at, tuple(methods), secondary, tuple(r for r in runs if not r.finished and not r.diverged),
                 resamples)


def fmt(value: float | None) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4g}"


def budget_cell(curve: BudgetCurve) -> str:
    if not curve.k:
        return "–"
    return f"{curve.mean[-1]:.4g} [{curve.low[-1]:.4g}, {curve.high[-1]:.4g}]"


def reseed_cell(method: Method, metric: str) -> str:
    values = [t.value(metric) for t in method.reseeds if t.run.finished]
    if not values:
        return "–"
    return f"{format_mean_sd(summarise(values))} ({len(values)} seeds)"


def rho_cells(rhos: RhoSummary) -> list[str]:
    if not rhos.counted:
        return ["–", f"0 of 0 ({rhos.excluded} left out)" if rhos.excluded else "–"]
    left_out = f" ({rhos.excluded} left out)" if rhos.excluded else ""
    return [f"{rhos.median:.2f}", f"{rhos.above} of {rhos.counted}{left_out}"]


def target_name(study: Study) -> str:
    """The name of what ρ ranks the estimate against: FID if any trial logs it, else W1, else the stacked KL."""
    targets = {target_of(t.run) for m in study.methods for t in m.trials}
    return next((name for metric, name in PRIMARY_NAMES.items() if metric in targets), "W1")


def header(study: Study) -> list[str]:
    metric, k = study.metric, max((len(m.curve.k) for m in study.methods), default=0)
    direction = "lower" if lower_is_better(metric) else "higher"
    return ["method", "trials", "diverged", f"best {metric} ({direction} is better)", "best trial",
            f"trial {DEFAULT_TRIAL} (default)", "median over trials", f"best of K (K = trials; ≤ {k}): mean [95 %]",
            *(f"{m} at best" for m in study.secondary), "reseeded best: mean ± sd",
            f"ρ({ESTIMATE}, {target_name(study)}): median", f"ρ > {RHO_THRESHOLD}"]


def method_cells(method: Method, study: Study) -> list[str]:
    metric = study.metric
    best, default = method.best(metric), method.default()
    kept = [t.value(metric) for t in method.finite_trials(metric)]
    return [method.name, str(len(method.trials)), str(method.diverged), fmt(best.value(metric) if best else None),
            str(best.run.trial) if best else "–", fmt(default.value(metric) if default else None),
            fmt(statistics.median(kept) if kept else None), budget_cell(method.curve),
            *(fmt(best.value(m) if best else None) for m in study.secondary), reseed_cell(method, metric),
            *rho_cells(method.rhos)]


def markdown_table(study: Study) -> str:
    """One row per method, best first."""
    def row(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    columns = header(study)
    lines = [row(columns), row(["---"] * len(columns))]
    lines += [row(method_cells(method, study)) for method in study.methods]
    return "\n".join(lines)


def notes(study: Study) -> list[str]:
    """The lines under the table: how each value was taken and what was left out."""
    where = "best" if study.at == "best" else "last"
    lines = [f"Each trial's {study.metric} is its {where} over its checkpoints (evaluation.json of `python -m "
             f"gan_zoo.evaluate run=` where there is one, else the logged validations); the other metrics are read "
             f"at the same checkpoint. Best of K: the mean of the best of K trials drawn with replacement, "
             f"{study.resamples} draws per K, band = their 2.5/97.5 percentiles; diverged trials are counted, "
             f"never drawn.",
             f"ρ: Spearman's rank correlation between {ESTIMATE} and {target_name(study)} over a trial's "
             f"validations; trials with fewer than 3 validations or a constant series have none and are left out."]
    if study.unfinished:
        lines.append(f"unfinished or failed, no metrics.json ({len(study.unfinished)}): "
                     + ", ".join(str(run.folder) for run in study.unfinished))
    return lines


def write_csv(study: Study, path: Path) -> Path:
    """study.csv: one row per method, the table's numbers unformatted."""
    metric = study.metric
    columns = ["method", "trials", "diverged", "best", "best_trial", "best_folder", "default", "median",
               "best_of_k_mean", "best_of_k_low", "best_of_k_high", *(f"{m}_at_best" for m in study.secondary),
               "reseed_n", "reseed_mean", "reseed_sd", "rho_median", "rho_above", "rho_counted", "rho_excluded"]
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        for method in study.methods:
            best, default = method.best(metric), method.default()
            kept = [t.value(metric) for t in method.finite_trials(metric)]
            reseeds = summarise(t.value(metric) for t in method.reseeds if t.run.finished)
            curve = method.curve
            writer.writerow({
                "method": method.name, "trials": len(method.trials), "diverged": method.diverged,
                "best": repr(best.value(metric)) if best else "", "best_trial": best.run.trial if best else "",
                "best_folder": str(best.run.folder) if best else "",
                "default": repr(default.value(metric)) if default else "",
                "median": repr(statistics.median(kept)) if kept else "",
                "best_of_k_mean": repr(curve.mean[-1]) if curve.k else "",
                "best_of_k_low": repr(curve.low[-1]) if curve.k else "",
                "best_of_k_high": repr(curve.high[-1]) if curve.k else "",
                **{f"{m}_at_best": repr(best.value(m)) if best else "" for m in study.secondary},
                "reseed_n": reseeds.count, "reseed_mean": repr(reseeds.mean) if reseeds.count else "",
                "reseed_sd": "" if reseeds.sd is None else repr(reseeds.sd),
                "rho_median": repr(method.rhos.median) if method.rhos.counted else "",
                "rho_above": method.rhos.above, "rho_counted": method.rhos.counted,
                "rho_excluded": method.rhos.excluded})
    return path


def write_trials_csv(study: Study, path: Path) -> Path:
    """study_trials.csv: one row per run (searched and reseeded): its metric values, ρ and folder."""
    metrics = [study.metric, *study.secondary]
    columns = ["method", "trial", "seed", "reseed", "status", *metrics, "rho", "rho_validations", "folder"]
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        for method in study.methods:
            for trial in (*method.trials, *method.reseeds):
                run = trial.run
                status = "finished" if run.finished else "diverged" if run.diverged else "unfinished"
                writer.writerow({"method": method.name, "trial": run.trial, "seed": "" if run.seed is None else run.seed,
                                 "reseed": int(run.is_reseed), "status": status,
                                 **{m: repr(trial.value(m)) if finite(trial.values.get(m)) else "" for m in metrics},
                                 "rho": repr(trial.rho) if finite(trial.rho) else "",
                                 "rho_validations": trial.rho_points, "folder": str(run.folder)})
    return path


def reseed_commands(study: Study, seeds: int, out: Path) -> list[list[str]]:
    """Per method, one `python -m gan_zoo.train -m` command re-running its best trial's overrides over seeds 1..S
    into <out>/<method>/, marked `+study.reseed_of=<method>` so that a later study counts them as its seeds."""
    commands = []
    for method in study.methods:
        best = method.best(study.metric)
        if best is None:
            continue
        commands.append([sys.executable, "-m", "gan_zoo.train", "-m", *reseed_overrides(best.run),
                         f"seed={','.join(str(s) for s in range(1, seeds + 1))}",
                         f'+study.reseed_of="{method.name}"', f"hydra.sweep.dir={out / slug(method.name)}"])
    return commands


def shell_line(command: Sequence[str]) -> str:
    return " ".join(shlex.quote(part) for part in ["python", *command[1:]])
