"""One matplotlib plot per metric: mean ± sd against the first numeric swept parameter, or bars per group.

matplotlib is imported only when a plot is drawn, so reading a multirun and reporting its errors never loads it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gan_zoo.reporting.summary import Report, Summary, is_numeric, sort_key
from gan_zoo.reporting.table import group_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# The Lipschitz weights and clip values (λ of GP/LP/DRAGAN/CT, λ_CT, R1's γ, the clip c) are swept over decades.
LOG_SCALE_PARAMETERS = frozenset({"lambda_", "lambda_ct", "gamma", "c"})
LOG_SCALE_SPAN = 100.0  # any positive parameter spanning at least this factor is plotted on a log axis


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
