"""Mode coverage and exact W1 of ten objective × Lipschitz pairs, f-GAN's eight divergences, four of
Salimans et al. 2016's techniques and TTUR on ring and grid, beside PacGAN Table 1.

Each pair runs as one Hydra multirun over data × seeds (the real entry point, basic launcher) and the table
is built from every run's metrics.json. Example (the committed table in docs/benchmarks.md):

    python benchmarks/toy_modes.py --gen-iters 1000 --seeds 5 --out docs/toy_modes.md

`--collect DIR` rebuilds the table from an earlier run folder without training; `--device cuda` trains on a GPU.
"""

from __future__ import annotations

import argparse
import math
import statistics
from pathlib import Path

from sweeps import add_run_arguments, collect_jobs, mean_se, publish, run_multirun, run_overrides, slug

PAIRS: dict[str, list[str]] = {
    "NS-GAN": ["objective=nsgan", "lipschitz=none"],
    "LSGAN": ["objective=lsgan", "lipschitz=none"],
    "WGAN + clip": ["objective=wgan", "lipschitz=clip", "optim=rmsprop"],
    "WGAN + GP": ["objective=wgan", "lipschitz=gp"],
    "WGAN + LP": ["objective=wgan", "lipschitz=lp"],
    "NS-GAN + DRAGAN": ["objective=nsgan", "lipschitz=dragan"],
    "hinge + SN": ["objective=hinge", "lipschitz=sn"],
    "WGAN + CT": ["objective=wgan", "lipschitz=ct"],
    "NS-GAN + R1": ["objective=nsgan", "lipschitz=r1"],
    "EBGAN": ["objective=ebgan", "model=mlp_autoencoder", "lipschitz=none"],
    # Salimans et al. 2016, §3: each technique on its own, on NS-GAN without a Lipschitz constraint
    "NS-GAN + feature matching": ["objective=nsgan", "lipschitz=none", "generator_loss=feature_matching"],
    "NS-GAN + label smoothing 0.9": ["objective=nsgan", "lipschitz=none", "objective.real_label=0.9"],
    "NS-GAN + historical averaging": ["objective=nsgan", "lipschitz=none", "regularizer=historical_averaging"],
    # 16 kernels of 5 (the paper's CIFAR-10 net has 100): the batch of 256 makes N²·B·C = 5M pairwise terms
    "NS-GAN + minibatch discrimination": ["objective=nsgan", "lipschitz=none", "model.critic.minibatch_kernels=16"],
    # TTUR (Heusel et al. 2017) as experiment=ttur_toy: one critic step per generator step, so a fifth of the
    # other rows' critic updates at the same generator budget
    "NS-GAN + TTUR": ["objective=nsgan", "lipschitz=none", "n_critic=1", "optim=adam_sngan", "optim.critic.lr=4e-4",
                      "optim.generator.lr=1e-4"],
    # f-GAN (Nowozin et al. 2016), one row per divergence, no Lipschitz constraint as in the paper
    **{f"f-GAN {label}": ["objective=fgan", f"objective.divergence={divergence}", "lipschitz=none"]
       for label, divergence in (("KL", "kl"), ("reverse KL", "reverse_kl"), ("JS", "jensen_shannon"),
                                 ("Pearson", "pearson"), ("squared Hellinger", "squared_hellinger"),
                                 ("TV", "total_variation"), ("Neyman", "neyman"), ("GAN", "gan"))},
}
# The shipped configuration for the PacGAN4 target (its own nets, lr and decay); not in the default set:
# `--pairs target --gen-iters 20000`.
TARGET = "NS-GAN + R1, experiment=toy_modes_r1"
PAIRS["target"] = ["experiment=toy_modes_r1"]
NAMES = {"target": TARGET}

# PacGAN Table 1 (Lin et al. 2018), mean ± standard error over 10 trials: ring modes, HQ %, rev-KL, grid ...
PACGAN = {
    "GAN": ("6.3±0.5", "98.2±0.2", "0.45±0.09", "17.3±0.8", "94.8±0.7", "0.70±0.07"),
    "ALI": ("6.6±0.3", "97.6±0.4", "0.36±0.04", "24.1±0.4", "95.7±0.6", "0.14±0.03"),
    "PacGAN2": ("7.9±0.1", "95.6±2.0", "0.07±0.03", "23.8±0.7", "91.3±0.8", "0.13±0.04"),
    "PacGAN3": ("7.8±0.1", "97.7±0.3", "0.10±0.02", "24.6±0.4", "94.2±0.4", "0.06±0.02"),
    "PacGAN4": ("7.8±0.1", "95.9±1.4", "0.07±0.02", "24.8±0.2", "93.6±0.6", "0.04±0.01"),
}

DATASETS = ("ring", "grid")


def collect(root: Path) -> dict[tuple[str, str], list[dict]]:
    """metrics.json of every job, keyed by (pair name, data)."""
    runs: dict[tuple[str, str], list[dict]] = {}
    for name in PAIRS:
        for overrides, metrics in collect_jobs(root / slug(name), diverged=True):
            runs.setdefault((name, overrides["data"]), []).append(metrics)
    return runs


def table(runs: dict[tuple[str, str], list[dict]]) -> str:
    lines = ["| method | data | runs | modes | high-quality % | reverse KL | exact W1 (floor) | critic estimate | "
             "wall time / run (s) |", "|---|---|---|---|---|---|---|---|---|"]
    for (name, data), metrics in runs.items():
        get = lambda key: [m.get(key, math.nan) for m in metrics]  # noqa: E731
        finite = lambda key: [v for v in get(key) if math.isfinite(v)]  # noqa: E731
        diverged = sum(bool(m.get("diverged")) for m in metrics)  # counted, never averaged (no metrics)
        count = f"{len(metrics)} ({diverged} diverged)" if diverged else str(len(metrics))
        floor = f"{statistics.fmean(finite('val/w1_noise_floor')):.3f}" if finite("val/w1_noise_floor") else "–"
        wall = f"{statistics.fmean(finite('wall_time_s')):.0f}" if finite("wall_time_s") else "–"
        lines.append(
            f"| {NAMES.get(name, name)} | {data} | {count} | {mean_se(get('val/modes'), 1)} | "
            f"{mean_se(get('val/high_quality'), 1, 100)} | {mean_se(get('val/reverse_kl'), 2)} | "
            f"{mean_se(get('val/w1_exact'), 3)} ({floor}) | {mean_se(get('val/w_estimate_exact'), 3, kind='g')} | "
            f"{wall} |")
    lines += ["", "PacGAN Table 1 (Lin et al. 2018; 10 trials, mean ± standard error), for comparison:", "",
              "| method | ring modes (/8) | ring HQ % | ring rev-KL | grid modes (/25) | grid HQ % | grid rev-KL |",
              "|---|---|---|---|---|---|---|"]
    lines += [f"| {name} | " + " | ".join(row) + " |" for name, row in PACGAN.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(parser, seeds=5, root="outputs/benchmarks/toy_modes")
    parser.add_argument("--data", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--pairs", nargs="+", default=[p for p in PAIRS if p != "target"], choices=list(PAIRS),
                        metavar="PAIR")
    args = parser.parse_args()
    root = args.collect or args.root
    if args.collect is None:
        for name in args.pairs:
            # the pair's own overrides last, so that they win over the shared extra ones (TTUR's two rates)
            run_multirun(name, [f"data={','.join(args.data)}", *run_overrides(args), *PAIRS[name]], root / slug(name))
    publish(args, table(collect(root)))


if __name__ == "__main__":
    main()
