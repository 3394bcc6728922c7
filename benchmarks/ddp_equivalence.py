"""Proof that DDP training is the same training: N CPU processes (gloo) on per-process batch B against one process
on batch N·B, for every Lipschitz strategy and every objective.

Both set-ups run the real entry point (`python -m gan_zoo.train -m ...`, one multirun per group of cases) on the
same real samples and noise (gan_zoo.parallel.sharding: every process draws the global batch and keeps its slice, dropout
masks included), then this script compares every G and D tensor of the two final checkpoints and the validation
metrics that each rank computed. Prints a markdown table; exits 1 if a case differs by more than --tolerance.

    python benchmarks/ddp_equivalence.py                    # every case, 10 generator iterations, float64
    python benchmarks/ddp_equivalence.py --cases gp,sn,ct   # some cases
    python benchmarks/ddp_equivalence.py --precision 32-true --tolerance 1e-3
    python benchmarks/ddp_equivalence.py --timing           # also: separate vs whole-module DDP, time per iteration

Why float64 by default: Adam divides each gradient by its running RMS, so a gradient that is zero in exact arithmetic
(the WGAN critic's output bias gets E[1] − E[1]) or tiny comes out of float32 as rounding noise whose sign depends on
the order of the sums, and Adam turns it into a step of ±lr. Summing over one batch of 2B or over two of B rounds
differently, so in float32 a few such parameters differ by up to a few learning rates (docs/scaling.md has both
tables); in float64 the noise is ~1e-16 and every parameter agrees.

What cannot match and is excluded: batch statistics inside a net (batch norm normalises each process's batch;
SyncBatchNorm needs GPUs), so the toy nets here have none and the image case sets model.generator.norm=none.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from gan_zoo.runtime.metrics_file import read_metrics

# name → overrides; each group of cases with the same non-swept overrides runs as one multirun.
TOY = ["data=8gaussians", "model=mlp", "model.generator.width=64", "model.critic.width=64",
       "optim.generator.lr=1e-3", "optim.critic.lr=1e-3"]
CASES: dict[str, list[str]] = {
    **{name: [*TOY, "objective=wgan", f"lipschitz={name}"]
       for name in ("none", "clip", "gp", "lp", "dragan", "ct", "sn", "r1")},
    **{f"{name}+gp": [*TOY, f"objective={name}", "lipschitz=gp"]
       for name in ("minimax", "nsgan", "lsgan", "hinge", "loss_sensitive")},
    "ebgan": ["data=8gaussians", "model=mlp_autoencoder", "objective=ebgan", "lipschitz=none",
              "objective.pull_away_weight=0.0"],  # the pulling-away term compares samples across the batch
    "digits-fid": ["data=digits", "model=dcgan", "model.generator.norm=none", "model.generator.width=16",
                   "model.critic.width=16", "objective=wgan", "lipschitz=gp", "metrics=digits",
                   "metrics.num_fake=400", "metrics.num_real=400", "~callbacks.sample_grid"],
}
QUIET = ["logger=csv", "~callbacks.critic_plots", "~callbacks.progress_bar", "+trainer.enable_progress_bar=false",
         "trainer.accelerator=cpu"]
COMPARED = ("val/w_estimate", "val/w1_exact", "val/modes", "val/fid", "val/kid_mean")


def train(cases: list[str], devices: int, batch: int, gen_iters: int, root: Path, extra: list[str]) -> dict[str, Path]:
    """One `gan_zoo.train` run per case into root/<case>; returns case → run folder."""
    folders = {}
    for case in cases:
        folder = root / case
        command = [sys.executable, "-m", "gan_zoo.train", *CASES[case], *QUIET, f"trainer.devices={devices}",
                   f"data.batch_size={batch}", f"gen_iters={gen_iters}", f"eval_every={gen_iters}",
                   f"hydra.run.dir={folder}", *extra]
        result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        if result.returncode != 0:
            sys.exit(f"{case} with {devices} process(es) failed:\n{result.stderr[-4000:]}")
        folders[case] = folder
    return folders


def max_difference(first: Path, second: Path) -> tuple[float, float]:
    """Largest |difference| over every generator and critic tensor of two checkpoints."""
    a, b = (torch.load(p / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
            for p in (first, second))
    worst = {"generator": 0.0, "critic": 0.0}
    for key, tensor in a.items():
        net = key.split(".")[0]
        if net in worst and tensor.is_floating_point():
            worst[net] = max(worst[net], float((tensor - b[key]).abs().max()))
    return worst["generator"], worst["critic"]


def rank_metrics(folder: Path, devices: int) -> list[dict]:
    files = [folder / "metrics.json", *(folder / f"metrics.rank{r}.json" for r in range(1, devices))]
    return [read_metrics(f) for f in files]  # non-finite values come back as floats (metrics_file)


def compare(case: str, single: Path, parallel: Path, devices: int, tolerance: float) -> tuple[str, bool]:
    dg, dd = max_difference(single, parallel)
    reference = rank_metrics(single, 1)[0]
    ranks = rank_metrics(parallel, devices)
    cells, ok = [], dg <= tolerance and dd <= tolerance
    for name in COMPARED:
        if name not in reference:
            continue
        values = [r[name] for r in ranks]
        gap = max(abs(v - reference[name]) for v in values)
        ok &= gap <= tolerance * max(1.0, abs(reference[name]))
        cells.append(f"{name.removeprefix('val/')} {reference[name]:.6g} / "
                     + " / ".join(f"{v:.6g}" for v in values))
    row = f"| {case} | {dg:.1e} | {dd:.1e} | {'; '.join(cells)} | {'yes' if ok else '**NO**'} |"
    return row, ok


def wall_time(folder: Path) -> float:
    return read_metrics(folder / "metrics.json")["wall_time_s"]


def timing(args: argparse.Namespace, root: Path) -> None:
    """Seconds per generator iteration of separate vs whole-module DDP, from the difference of a long and a short
    run (start-up cancels out)."""
    print(f"\n| case | wrapping | s / generator iteration ({args.devices} processes, batch {args.batch} each) |")
    print("|---|---|---|")
    short, long = 5, 5 + args.timing_iters
    for case in args.timing_cases.split(","):
        for wrapping in ("separate", "whole"):
            extra = [f"trainer.strategy.wrapping={wrapping}", *args.override]
            times = []
            for iters in (short, long):
                out = root / f"timing-{wrapping}-{iters}"
                times.append(wall_time(train([case], args.devices, args.batch, iters, out, extra)[case]))
            print(f"| {case} | {wrapping} | {(times[1] - times[0]) / args.timing_iters:.4f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, from: {', '.join(CASES)}")
    parser.add_argument("--devices", type=int, default=2, help="processes of the DDP set-up")
    parser.add_argument("--batch", type=int, default=32, help="per-process batch B (the single process gets N·B)")
    parser.add_argument("--gen-iters", type=int, default=10)
    parser.add_argument("--tolerance", type=float, default=1e-5)
    parser.add_argument("--precision", default="64-true", help="trainer.precision of both set-ups")
    parser.add_argument("--root", type=Path, help="where the runs go (default: a temporary folder)")
    parser.add_argument("--timing", action="store_true", help="also time separate vs whole-module DDP")
    parser.add_argument("--timing-cases", default="gp,sn,digits-fid")
    parser.add_argument("--timing-iters", type=int, default=100)
    parser.add_argument("override", nargs="*", help="extra Hydra overrides for every run")
    args = parser.parse_args()
    cases = args.cases.split(",")
    unknown = sorted(set(cases) - set(CASES))
    if unknown:
        sys.exit(f"unknown case(s) {', '.join(unknown)}: choose from {', '.join(CASES)}")
    root = args.root or Path(tempfile.mkdtemp(prefix="ddp_equivalence_"))
    if (root / "single").exists() or (root / "ddp").exists():
        sys.exit(f"{root} holds runs already (checkpoints would get new names): choose a new --root")
    overrides = [f"trainer.precision={args.precision}", *args.override]
    single = train(cases, 1, args.devices * args.batch, args.gen_iters, root / "single", overrides)
    parallel = train(cases, args.devices, args.batch, args.gen_iters, root / "ddp", overrides)
    print(f"{args.devices} processes × batch {args.batch} vs 1 process × batch {args.devices * args.batch}, "
          f"{args.gen_iters} generator iterations, precision {args.precision}, CPU (gloo); "
          f"tolerance {args.tolerance:g}\n")
    print("| case | max abs ΔG | max abs ΔD | validation: single / rank 0 / rank 1 … | equal |")
    print("|---|---|---|---|---|")
    all_ok = True
    for case in cases:
        row, ok = compare(case, single[case], parallel[case], args.devices, args.tolerance)
        print(row, flush=True)
        all_ok &= ok
    if args.timing:
        timing(args, root)
    sys.exit(0 if all_ok else 1)


if __name__ == "__main__":
    main()
