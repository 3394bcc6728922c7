"""A study's pictures: the best metric against the budget with its bootstrap band (Lucic et al. 2018, Fig. 4), the
metric's distribution over trials (their Fig. 5, box plots; trial 0, the defaults, marked), and the critic's
estimate beside W1/FID over one run of each method (Arjovsky et al. 2017, Fig. 3–4).

matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gan_zoo.reporting.plots import slug
from gan_zoo.reporting.study_report import DEFAULT_TRIAL, Study, Trial, target_name
from gan_zoo.reporting.study_runs import ESTIMATE, finite, lower_is_better
from gan_zoo.reporting.study_stats import MIN_VALIDATIONS, estimate_series

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def new_figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def plot_budget(study: Study, path: Path) -> Path:
    """One line per method: the mean best-of-k over bootstrap draws, shaded between the 2.5/97.5 percentiles."""
    figure = new_figure(6.4, 4.4)
    axes = figure.subplots()
    for method in study.methods:
        curve = method.curve
        if not curve.k:
            continue
        (line,) = axes.plot(curve.k, curve.mean, marker="o", markersize=3, label=method.name)
        axes.fill_between(curve.k, curve.low, curve.high, color=line.get_color(), alpha=0.2)
    axes.set_xlabel("budget k (trials)")
    best = "min" if lower_is_better(study.metric) else "max"
    axes.set_ylabel(f"{best} {study.metric} over k trials")
    axes.set_title(f"best {study.metric} against the budget (mean, 95 % band, {study.resamples} draws)")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    figure.savefig(path, dpi=120)
    return path


def plot_distribution(study: Study, path: Path) -> Path:
    """A box per method of the metric over its trials, every trial a dot, trial 0 (the defaults) a red star."""
    figure = new_figure(max(6.4, 1.2 * len(study.methods) + 2), 4.4)
    axes = figure.subplots()
    positions = range(1, len(study.methods) + 1)
    data = [[t.value(study.metric) for t in m.finite_trials(study.metric)] for m in study.methods]
    axes.boxplot([values or [float("nan")] for values in data], positions=list(positions), widths=0.5,
                 showfliers=False)
    marked = False
    for position, method, values in zip(positions, study.methods, data):
        if values:
            spread = [position + 0.12 * ((i % 5) - 2) / 2 for i in range(len(values))]
            axes.scatter(spread, values, s=12, color="tab:blue", alpha=0.6, zorder=3)
        default = method.default()
        if default is not None and finite(default.values.get(study.metric)):
            axes.scatter([position], [default.value(study.metric)], marker="*", s=140, color="tab:red", zorder=4,
                         label=None if marked else f"trial {DEFAULT_TRIAL} (defaults)")
            marked = True
    axes.set_xticks(list(positions), [m.name for m in study.methods], rotation=30 if len(study.methods) > 3 else 0,
                    ha="right" if len(study.methods) > 3 else "center", fontsize="small")
    axes.set_ylabel(study.metric)
    axes.set_title(f"{study.metric} over each method's trials")
    axes.grid(alpha=0.3, axis="y")
    if marked:
        axes.legend(fontsize="small")
    figure.savefig(path, dpi=120)
    return path


def shown_run(trials: tuple[Trial, ...], metric: str) -> Trial | None:
    """The run whose curves are drawn for a method: its best trial among those with enough validations."""
    usable = [t for t in trials if len(estimate_series(t.run)[1]) >= MIN_VALIDATIONS]
    ranked = [t for t in usable if finite(t.values.get(metric))]
    if ranked:
        return (min if lower_is_better(metric) else max)(ranked, key=lambda t: t.value(metric))
    return usable[0] if usable else None


def plot_estimate_curves(study: Study, path: Path) -> Path:
    """Per method, one run: the critic's estimate (left axis) and W1 or FID (right axis) against generator
    iterations, titled with their Spearman ρ."""
    figure = new_figure(5.0 * min(len(study.methods), 3), 3.6 * ((len(study.methods) + 2) // 3))
    grid = figure.subplots((len(study.methods) + 2) // 3, min(len(study.methods), 3), squeeze=False)
    for axes in grid.flat[len(study.methods):]:
        axes.set_visible(False)
    for axes, method in zip(grid.flat, study.methods):
        trial = shown_run(method.trials, study.metric)
        if trial is None:
            axes.set_title(f"{method.name}: fewer than {MIN_VALIDATIONS} validations", fontsize="small")
            continue
        target, steps, estimates, targets = estimate_series(trial.run)
        axes.plot(steps, estimates, marker="o", color="tab:blue")
        axes.set_ylabel(ESTIMATE, color="tab:blue")
        axes.set_xlabel("generator iteration")
        twin = axes.twinx()
        twin.plot(steps, targets, marker="s", color="tab:orange")
        twin.set_ylabel(target or "", color="tab:orange")
        rho = f"{trial.rho:.2f}" if finite(trial.rho) else "undefined"
        axes.set_title(f"{method.name}, trial {trial.run.trial}: ρ = {rho}", fontsize="small")
        axes.grid(alpha=0.3)
    figure.suptitle(f"critic's estimate and {target_name(study)} over training (one run per method)")
    figure.savefig(path, dpi=110)
    return path


def write_plots(study: Study, out: Path) -> list[Path]:
    name = slug(study.metric)
    return [plot_budget(study, out / f"study_budget_{name}.png"),
            plot_distribution(study, out / f"study_trials_{name}.png"),
            plot_estimate_curves(study, out / "study_estimate_curves.png")]
