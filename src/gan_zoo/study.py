"""Compare methods over a search: best metric against the budget, its spread over trials, the best configuration
over seeds, and whether the critic's estimate tracks the true distance (Lucic et al. 2018 §5; Arjovsky et al. 2017
§4.2).

Usage:

    python -m gan_zoo.study <sweep folder> [<sweep folder> ...]            # or gan-zoo-study
    python -m gan_zoo.study <sweep> --metric val/precision --out reports/study
    python -m gan_zoo.study <sweep> --reseed 5                 # print the commands re-running each method's best
    python -m gan_zoo.study <sweep> --reseed 5 --launch        # ... and run them, one after the other
    python -m gan_zoo.study <sweep> <out>/reseed               # the table then shows mean ± sd over those seeds

Every run folder under the given folders counts (a `-m` sweep's numbered jobs, a random search's trial folders, a
reseed folder). Runs are grouped by method, `<objective>+<lipschitz>` (+ the choice of a `tricks` config group;
`--by key,...` splits further by config values), from each run's stored config. A run's trial is `search.trial` of
its config (a random search records it; trial 0 holds the method's defaults), else its job number. Per method:

- best `--metric` over its trials (default val/fid on images, val/w1_exact on toy data, val/stacked_kl on stacked
  digits trained with metrics=none), each trial's value being
  its best over its checkpoints (Lucic et al. 2018; from `python -m gan_zoo.evaluate run=`'s evaluation.json where
  there is one, else the logged validations; `--at last` takes the last) and every other metric read at that same
  checkpoint; trial 0's value and the median over trials;
- best of K: for k = 1..K trials, the best of k trials drawn with replacement, `--resamples` times (seeded by
  `--seed`): the mean of the bests and their 2.5/97.5 percentiles (the 95 % band; Lucic et al. 2018 Fig. 4);
  study_budget_<metric>.png shows the curve for every k; diverged trials are counted, never drawn;
- study_trials_<metric>.png: a box of the metric over the trials, trial 0 marked;
- the reseeded best: `--reseed S` prints one `python -m gan_zoo.train -m` command per method, the best trial's
  overrides with seed=1..S and `+study.reseed_of=<method>`, into <out>/reseed/<method>/ (`--launch` runs them);
  given to a later study, those runs are that method's seeds, shown as mean ± sd, not as trials;
- ρ: Spearman's rank correlation between the critic's held-out estimate (val/w_estimate) and exact W1 (toy), FID
  (images) or, without FID, the stacked-digits mode KL over each trial's validations (csv/metrics.csv: train with
  logger=csv); the median over trials and how many exceed 0.8. Trials with fewer than 3 validations, or a constant series, have no ρ and are left out
  (counted in the cell); study_estimate_curves.png draws both curves for one run per method.

Writes study.md (the table), study.csv (one row per method), study_trials.csv (one row per run) and the PNGs into
--out (default: the first folder). Exit codes: 0 with a report, 1 when no run has finished, 2 for a folder that
does not exist or an unknown metric (one `gan_zoo: error:` line on stderr), else the first failed reseed job's.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from gan_zoo.errors import ConfigError, GanZooError
from gan_zoo.reporting.study_plots import write_plots
from gan_zoo.reporting.study_report import (CSV_FILE, TABLE_FILE, TRIALS_FILE, build_study, markdown_table, notes,
                                            reseed_commands, shell_line, write_csv, write_trials_csv)
from gan_zoo.reporting.study_runs import available_metrics, check_metric, default_metric, read_runs
from gan_zoo.runtime.cli import report as report_error


def positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m gan_zoo.study", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", type=Path, nargs="+", help="sweep, search or reseed folders")
    parser.add_argument("--metric", help="the metric to compare (default: val/fid on images, val/w1_exact on toy "
                        "data, val/stacked_kl on stacked digits without FID)")
    parser.add_argument("--at", choices=("best", "last"), default="best",
                        help="each run's value at its best checkpoint (default) or its last")
    parser.add_argument("--by", type=lambda text: [k.strip() for k in text.split(",") if k.strip()], default=[],
                        help="config keys that also tell methods apart, e.g. ema_decay,n_critic")
    parser.add_argument("--out", type=Path, help="where to write the report (default: the first folder)")
    parser.add_argument("--resamples", type=positive, default=1000, help="bootstrap draws per budget k (1000)")
    parser.add_argument("--seed", type=int, default=0, help="the bootstrap's seed (0)")
    parser.add_argument("--reseed", type=positive, metavar="S",
                        help="print the commands re-running each method's best trial over seeds 1..S")
    parser.add_argument("--reseed-dir", type=Path, help="where the reseed runs go (default: <out>/reseed)")
    parser.add_argument("--launch", action="store_true", help="with --reseed: run the commands too")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    """Print the table and its notes; write the CSVs and the plots; print or launch the reseed commands."""
    if args.launch and not args.reseed:
        raise ConfigError("--launch runs the --reseed commands: add --reseed S (the number of seeds)")
    runs = read_runs(args.folders, args.by)
    available = available_metrics(runs)
    metric = check_metric(args.metric, available) if args.metric else default_metric(available)
    study = build_study(runs, metric, available, args.at, args.resamples, args.seed)
    table = markdown_table(study)
    print(table)
    print()
    for line in notes(study):
        print(line)
    out = args.out or args.folders[0]
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / TABLE_FILE).write_text(table + "\n\n" + "\n".join(notes(study)) + "\n")
        written = [out / TABLE_FILE, write_csv(study, out / CSV_FILE), write_trials_csv(study, out / TRIALS_FILE),
                   *write_plots(study, out)]
    except OSError as error:
        raise GanZooError(f"cannot write the study to {out} ({error.strerror or error}): choose a writable "
                          f"folder with --out") from error
    print()
    for path in written:
        print(f"wrote {path}")
    if not args.reseed:
        return 0
    commands = reseed_commands(study, args.reseed, args.reseed_dir or out / "reseed")
    print(f"\nthe best trial of each method over seeds 1..{args.reseed}:")
    for command in commands:
        print(shell_line(command))
    if not args.launch:
        return 0
    for command in commands:
        print(f"\nlaunching: {shell_line(command)}", flush=True)
        code = subprocess.run(command).returncode
        if code != 0:
            raise GanZooError(f"a reseed sweep exited with {code}: see its jobs' train.log; the others were not run")
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        sys.exit(run(args))
    except GanZooError as error:
        report_error(error)
        sys.exit(error.exit_code)


if __name__ == "__main__":
    main()
