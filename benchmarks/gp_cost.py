"""What a gradient penalty costs: one critic update with a penalty divided by one without, same nets and batch,
through gan_zoo's own objective and strategy objects; then profiler tables of where the time goes.

    python benchmarks/gp_cost.py                           # DCGAN 32 px critic, batch 64, CPU
    python benchmarks/gp_cost.py --net mlp --batch 256     # the toy MLP (3×512)
    python benchmarks/gp_cost.py --net resnet              # the WGAN-GP CIFAR-10 ResNet critic
    python benchmarks/gp_cost.py --device cuda

WGAN-GP adds one critic forward on the interpolates, the input-gradient backward (autograd.grad with
create_graph) and a backward through that gradient graph: about one more forward and two more backward
passes, so somewhat under 2× an update without it. Each penalty is measured twice: on the critic as gan_zoo
trains it (the penalty strategies swap in gan_zoo.nets.penalty_friendly's ReLU / LeakyReLU / AvgPool2d), and on
the critic with torch's nn.ReLU / nn.LeakyReLU / nn.AvgPool2d, whose second backward also sends zeros back
through the forward pass at the penalty points. Without a penalty both are the same net (torch's layers).
"""

from __future__ import annotations

import argparse
import copy
import platform
import random
import statistics
import sys
import time

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

from gan_zoo.lipschitz import DRAGANPenalty, GradientPenalty, NoConstraint, OneSidedPenalty, R1Penalty
from gan_zoo.lipschitz.base import LipschitzStrategy
from gan_zoo.nets import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator, ResNetCritic, ResNetGenerator
from gan_zoo.nets.base import Scored
from gan_zoo.objectives import WassersteinGAN

STRATEGIES: dict[str, LipschitzStrategy] = {
    "no penalty": NoConstraint(), "WGAN-GP": GradientPenalty(10.0), "one-sided (LP)": OneSidedPenalty(10.0),
    "DRAGAN": DRAGANPenalty(10.0), "R1": R1Penalty(10.0)}


def nets(kind: str, device: torch.device) -> tuple[nn.Module, nn.Module]:
    """The toy MLP (3×512), the DCGAN 32 px nets, or the WGAN-GP CIFAR-10 ResNet (width 128)."""
    if kind == "mlp":
        return MLPGenerator(data_shape=(2,)).to(device), MLPCritic(data_shape=(2,)).to(device)
    shape = (3, 32, 32)
    if kind == "resnet":
        return ResNetGenerator(data_shape=shape).to(device), ResNetCritic(data_shape=shape).to(device)
    return DCGANGenerator(data_shape=shape, z_dim=128).to(device), DCGANCritic(data_shape=shape).to(device)


def critic_update(critic: nn.Module, optimizer: torch.optim.Optimizer, strategy: LipschitzStrategy,
                  real: torch.Tensor, fake: torch.Tensor) -> None:
    """One critic update as GANModule does it: objective terms + penalty terms, one backward, one step."""
    real_scored, fake_scored = Scored.of(critic, real), Scored.of(critic, fake)
    terms = WassersteinGAN().critic_loss(real_scored, fake_scored)
    penalty = strategy.penalty(critic, real_scored, fake_scored)
    loss = sum([*terms.values(), *penalty.terms.values()])
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def seconds_per_update(critic, optimizer, strategy, real, fake, steps: int, device: torch.device) -> float:  # noqa: ANN001
    for _ in range(3):
        critic_update(critic, optimizer, strategy, real, fake)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = time.perf_counter()
    for _ in range(steps):
        critic_update(critic, optimizer, strategy, real, fake)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - started) / steps


def profile_table(critic, optimizer, strategy, real, fake, device: torch.device, rows: int) -> str:  # noqa: ANN001
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(10):
            critic_update(critic, optimizer, strategy, real, fake)
    sort = "self_cuda_time_total" if device.type == "cuda" else "self_cpu_time_total"
    return prof.key_averages().table(sort_by=sort, row_limit=rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--net", choices=["dcgan", "mlp", "resnet"], default="dcgan")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20, help="timed updates per repetition")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--strategies", default="no penalty,WGAN-GP,one-sided (LP),DRAGAN,R1")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--profile-rows", type=int, default=12, help="0: no profiler tables")
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    generator, critic = nets(args.net, device)
    with torch.no_grad():
        fake = generator(torch.randn(args.batch, generator.z_dim, device=device))
        real = torch.rand_like(fake) * 2 - 1
    names = [n.strip() for n in args.strategies.split(",")]
    if names[0] != "no penalty":
        names.insert(0, "no penalty")
    # The critic as gan_zoo trains it with each penalty (penalty-friendly layers swapped in), and with torch's
    # layers; without a penalty both are the same net (gan_zoo keeps torch's), measured once.
    critics = {("torch", "no penalty"): copy.deepcopy(critic)}
    for name in names[1:]:
        critics[("gan_zoo", name)] = STRATEGIES[name].prepare_critic(copy.deepcopy(critic))
        critics[("torch", name)] = copy.deepcopy(critic)
    optimizers = {key: torch.optim.Adam(c.parameters(), lr=1e-4, betas=(0.5, 0.9)) for key, c in critics.items()}
    times: dict[tuple[str, str], list[float]] = {}
    order = random.Random(0)
    for _ in range(args.repeats):  # a new order each repetition, so drifts and after-effects hit every row alike
        keys = list(critics)
        order.shuffle(keys)
        for key in keys:
            times.setdefault(key, []).append(seconds_per_update(
                critics[key], optimizers[key], STRATEGIES[key[1]], real, fake, args.steps, device))
    median = {key: statistics.median(values) for key, values in times.items()}
    where = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"Command: `python benchmarks/gp_cost.py {' '.join(sys.argv[1:])}`  \nMachine: {platform.machine()} "
          f"{where}; {args.net} critic, batch {args.batch}; median of {args.repeats} × {args.steps} updates, "
          f"in a shuffled order each repetition; in brackets the lowest and highest ratio of one repetition.\n")
    base = median[("torch", "no penalty")]

    def ratio(key: tuple[str, str]) -> str:  # median ratio, and the lowest and highest of single repetitions
        each = [t / b for t, b in zip(times[key], times[("torch", "no penalty")])]
        return f"{median[key] / base:.2f} ({min(each):.2f}–{max(each):.2f})"

    print("| critic update | ms (as gan_zoo trains it) | ratio | ms (torch's layers) | ratio |")
    print("|---|---|---|---|---|")
    print(f"| no penalty (the same net in both) | {base * 1e3:.1f} | 1.00 | {base * 1e3:.1f} | 1.00 |")
    for name in names[1:]:
        ours, theirs = ("gan_zoo", name), ("torch", name)
        print(f"| {name} | {median[ours] * 1e3:.1f} | {ratio(ours)} | {median[theirs] * 1e3:.1f} | {ratio(theirs)} |")
    if args.profile_rows:
        for kind in ("gan_zoo", "torch"):
            key = (kind, "WGAN-GP")
            print(f"\nProfile, WGAN-GP, {'as gan_zoo trains it' if kind == 'gan_zoo' else 'torch activations'}, "
                  f"10 updates (top {args.profile_rows} by self time):\n")
            print(profile_table(critics[key], optimizers[key], STRATEGIES["WGAN-GP"], real, fake, device,
                                args.profile_rows))


if __name__ == "__main__":
    main()
