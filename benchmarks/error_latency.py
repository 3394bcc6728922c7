"""How long a configuration error takes to reach the user, against `python -c "import torch"` on the same machine.

    python benchmarks/error_latency.py               # 7 alternating repetitions, medians
    python benchmarks/error_latency.py --repeats 11

Each repetition runs every bad command and the torch import once, in fresh processes, one after another, so a
busy machine slows both alike. Target (docs/benchmarks.md): every error in at most 0.5 × the torch import.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BAD_COMMANDS = {
    "unknown group option (objective=wgna)": ["objective=wgna"],
    "unknown key (lipschitz.lamda=1)": ["lipschitz.lamda=1"],
    "out of range (lipschitz.lambda_=-1)": ["lipschitz.lambda_=-1"],
    "wrong type (data.batch_size=abc)": ["data.batch_size=abc"],
    "not a boolean (wgan_warmup=no)": ["wgan_warmup=no"],
}
IMPORT_TORCH = "python -c 'import torch'"


def wall_time(command: list[str], cwd: Path) -> tuple[float, int]:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    return time.perf_counter() - started, result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in [IMPORT_TORCH, *BAD_COMMANDS]}
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        for _ in range(args.repeats):
            seconds, _ = wall_time([sys.executable, "-c", "import torch"], cwd)
            times[IMPORT_TORCH].append(seconds)
            for name, overrides in BAD_COMMANDS.items():
                command = [sys.executable, "-m", "gan_zoo.train", *overrides, f"hydra.run.dir={cwd / 'run'}"]
                seconds, code = wall_time(command, cwd)
                if code == 0:
                    raise SystemExit(f"{name}: the command succeeded; it should have failed")
                times[name].append(seconds)
    torch_s = statistics.median(times[IMPORT_TORCH])
    print(f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
          f"medians of {args.repeats}\n")
    print("| command | seconds (median) | × import torch |")
    print("|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.2f} | {median / torch_s:.2f} |")


if __name__ == "__main__":
    main()
