"""FID, KID and IS (digit-classifier features, offline) of five GAN variants on scikit-learn's digits.

Every method trains the same DCGAN nets (28 px) for the same number of generator iterations with its own
paper's optimiser and n_critic, as one Hydra multirun over seeds through the real entry point. The table
is built from every run's metrics.json. Example (the committed table in docs/images.md):

    python benchmarks/digits_fid.py --gen-iters 1000 --seeds 3 --out docs/images.md

`--collect DIR` rebuilds the table from an earlier --root; `--device cuda` trains on a GPU.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from sweeps import add_run_arguments, collect_jobs, mean_se, publish, run_multirun, run_overrides, slug

ADAM_DCGAN = ["optim.generator.lr=2e-4", "optim.critic.lr=2e-4", "optim.generator.betas=[0.5,0.999]",
              "optim.critic.betas=[0.5,0.999]", "n_critic=1"]
METHODS: dict[str, list[str]] = {
    "WGAN-GP (λ 10, Adam 1e-4 (0, 0.9), n_critic 5)": [
        "objective=wgan", "lipschitz=gp", "optim=adam_sngan", "optim.generator.lr=1e-4", "optim.critic.lr=1e-4",
        "n_critic=5"],
    "WGAN + clip (c 0.01, RMSProp 5e-5, n_critic 5)": [
        "objective=wgan", "lipschitz=clip", "optim=rmsprop", "n_critic=5"],
    "SNGAN (hinge + SN, Adam 2e-4 (0, 0.9), n_dis 5)": [
        "objective=hinge", "lipschitz=sn", "optim=adam_sngan", "n_critic=5"],
    "NS-GAN (Adam 2e-4 (0.5, 0.999), 1:1)": ["objective=nsgan", "lipschitz=none", *ADAM_DCGAN],
    "LSGAN (0-1 coding, Adam 2e-4 (0.5, 0.999), 1:1)": ["objective=lsgan", "lipschitz=none", *ADAM_DCGAN],
}
COMMON = ["data=digits", "model=dcgan", "metrics=digits"]


def table(root: Path) -> str:
    lines = ["| method | runs | FID (digit features) | KID | IS (digit classes, max 10) | W estimate (held-out) | "
             "critic steps / s (with start-up and evaluation) | wall time / run (s) |", "|---|---|---|---|---|---|---|---|"]
    for name in METHODS:
        runs = [metrics for _, metrics in collect_jobs(root / slug(name))]
        if not runs:
            continue
        get = lambda key: [m.get(key, float("nan")) for m in runs]  # noqa: E731
        speed = statistics.fmean(m["critic_steps"] / m["wall_time_s"] for m in runs)
        lines.append(f"| {name} | {len(runs)} | {mean_se(get('val/fid'), 1)} | {mean_se(get('val/kid_mean'), 3, kind='g')} | "
                     f"{mean_se(get('val/is_mean'), 2)} | {mean_se(get('val/w_estimate'), 3, kind='g')} | {speed:.0f} | "
                     f"{statistics.fmean(get('wall_time_s')):.0f} |")
    real = [metrics for _, metrics in collect_jobs(root / slug(next(iter(METHODS))))][:1]
    if real:
        lines.append("")
        lines.append(f"Samples per evaluation: {real[0]['val/metric_num_fake']:.0f} generated, "
                     f"{real[0]['val/metric_num_real']:.0f} real (the training images).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_run_arguments(parser, seeds=3, root="outputs/benchmarks/digits_fid")
    args = parser.parse_args()
    root = args.collect or args.root
    if args.collect is None:
        for name, overrides in METHODS.items():
            run_multirun(name, [*COMMON, *overrides, *run_overrides(args)], root / slug(name))
    publish(args, table(root))


if __name__ == "__main__":
    main()
