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
- counts a job whose metrics.json records a divergence (`"diverged": true`, a NaN/Inf loss;
  gan_zoo.runtime.divergence) as a failure of its configuration: a "diverged" column ("1 of 3") whenever some
  job diverged, and one line naming each diverged job and where it diverged; it is neither unfinished nor part
  of any mean, and `n` counts the finished runs only;
- writes report.csv (swept parameters, n, diverged, `<metric>_mean`, `<metric>_sd`) and `report_<metric>.png`
  (the metric against the first numeric swept parameter, one line per combination of the others; a bar chart per
  group when no swept parameter is numeric) into the multirun folder, or into --out.

Metrics: by default every numeric value in metrics.json, validation metrics (val/...) first; the bookkeeping
values (gen_iter, critic_steps, wall_time_s) come last in the table and the CSV and are not plotted.
`--metrics a,b` picks exactly those (and plots them, bookkeeping or not).

Exit codes: 0 with a report, 1 when no job has finished yet, 2 for a folder that is not a multirun or an
unknown metric (one line on stderr, like `gan_zoo.train`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from gan_zoo.errors import GanZooError
from gan_zoo.reporting.plots import write_plots
from gan_zoo.reporting.runs import CSV_FILE
from gan_zoo.reporting.summary import build_report
from gan_zoo.reporting.table import diverged_line, markdown_table, unfinished_line, write_csv
from gan_zoo.runtime.cli import report as report_error


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
    if report.diverged:
        print(f"\n{diverged_line(report)}")
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
