"""Reports over finished runs: a sweep's table, CSV and plots (`python -m gan_zoo.report`, in gan_zoo.report).

- runs: reading a multirun's job folders (overrides, metrics.json);
- summary: grouping the finished jobs over their seeds, mean ± sd per metric (diverged jobs counted, not averaged);
- table: the markdown table and report.csv;
- plots: one matplotlib plot per metric (matplotlib is imported only when one is drawn)."""

from gan_zoo.reporting.plots import plot_metric, slug, write_plots, x_parameter, x_scale
from gan_zoo.reporting.runs import (CSV_FILE, METRICS_FILE, OVERRIDES_FILE, Job, NotAMultirunError,
                                    NothingFinishedError, job_folders, numeric_values, parse_override, parse_overrides,
                                    read_job, read_jobs, read_metrics, read_record)
from gan_zoo.reporting.summary import (BOOKKEEPING, SEED, Group, Report, Summary, available_metrics, build_report,
                                       choose_metrics, group_jobs, summarise, swept_parameters)
from gan_zoo.reporting.table import (csv_rows, diverged_cell, diverged_line, format_cell, format_mean_sd,
                                     markdown_table, unfinished_line, write_csv)

__all__ = [
    "BOOKKEEPING", "CSV_FILE", "METRICS_FILE", "OVERRIDES_FILE", "SEED",
    "Group", "Job", "NotAMultirunError", "NothingFinishedError", "Report", "Summary",
    "available_metrics", "build_report", "choose_metrics", "csv_rows", "diverged_cell", "diverged_line", "format_cell",
    "format_mean_sd", "group_jobs", "job_folders", "markdown_table", "numeric_values", "parse_override",
    "parse_overrides", "plot_metric", "read_job", "read_jobs", "read_metrics", "read_record", "slug", "summarise",
    "swept_parameters", "unfinished_line", "write_csv", "write_plots", "x_parameter", "x_scale",
]
