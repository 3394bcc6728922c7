"""FID, KID and IS (digit-classifier features, offline) of five GAN variants on scikit-learn's digits.

Every method trains the same DCGAN nets (28 px) for the same number of generator iterations with its own
paper's optimiser and n_critic, as one Hydra multirun over seeds through the real entry point. The table
is built from every run's metrics.json. Example (the committed table in docs/images.md):

    python benchmarks/digits_fid.py --gen-iters 1000 --seeds 3 --out docs/images.md

`--collect DIR` rebuilds the table from an earlier --root; `--device cuda` trains on a GPU.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from pathlib import Path

import torch
from sweeps import QUIET, collect_jobs, mean_se, run_multirun, slug

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
    parser.add_argument("--gen-iters", type=int, default=1000, help="budget per run, in generator iterations")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--root", type=Path, default=Path("outputs/benchmarks/digits_fid"))
    parser.add_argument("--collect", type=Path, help="only build the table from this earlier --root")
    parser.add_argument("--out", type=Path, help="also write the table (with the command) to this markdown file")
    parser.add_argument("override", nargs="*", help="extra Hydra overrides for every run, e.g. model.critic.width=32")
    args = parser.parse_args()

    root = args.collect or args.root
    if args.collect is None:
        for name, overrides in METHODS.items():
            run_multirun(name, [*COMMON, *overrides, f"seed={','.join(str(s) for s in range(args.seeds))}",
                                f"gen_iters={args.gen_iters}", f"eval_every={args.gen_iters}", *QUIET,
                                f"trainer.accelerator={args.device}", *args.override], root / slug(name))
    device = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    text = (f"Command: `python {' '.join(sys.argv)}`  \nMachine: {platform.machine()} {device}; budget "
            f"{args.gen_iters} generator iterations per run.\n\n{table(root)}")
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
