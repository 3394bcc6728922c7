"""The committed study of docs/study.md: Lucic et al. 2018's protocol ("Are GANs Created Equal?", §5) on nine
methods. Per data set and method, one random search (`search=wide`, the same trials for every method), then
each method's best trial re-run over seeds 1..S, then the report (`python -m gan_zoo.study`).

    python benchmarks/study.py --data ring grid --trials 16 --gen-iters 400 --root outputs/study
    python benchmarks/study.py --data stacked_digits --trials 6 --gen-iters 300 --root outputs/study

Each step is the real entry point (`python -m gan_zoo.train -m`, basic launcher) and resumable: the same command
into the same --root skips the finished trials and reseeds and resumes killed ones, so the study can be run in
several sittings. Extra Hydra overrides for every trial go before `--data` and `--methods` (which take several
values). Every finished multirun's wall time is added to <root>/<data>/times.json (trials per hour; a
killed sitting's time is not counted). `--report-only` rebuilds the reports; `--out` also writes them (table,
CSVs, PNGs) to <out>/<data>/. One process per data set with one torch thread each keeps both cores busy:

    OMP_NUM_THREADS=1 python benchmarks/study.py --data ring ... &
    OMP_NUM_THREADS=1 python benchmarks/study.py --data grid ...
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from sweeps import QUIET, run_multirun, slug

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


def add_time(folder: Path, step: str, seconds: float) -> None:
    """Accumulate the wall time of one finished multirun into <folder>/times.json."""
    path = folder / TIMES
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


if __name__ == "__main__":
    main()
