"""Peak memory of training: gan_zoo (Lightning + the Hydra-built module) against the plain PyTorch loop of
benchmarks/reference_loop.py, each in a fresh process, same set-ups as benchmarks/speed.py.

    python benchmarks/memory.py                          # DCGAN 32 px WGAN-GP and hinge + SN, CPU
    python benchmarks/memory.py --device cuda            # also the peak CUDA memory torch allocated

For each side it reports the resident set (RSS) once the libraries are imported and the nets and data are built,
the peak RSS of the whole process (getrusage ru_maxrss), and their difference: the memory training itself took.
The reference process imports what a plain PyTorch script needs (torch, the nets, Hydra for the same config) and
not Lightning; gan_zoo's imports Lightning, which imports torchmetrics and torchvision.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import resource
import statistics
import subprocess
import sys
from pathlib import Path

import torch
from omegaconf import DictConfig

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference_loop  # noqa: E402
import setups  # noqa: E402

SIDES = ("gan_zoo", "reference")
WARMUP = 5


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


class _BeforeTraining:
    """Reads the RSS at the first training batch (everything built, data loaded)."""

    mb = 0.0

    def __call__(self) -> None:
        self.mb = rss_mb()


def plain_reference(cfg: DictConfig, setup: str, steps: int, device: str, before: _BeforeTraining) -> None:
    """The reference loop on the same nets and optimizers, data as a plain script holds it: one uint8 tensor of
    the training images (random, CIFAR-10-sized, as many as gan_zoo trains on), batches gathered from it."""
    from hydra.utils import instantiate  # noqa: PLC0415

    target, method = torch.device(device), setups.SETUPS[setup][1]
    torch.manual_seed(cfg.seed)
    shape = (3, 32, 32)
    generator = instantiate(cfg.model.generator)(data_shape=shape).to(target)
    critic = reference_loop.prepare_critic(instantiate(cfg.model.critic)(data_shape=shape), method).to(target)
    optimizers = (instantiate(cfg.optim.generator)(generator.parameters()),
                  instantiate(cfg.optim.critic)(critic.parameters()))
    rng = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (setups.IMAGES - cfg.data.val_size, *shape), dtype=torch.uint8,
                           generator=rng).to(target)

    def draw(n: int) -> torch.Tensor:
        index = torch.randint(len(images), (n,), generator=rng).to(target, non_blocking=True)
        return images.index_select(0, index).float().div_(127.5).sub_(1.0)

    assert "pytorch_lightning" not in sys.modules, "the plain reference must not import Lightning"
    before()
    reference_loop.train(generator, critic, draw, method, *optimizers, cfg.data.batch_size, WARMUP + steps)


def child(side: str, setup: str, steps: int, device: str) -> dict[str, float]:
    cfg = setups.config(setup, steps, WARMUP, device)
    before = _BeforeTraining()
    if side == "gan_zoo":
        import speed  # noqa: PLC0415 - Lightning and gan_zoo's training stack, on this side only

        logging.getLogger("pytorch_lightning").setLevel(logging.WARNING)
        speed.time_gan_zoo(cfg, WARMUP, on_first_batch=before)
    else:
        plain_reference(cfg, setup, steps, device, before)
    result = {"before_mb": before.mb, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device == "cuda":
        result["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--setups", default="dcgan32_wgan_gp,dcgan32_hinge_sn")
    parser.add_argument("--steps", type=int, default=50, help="critic steps per run (after 5 warm-up steps)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--child", choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.setups, args.steps, args.device)))
        return
    if (args.steps + WARMUP) % 5:
        sys.exit("--steps must be a multiple of n_critic (5)")
    where = torch.cuda.get_device_name() if args.device == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"Command: `python benchmarks/memory.py {' '.join(sys.argv[1:])}`  \nMachine: {platform.machine()} {where}; "
          f"{args.steps} critic steps per run, each run a fresh process; medians of {args.repeats} runs (MB).\n")
    cuda = " peak CUDA allocated |" if args.device == "cuda" else ""
    print(f"| set-up | side | RSS before training | peak RSS | training (peak − before) |{cuda}")
    print("|---|---|---|---|---|" + ("---|" if cuda else ""))
    for setup in args.setups.split(","):
        runs: dict[str, list[dict[str, float]]] = {side: [] for side in SIDES}
        for _ in range(args.repeats):
            for side in SIDES:
                command = [sys.executable, str(Path(__file__).resolve()), "--child", side, "--setups", setup,
                           "--steps", str(args.steps), "--device", args.device]
                out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=HERE).stdout
                runs[side].append(json.loads(out.strip().splitlines()[-1]))
        medians = {side: {key: statistics.median(r[key] for r in results) for key in results[0]}
                   for side, results in runs.items()}
        for side in SIDES:
            m = medians[side]
            extra = f" {m['cuda_peak_mb']:.0f} |" if cuda else ""
            print(f"| {setup} | {side} | {m['before_mb']:.0f} | {m['peak_mb']:.0f} | "
                  f"{m['peak_mb'] - m['before_mb']:.0f} |{extra}")
        ours, ref = medians["gan_zoo"], medians["reference"]
        ratio = (ours["peak_mb"] - ours["before_mb"]) / max(ref["peak_mb"] - ref["before_mb"], 1e-9)
        extra = f" {ours['cuda_peak_mb'] / ref['cuda_peak_mb']:.2f} |" if cuda else ""
        print(f"| {setup} | gan_zoo / reference | {ours['before_mb'] / ref['before_mb']:.2f} | "
              f"{ours['peak_mb'] / ref['peak_mb']:.2f} | {ratio:.2f} |{extra}", flush=True)


if __name__ == "__main__":
    main()
