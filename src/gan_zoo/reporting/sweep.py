"""Summarise a Hydra multirun of `gan_zoo.train`: a markdown table, report.csv and one plot per metric.

Usage:

    python -m gan_zoo.train -m lipschitz.lambda_=0.1,1,10 seed=0,1,2
    python -m gan_zoo.report outputs/train/multiruns/2026-11-23_10-00-00
    python -m gan_zoo.report <multirun folder> --out reports/lambda --metrics val/w1_exact,val/modes

A multirun folder holds one numbered folder per job (`0/`, `1/`, ...; the SLURM launcher adds `.submitit/`),
each with `.hydra/overrides.yaml` and, once the job has finished, `metrics.json`. The report

- finds the swept parameters: the override keys whose values differ between jobs. `seed` is never one: runs that
  differ only in their seed form one group, and every metric is shown as mean ± sample standard deviation over
  the group's `n` finished runs (just the value when n = 1). NaN values (e.g. a reverse KL with no mode covered)
  are left out of a mean; a cell says "(k of n)" when only k runs had a value;
- prints a markdown table to stdout, one row per group, sorted by the swept values (numerically when every
  value of a parameter is a number), then one line naming the unfinished or failed jobs (no metrics.json);
- writes report.csv (swept parameters, n, `<metric>_mean`, `<metric>_sd`) and `report_<metric>.png` (the metric
  against the first numeric swept parameter, one line per combination of the others; a bar chart per group
  when no swept parameter is numeric) into the multirun folder, or into --out.

Metrics: by default every numeric value in metrics.json, validation metrics (val/...) first; the bookkeeping
values (gen_iter, critic_steps, wall_time_s) come last in the table and the CSV and are not plotted.
`--metrics a,b` picks exactly those (and plots them, bookkeeping or not).

Exit codes: 0 with a report, 1 when no job has finished yet, 2 for a folder that is not a multirun or an
unknown metric (one line on stderr, like `gan_zoo.train`).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

from gan_zoo.runtime.cli import report as report_error
from gan_zoo.errors import ConfigError, GanZooError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

METRICS_FILE = "metrics.json"  # what gan_zoo.train writes into each job's folder
OVERRIDES_FILE = Path(".hydra") / "overrides.yaml"
CSV_FILE = "report.csv"
SEED = "seed"
BOOKKEEPING = ("gen_iter", "critic_steps", "wall_time_s")
# The Lipschitz weights and clip values (λ of GP/LP/DRAGAN/CT, λ_CT, R1's γ, the clip c) are swept over decades.
LOG_SCALE_PARAMETERS = frozenset({"lambda_", "lambda_ct", "gamma", "c"})
LOG_SCALE_SPAN = 100.0  # any positive parameter spanning at least this factor is plotted on a log axis
DEFAULT_VALUE = "(default)"  # shown for a job that does not override a parameter other jobs override


class NotAMultirunError(GanZooError):
    """The folder does not hold the numbered job folders of a Hydra multirun."""


class NothingFinishedError(GanZooError):
    """No job of the multirun has written metrics.json (yet)."""

    exit_code = 1


@dataclass(frozen=True)
class Job:
    """One job folder of a multirun. `metrics` is None while the job is unfinished, or when it failed."""

    number: int
    folder: Path
    overrides: dict[str, str]
    metrics: dict[str, float] | None
    problem: str = ""  # why there are no metrics, when it is more than "no metrics.json"

    @property
    def finished(self) -> bool:
        return self.metrics is not None


@dataclass(frozen=True)
class Summary:
    """Mean and sample standard deviation of one metric over a group (`sd` None for a single value)."""

    mean: float
    sd: float | None
    count: int  # how many runs had a (non-NaN) value


@dataclass(frozen=True)
class Group:
    """The finished runs that share every swept value (they differ at most in their seed)."""

    values: tuple[str, ...]  # one raw override value per swept parameter
    jobs: tuple[Job, ...]

    @property
    def n(self) -> int:
        return len(self.jobs)

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


# --- reading -----------------------------------------------------------------------------------------------------


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


def read_metrics(path: Path) -> tuple[dict[str, float] | None, str]:
    """The numeric values of a metrics.json (booleans and strings left out), or (None, why not)."""
    if not path.is_file():
        return None, ""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        return None, f"{path.name} unreadable: {error}"
    if not isinstance(data, dict):
        return None, f"{path.name} is not a JSON object"
    return {k: float(v) for k, v in data.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}, ""


def read_job(folder: Path) -> Job:
    """One job folder: its overrides and, if it finished, its metrics."""
    path = folder / OVERRIDES_FILE
    try:
        lines = yaml.safe_load(path.read_text()) or []
    except (OSError, yaml.YAMLError) as error:
        raise GanZooError(f"cannot read {path}: {str(error).splitlines()[0]}") from error
    if not isinstance(lines, list):
        raise GanZooError(f"{path} is not a YAML list of overrides")
    metrics, problem = read_metrics(folder / METRICS_FILE)
    return Job(int(folder.name), folder, parse_overrides(str(line) for line in lines), metrics, problem)


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


# --- grouping ----------------------------------------------------------------------------------------------------


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
    """The finished jobs grouped by their swept values, sorted by those values (numerically where possible)."""
    grouped: dict[tuple[str, ...], list[Job]] = {}
    for job in jobs:
        if job.finished:
            grouped.setdefault(tuple(job.overrides.get(p, DEFAULT_VALUE) for p in parameters), []).append(job)
    numeric = [is_numeric(values[i] for values in grouped) for i in range(len(parameters))]
    order = sorted(grouped, key=lambda values: tuple(sort_key(v, num) for v, num in zip(values, numeric)))
    return [Group(values, tuple(grouped[values])) for values in order]


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
    if not finished:
        raise NothingFinishedError(f"no job of {folder} has finished: none of its {len(jobs)} job folders has "
                                   f"{METRICS_FILE} (still running, or failed: see each job's train.log)")
    parameters = swept_parameters(jobs)
    metrics, plotted = choose_metrics(available_metrics(finished), requested_metrics)
    return Report(folder, tuple(parameters), tuple(metrics), tuple(plotted), tuple(group_jobs(jobs, parameters)),
                  tuple(job for job in jobs if not job.finished))


# --- formatting --------------------------------------------------------------------------------------------------


def format_mean_sd(summary: Summary) -> str:
    """`mean ± sd`, the sd to two significant digits and the mean to the same decimal place."""
    mean, sd = summary.mean, summary.sd
    if summary.count == 0:
        return "–"
    if not math.isfinite(mean):
        return str(mean)
    if sd is None:
        return f"{mean:.4g}"
    if not math.isfinite(sd) or sd == 0:
        return f"{mean:.4g} ± {sd:g}"
    sd_exponent = math.floor(math.log10(sd))
    mean_exponent = math.floor(math.log10(abs(mean))) if mean else sd_exponent
    decimals = min(1 - sd_exponent, 5 - mean_exponent)  # at most six significant digits for the mean
    if decimals < 0 or decimals > 6 or mean_exponent > 6:
        digits = max(1, mean_exponent + decimals + 1)
        return f"{mean:.{digits}g} ± {sd:.2g}"
    return f"{mean:.{decimals}f} ± {sd:.{decimals}f}"


def format_cell(summary: Summary, n: int) -> str:
    cell = format_mean_sd(summary)
    return f"{cell} ({summary.count} of {n})" if 0 < summary.count < n else cell


def group_label(parameters: Sequence[str], values: Sequence[str]) -> str:
    return ", ".join(f"{p}={v}" for p, v in zip(parameters, values)) or "all runs"


def markdown_table(report: Report) -> str:
    """One row per group: the swept values, n, then `mean ± sd` per metric."""
    def row(cells: Iterable[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    header = [*report.parameters, "n", *report.metrics]
    lines = [row(header), row("---" for _ in header)]
    for group in report.groups:
        lines.append(row([*group.values, group.n, *(format_cell(group.summary(m), group.n) for m in report.metrics)]))
    if any(0 < group.summary(m).count < group.n for group in report.groups for m in report.metrics):
        lines.append("\n(k of n): only k of the group's n runs had a value (NaN or missing in the others).")
    return "\n".join(lines)


def unfinished_line(report: Report) -> str:
    """One line naming the jobs without metrics.json and what sets them apart (swept values and seed)."""
    if not report.unfinished:
        return ""
    shown = [*report.parameters, SEED]
    described = []
    for job in report.unfinished:
        overrides = " ".join(f"{k}={job.overrides[k]}" for k in shown if k in job.overrides)
        detail = "; ".join(part for part in (overrides, job.problem) if part)
        described.append(f"job {job.number}" + (f" ({detail})" if detail else ""))
    return f"unfinished or failed, no {METRICS_FILE} ({len(described)}): " + ", ".join(described)


# --- writing -----------------------------------------------------------------------------------------------------


def csv_rows(report: Report) -> list[dict[str, str]]:
    """One row per group: swept values, n, `<metric>_mean` and `<metric>_sd` (empty when undefined)."""
    rows = []
    for group in report.groups:
        row = dict(zip(report.parameters, group.values))
        row["n"] = str(group.n)
        for metric in report.metrics:
            summary = group.summary(metric)
            row[f"{metric}_mean"] = repr(summary.mean) if summary.count else ""
            row[f"{metric}_sd"] = "" if summary.sd is None else repr(summary.sd)
        rows.append(row)
    return rows


def write_csv(report: Report, path: Path) -> Path:
    columns = [*report.parameters, "n", *(f"{m}_{stat}" for m in report.metrics for stat in ("mean", "sd"))]
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(csv_rows(report))
    return path


def slug(name: str) -> str:
    """A file-name-safe form of a metric name: val/w1_exact -> val_w1_exact."""
    return "".join(c if c.isascii() and c.isalnum() else "_" for c in name.lower()).strip("_")


def x_scale(parameter: str, values: Sequence[float]) -> str:
    """The x-axis scale: "log" for a positive Lipschitz weight or clip value, or for any positive values spanning
    at least 100x; "symlog" for a Lipschitz weight swept from 0; otherwise "linear"."""
    finite = [v for v in values if math.isfinite(v)]
    lipschitz_weight = parameter.rsplit(".", 1)[-1] in LOG_SCALE_PARAMETERS
    if finite and min(finite) > 0 and (lipschitz_weight or max(finite) / min(finite) >= LOG_SCALE_SPAN):
        return "log"
    if lipschitz_weight and finite and min(finite) == 0 and max(finite) > 0:
        return "symlog"
    return "linear"


def x_parameter(report: Report) -> str | None:
    """The first swept parameter whose values are all numbers (the plots' x axis), if any."""
    for i, parameter in enumerate(report.parameters):
        if is_numeric(group.values[i] for group in report.groups):
            return parameter
    return None


def plot_metric(report: Report, metric: str, path: Path) -> Path:
    """Mean ± sd of one metric against the first numeric swept parameter (bars per group if there is none)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.4), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    x_name = x_parameter(report)
    if x_name is None:
        _bars(axes, report, metric)
    else:
        _lines(axes, report, metric, x_name)
    axes.set_ylabel(metric)
    several_seeds = any(group.n > 1 for group in report.groups)
    axes.set_title(f"{metric} (mean ± sd over seeds)" if several_seeds else metric)
    axes.grid(alpha=0.3)
    figure.savefig(path, dpi=120)
    return path


def error_bars(summaries: Sequence[Summary]) -> list[float] | None:
    """The sd of each point (0 where undefined), or None when no point has one (every group has one run)."""
    sds = [s.sd if s.sd is not None and math.isfinite(s.sd) else 0.0 for s in summaries]
    return sds if any(s.sd is not None for s in summaries) else None


def _lines(axes: Axes, report: Report, metric: str, x_name: str) -> None:
    x_index = report.parameters.index(x_name)
    others = [p for p in report.parameters if p != x_name]
    lines: dict[tuple[str, ...], list[tuple[float, Summary]]] = {}
    for group in report.groups:
        key = tuple(v for i, v in enumerate(group.values) if i != x_index)
        lines.setdefault(key, []).append((float(group.values[x_index]), group.summary(metric)))
    numeric = [is_numeric(key[i] for key in lines) for i in range(len(others))]
    for key in sorted(lines, key=lambda values: tuple(sort_key(v, num) for v, num in zip(values, numeric))):
        points = sorted((x, s) for x, s in lines[key] if s.count)
        if not points:
            continue
        axes.errorbar([x for x, _ in points], [s.mean for _, s in points], yerr=error_bars([s for _, s in points]),
                      marker="o", capsize=3, label=group_label(others, key) if others else None)
    set_x_axis(axes, x_name, [float(group.values[x_index]) for group in report.groups])
    if others:
        axes.legend(fontsize="small")


def set_x_axis(axes: Axes, name: str, values: Sequence[float]) -> None:
    scale = x_scale(name, values)
    if scale == "symlog":  # linear up to the smallest positive value, so 0 has a place
        axes.set_xscale("symlog", linthresh=min(v for v in values if v > 0))
    else:
        axes.set_xscale(scale)
    axes.set_xlabel(name)


def _bars(axes: Axes, report: Report, metric: str) -> None:
    summaries = [group.summary(metric) for group in report.groups]
    labels = [group_label(report.parameters, group.values) for group in report.groups]
    axes.bar(range(len(labels)), [s.mean if s.count else 0.0 for s in summaries],
             yerr=error_bars(summaries), capsize=3)
    axes.set_xticks(range(len(labels)), labels, rotation=30 if len(labels) > 3 else 0, ha="right"
                    if len(labels) > 3 else "center", fontsize="small")


def write_plots(report: Report, out: Path) -> list[Path]:
    return [plot_metric(report, metric, out / f"report_{slug(metric)}.png") for metric in report.plotted]


# --- command line ------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gan_zoo.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, help="the multirun folder (holding 0/, 1/, ...)")
    parser.add_argument("--out", type=Path, help="where to write report.csv and the plots (default: the folder)")
    parser.add_argument("--metrics", type=lambda text: [m.strip() for m in text.split(",") if m.strip()],
                        help="comma-separated metrics to report, e.g. val/w1_exact,val/modes (default: all)")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> None:
    """Print the table and the unfinished jobs; write the CSV and the plots; print their paths."""
    report = build_report(args.folder, args.metrics)
    print(markdown_table(report))
    if report.unfinished:
        print(f"\n{unfinished_line(report)}")
    out = args.out or args.folder
    try:
        out.mkdir(parents=True, exist_ok=True)
        written = [write_csv(report, out / CSV_FILE), *write_plots(report, out)]
    except OSError as error:
        raise GanZooError(f"cannot write the report to {out} ({error.strerror or error}): choose a writable "
                          f"folder with --out") from error
    print()
    for path in written:
        print(f"wrote {path}")


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        run(args)
    except GanZooError as error:
        report_error(error)
        sys.exit(error.exit_code)


if __name__ == "__main__":
    main()
