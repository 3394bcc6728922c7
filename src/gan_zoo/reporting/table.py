"""A report as text: the markdown table, the lines naming the unfinished and the diverged jobs, and report.csv."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path

from gan_zoo.reporting.runs import METRICS_FILE
from gan_zoo.reporting.summary import SEED, Group, Report, Summary


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


def diverged_cell(group: Group) -> str:
    """How many of the group's runs diverged, of all that got a result: "1 of 3"."""
    return f"{len(group.diverged)} of {group.attempted}"


def markdown_table(report: Report) -> str:
    """One row per group: the swept values, n (the finished runs), "diverged k of m" when any job of the sweep
    diverged, then `mean ± sd` per metric over the finished runs."""
    def row(cells: Iterable[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    diverged = ["diverged"] if report.diverged else []
    header = [*report.parameters, "n", *diverged, *report.metrics]
    lines = [row(header), row("---" for _ in header)]
    for group in report.groups:
        counts = [group.n, *([diverged_cell(group)] if diverged else [])]
        lines.append(row([*group.values, *counts, *(format_cell(group.summary(m), group.n) for m in report.metrics)]))
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


def diverged_line(report: Report) -> str:
    """One line naming the diverged jobs, what sets them apart, and where each diverged."""
    if not report.diverged:
        return ""
    shown = [*report.parameters, SEED]
    described = []
    for job in report.diverged:
        record = job.divergence or {}
        overrides = " ".join(f"{k}={job.overrides[k]}" for k in shown if k in job.overrides)
        term = f"{record.get('phase')} loss term '{record.get('term')}'" if record.get("term") else "a loss"
        where = f"{term} non-finite at generator iteration {record.get('gen_iter')}"
        described.append(f"job {job.number} (" + "; ".join(part for part in (overrides, where) if part) + ")")
    return f"diverged ({len(described)}): " + ", ".join(described)


def csv_rows(report: Report) -> list[dict[str, str]]:
    """One row per group: swept values, n (finished runs), diverged (runs that diverged), `<metric>_mean` and
    `<metric>_sd` (empty when undefined) over the finished runs."""
    rows = []
    for group in report.groups:
        row = dict(zip(report.parameters, group.values))
        row["n"] = str(group.n)
        row["diverged"] = str(len(group.diverged))
        for metric in report.metrics:
            summary = group.summary(metric)
            row[f"{metric}_mean"] = repr(summary.mean) if summary.count else ""
            row[f"{metric}_sd"] = "" if summary.sd is None else repr(summary.sd)
        rows.append(row)
    return rows


def write_csv(report: Report, path: Path) -> Path:
    columns = [*report.parameters, "n", "diverged", *(f"{m}_{stat}" for m in report.metrics for stat in ("mean", "sd"))]
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(csv_rows(report))
    return path
