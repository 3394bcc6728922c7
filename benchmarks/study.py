"""The committed study of docs/study.md: Lucic et al. 2018's protocol ("Are GANs Created Equal?", §5) on nine
methods. Per data set and method, one random search (`search=wide`, the same trials for every method), then
each method's best trial re-run over seeds 1..S, then the report (`python -m gan_zoo.study`).

    python benchmarks/study.py --data ring grid --trials 16 --gen-iters 400 --root outputs/study
    python benchmarks/study.py callbacks.stacked_modes.num_samples=2000 --data stacked_digits --trials 6 \
        --gen-iters 150 --root outputs/study --final-samples 10000

Each step is the real entry point (`python -m gan_zoo.train -m`, basic launcher) and resumable: the same command
into the same --root skips the finished trials and reseeds and resumes killed ones, so the study can be run in
several sittings. Extra Hydra overrides for every trial go before `--data` and `--methods` (which take several
values). Every finished multirun's wall time is added to <root>/<data>/times.json (trials per hour; a
killed sitting's time is not counted). `--report-only` rebuilds the reports; `--out` also writes them (table,
CSVs, PNGs) to <out>/<data>/ and <out>/summary.md (every method's reseeded best and rank on each data set);
`--final-samples N` evaluates each reseeded run's last checkpoint on N samples (<data>/final_<N>.md). One
process per data set with one torch thread each keeps both cores busy:

    OMP_NUM_THREADS=1 python benchmarks/study.py --data ring ... &
    OMP_NUM_THREADS=1 python benchmarks/study.py --data grid ...
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import json
import math
import subprocess
import sys
import time
from pathlib import Path

from sweeps import QUIET, run_multirun, slug

from gan_zoo.reporting import summarise

# The methods of Lucic et al. 2018 that gan_zoo has, plus the Lipschitz strategies of the WGAN line and one
# f-GAN divergence (Nowozin et al. 2016). Adam for every method, as compare_gan: the wide space searches its β1.
METHODS: dict[str, list[str]] = {
    "NS-GAN": ["objective=nsgan", "lipschitz=none"],
    "LSGAN": ["objective=lsgan", "lipschitz=none"],
    "WGAN + clip": ["objective=wgan", "lipschitz=clip"],
    "WGAN-GP": ["objective=wgan", "lipschitz=gp"],
    "WGAN-LP": ["objective=wgan", "lipschitz=lp"],
    "NS-GAN + DRAGAN": ["objective=nsgan", "lipschitz=dragan"],
    "hinge + SN": ["objective=hinge", "lipschitz=sn"],
    "NS-GAN + R1": ["objective=nsgan", "lipschitz=r1"],
    "f-GAN KL": ["objective=fgan", "objective.divergence=kl", "lipschitz=none"],
}
# What every trial shares besides its method: the nets, the budget, five validations (the ρ of the meaningful-loss
# claim needs at least 3), the CSV log the study reads them from.
TOY = ["model.generator.width=128", "model.critic.width=128"]
# stacked digits: the mode metric is its callback's (val/stacked_kl, val/stacked_modes), no FID network
IMAGES = ["model=dcgan", "metrics=none"]
DATA = {"ring": TOY, "grid": TOY, "8gaussians": TOY, "stacked_digits": IMAGES}
TIMES = "times.json"


def report_name(name: str) -> str:
    """The report's name of a method ("WGAN-GP" → "wgan+gp"): `<objective>+<lipschitz>` of its overrides."""
    chosen = dict(override.split("=", 1) for override in METHODS[name] if "." not in override.split("=")[0])
    return f"{chosen['objective']}+{chosen['lipschitz']}"


def reseeded(row: dict[str, str]) -> float:
    """A study.csv row's reseeded mean (its best trial's value if it was not reseeded; NaN if it has none)."""
    value = row.get("reseed_mean") or row.get("best") or "nan"
    return float(value)


def write_summary(out: Path, datasets: list[str]) -> Path | None:
    """<out>/summary.md: every method's reseeded best (mean ± sd over the seeds) and its rank on each data set
    whose report is in <out>/<data>/study.csv, the mean rank over them, and the median ρ per data set."""
    tables = {data: {row["method"]: row for row in csv.DictReader((out / data / "study.csv").open())}
              for data in datasets if (out / data / "study.csv").exists()}
    if not tables:
        return None
    ranks: dict[str, dict[str, int]] = {}
    for data, rows in tables.items():
        ordered = sorted((name for name in METHODS if report_name(name) in rows
                          and not math.isnan(reseeded(rows[report_name(name)]))),
                         key=lambda name: reseeded(rows[report_name(name)]))
        ranks[data] = {name: place for place, name in enumerate(ordered, start=1)}
    lines = ["| method | " + " | ".join(f"{data}: reseeded best (rank)" for data in tables) + " | mean rank | "
             + " | ".join(f"{data}: median ρ" for data in tables) + " |",
             "|---" * (1 + 2 * len(tables) + 1) + "|"]

    def mean_rank(name: str) -> float:
        places = [ranks[data][name] for data in tables if name in ranks[data]]
        return sum(places) / len(places) if places else float("inf")

    for name in sorted(METHODS, key=mean_rank):
        cells, rhos = [], []
        for data, rows in tables.items():
            row = rows.get(report_name(name))
            if row is None:
                cells.append("–")
                rhos.append("–")
                continue
            if name not in ranks[data]:  # no value at all (every trial diverged): no rank
                cells.append("–")
            else:
                spread = f" ± {float(row['reseed_sd']):.2g}" if row.get("reseed_sd") else ""
                unseeded = "" if row.get("reseed_mean") else " †"  # its best trial: not reseeded yet
                cells.append(f"{reseeded(row):.3g}{spread}{unseeded} ({ranks[data][name]})")
            rhos.append(f"{float(row['rho_median']):.2f}" if row.get("rho_median") else "–")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {mean_rank(name):.1f} | " + " | ".join(rhos) + " |")
    lines += ["", "Reseeded best: the mean ± sd of the method's best trial re-run over the seeds, in each data set's "
              "metric (its <data>/study.md; lower is better); rank 1 is the lowest mean. Median ρ: over the "
              "method's trials, Spearman's ρ between the critic's estimate and that metric. † the best trial's value: "
              "the method has no reseeds yet."]
    path = out / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return path


# What `--final-samples` shows of each reseeded run's last checkpoint (keys of gan_zoo.evaluate's JSON)
FINAL_KEYS = {"stacked_digits": ["stacked_modes", "stacked_kl"], "toy": ["w1_exact", "modes", "high_quality"]}


def evaluate_finals(root: Path, data: str, samples: int, out: Path | None) -> None:
    """`python -m gan_zoo.evaluate` on the last checkpoint of every reseeded run of <root>/<data>/reseed/ with
    `samples` generated samples (an evaluation already there is kept), and the table of mean ± sd per method:
    the reseeded best measured on more samples than its validations used."""
    keys = FINAL_KEYS["stacked_digits" if data == "stacked_digits" else "toy"]
    lines = [f"| method | runs | " + " | ".join(f"{key} (mean ± sd)" for key in keys) + " |",
             "|---" * (2 + len(keys)) + "|"]
    reference: dict[str, float] = {}
    for name in METHODS:
        results = []
        for checkpoint in sorted((root / data / "reseed" / slug(report_name(name))).glob("*/checkpoints/last.ckpt")):
            target = checkpoint.parent.parent / "evaluation" / f"last_{samples}.json"
            if not target.exists():
                command = [sys.executable, "-m", "gan_zoo.evaluate", f"ckpt_path={checkpoint}", f"num_fake={samples}",
                           f"out={target}"]
                result = subprocess.run(command, capture_output=True, text=True)
                if result.returncode != 0:
                    sys.exit(f"{data}: evaluating {checkpoint} failed:\n{result.stderr[-3000:]}")
            results.append(json.loads(target.read_text()))
        if not results:
            continue
        reference = {k: v for k, v in results[0].items()
                     if k.endswith(("_real", "_uniform", "noise_floor")) and not k.startswith("num_")}
        cells = []
        for key in keys:
            summary = summarise(float(r[key]) if r.get(key) is not None else float("nan") for r in results)
            spread = f" ± {summary.sd:.2g}" if summary.sd is not None else ""
            cells.append(f"{summary.mean:.4g}{spread}" if summary.count else "–")
        lines.append(f"| {name} | {len(results)} | " + " | ".join(cells) + " |")
    lines += ["", f"Each reseeded run's last checkpoint, {samples:,} generated samples (`python -m gan_zoo.evaluate "
              f"ckpt_path=<run>/checkpoints/last.ckpt num_fake={samples}`). The data's own values at that count: "
              + ", ".join(f"{k} {v:.4g}" for k, v in sorted(reference.items())) + "."]
    text = "\n".join(lines) + "\n"
    print(text)
    for folder in [root / data / "report", *([out / data] if out else [])]:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"final_{samples}.md").write_text(text)


def add_time(folder: Path, step: str, seconds: float) -> None:
    """Accumulate the wall time of one finished multirun into <folder>/times.json. Locked: two processes of one
    study (both cores) finishing at once would otherwise each write back what it read, losing the other's time."""
    path = folder / TIMES
    with (folder / f"{TIMES}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        times = json.loads(path.read_text()) if path.exists() else {}
        times[step] = times.get(step, 0.0) + seconds
        path.write_text(json.dumps(times, indent=1) + "\n")


def search(args: argparse.Namespace, data: str, name: str) -> None:
    folder = args.root / data / slug(name)
    # the method and the search last, so that a shared extra override cannot replace them
    overrides = ["optim=adam", f"data={data}", *DATA[data], f"gen_iters={args.gen_iters}",
                 f"eval_every={max(1, args.gen_iters // args.validations)}", "keep_checkpoints=last", *QUIET,
                 *args.override, *METHODS[name], f"search={args.space}", f"search.trials={args.trials}",
                 f"search.seed={args.search_seed}"]
    add_time(args.root / data, f"search {name}", run_multirun(f"{data}: {name}", overrides, folder))


def study(args: argparse.Namespace, data: str, out: Path, reseed: bool) -> None:
    """`python -m gan_zoo.study` over the methods' searches (and their reseeds), into out."""
    root = args.root / data
    folders = [root / slug(name) for name in args.methods if (root / slug(name)).exists()]
    reseeds = root / "reseed"
    command = [sys.executable, "-m", "gan_zoo.study", *[str(f) for f in folders]]
    if reseeds.exists():
        command.append(str(reseeds))
    command += ["--out", str(out)]
    if reseed:
        command += ["--reseed", str(args.seeds), "--reseed-dir", str(reseeds), "--launch"]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{data}: the study failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    if reseed:
        add_time(root, "reseeds", time.perf_counter() - started)
    if not reseed:  # the launched reseed jobs print their own summaries: only the final table is shown
        print(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", nargs="+", default=["ring", "grid"], choices=list(DATA))
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS), metavar="METHOD")
    parser.add_argument("--space", default="wide", choices=["wide", "narrow"])
    parser.add_argument("--trials", type=int, default=16, help="trials per method, trial 0 the defaults (16)")
    parser.add_argument("--search-seed", type=int, default=0)
    parser.add_argument("--gen-iters", type=int, default=400, help="budget per trial, in generator iterations")
    parser.add_argument("--validations", type=int, default=5, help="validations per trial (5)")
    parser.add_argument("--seeds", type=int, default=3, help="reseeds of each method's best trial (3)")
    parser.add_argument("--root", type=Path, default=Path("outputs/study"))
    parser.add_argument("--out", type=Path, help="also write each data set's report to <out>/<data>/")
    parser.add_argument("--report-only", action="store_true", help="no training: only rebuild the reports")
    parser.add_argument("--final-samples", type=int, metavar="N",
                        help="also evaluate every reseeded run's last checkpoint on N samples (final_<N>.md)")
    parser.add_argument("override", nargs="*", help="extra Hydra overrides for every trial")
    args = parser.parse_args()
    for data in args.data:
        (args.root / data).mkdir(parents=True, exist_ok=True)
        if not args.report_only:
            for name in args.methods:
                search(args, data, name)
        if not args.report_only and args.seeds > 0:
            study(args, data, args.root / data / "report", reseed=True)
        study(args, data, args.root / data / "report", reseed=False)  # now with the reseeds
        if args.out:
            study(args, data, args.out / data, reseed=False)
        if args.final_samples:
            evaluate_finals(args.root, data, args.final_samples, args.out)
    if args.out:  # every data set reported into --out so far, this sitting's or an earlier one's
        write_summary(args.out, list(DATA))


if __name__ == "__main__":
    main()
