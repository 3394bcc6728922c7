"""What a gradient penalty costs: one critic update with WGAN-GP's penalty divided by one without, same nets and
batch, through gan_zoo's own objective and strategy objects; then a profiler table of where the time goes.

    python benchmarks/gp_cost.py                        # DCGAN 32 px critic, batch 64, CPU
    python benchmarks/gp_cost.py --net mlp --batch 256  # the toy MLP
    python benchmarks/gp_cost.py --device cuda

The penalty adds one critic forward on the interpolates and a double backward through it (autograd.grad with
create_graph, then the ordinary backward also runs through that gradient graph): about one more forward and two
more backward passes, so about 2× an update without it.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import torch
from torch.profiler import ProfilerActivity, profile

from gan_zoo.lipschitz import GradientPenalty, NoConstraint
from gan_zoo.lipschitz.base import LipschitzStrategy
from gan_zoo.nets import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator
from gan_zoo.nets.base import Scored
from gan_zoo.objectives import WassersteinGAN


def nets(kind: str, device: torch.device) -> tuple[torch.nn.Module, torch.nn.Module]:
    if kind == "mlp":
        return MLPGenerator(data_shape=(2,)).to(device), MLPCritic(data_shape=(2,)).to(device)
    shape = (3, 32, 32)
    return DCGANGenerator(data_shape=shape, z_dim=128).to(device), DCGANCritic(data_shape=shape).to(device)


def critic_update(critic: torch.nn.Module, optimizer: torch.optim.Optimizer, strategy: LipschitzStrategy,
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
    for _ in range(5):
        critic_update(critic, optimizer, strategy, real, fake)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = time.perf_counter()
    for _ in range(steps):
        critic_update(critic, optimizer, strategy, real, fake)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--net", choices=["dcgan", "mlp"], default="dcgan")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=30, help="timed updates per repetition")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--profile-rows", type=int, default=12)
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    generator, critic = nets(args.net, device)
    optimizer = torch.optim.Adam(critic.parameters(), lr=1e-4, betas=(0.5, 0.9))
    with torch.no_grad():
        fake = generator(torch.randn(args.batch, generator.z_dim, device=device))
        real = torch.rand_like(fake) * 2 - 1
    strategies = {"no penalty": NoConstraint(), "WGAN-GP": GradientPenalty(lambda_=10.0)}
    times: dict[str, list[float]] = {name: [] for name in strategies}
    for _ in range(args.repeats):  # alternating, so drifts in machine speed hit both alike
        for name, strategy in strategies.items():
            times[name].append(seconds_per_update(critic, optimizer, strategy, real, fake, args.steps, device))
    medians = {name: statistics.median(values) for name, values in times.items()}
    where = torch.cuda.get_device_name() if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"Machine: {platform.machine()} {where}; {args.net} critic, batch {args.batch}; median of {args.repeats} × "
          f"{args.steps} updates\n")
    print("| critic update | ms | ratio |\n|---|---|---|")
    for name, value in medians.items():
        print(f"| {name} | {value * 1e3:.2f} | {value / medians['no penalty']:.2f} |")
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    for name, strategy in strategies.items():
        with profile(activities=activities) as prof:
            for _ in range(10):
                critic_update(critic, optimizer, strategy, real, fake)
        print(f"\nProfile, {name}, 10 updates (top {args.profile_rows} by total time):\n")
        sort = "cuda_time_total" if device.type == "cuda" else "cpu_time_total"
        print(prof.key_averages().table(sort_by=sort, row_limit=args.profile_rows))


if __name__ == "__main__":
    main()
