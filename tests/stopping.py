"""Runs stopped by a real SIGTERM at a chosen point and resumed, for the resume tests (test_resume, test_history).

The signal comes from gan_zoo.testing.SignalAt inside the run, at the end of a chosen batch: the same signal a
cluster sends, at a point that does not depend on timing.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import torch

from conftest import run_train


def signal_at(**where: int) -> list[str]:
    """Overrides that make a run send itself SIGTERM, e.g. signal_at(gen_iter=6) or signal_at(critic_steps=11)."""
    return ["+callbacks.stop._target_=gan_zoo.testing.SignalAt", *(f"+callbacks.stop.{k}={v}" for k, v in where.items())]


def stop_and_resume(args: list[str], run: Path, **where: int) -> None:
    """Train `args` into `run`, stopped by SIGTERM at `where`; then resume it in the same folder from the
    checkpoint the signal wrote (`ckpt_path=`), to the end."""
    stopped = run_train([*args, *signal_at(**where)], run)
    assert stopped.returncode == 143, stopped.stderr[-3000:]
    assert "stopped by a signal" in stopped.stderr
    resumed = run_train([*args, f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}"], run)
    assert resumed.returncode == 0, resumed.stderr[-3000:]


def csv_rows(run: Path) -> list[dict[str, str]]:
    (metrics,) = run.glob("csv/**/metrics.csv")
    with metrics.open(newline="") as file:
        return list(csv.DictReader(file))


def assert_same_rows(expected: list[dict], got: list[dict], atol: float = 1e-6) -> None:
    """Row for row the same keys and values (numbers within atol, NaN equal to NaN)."""
    assert len(got) == len(expected), (len(got), len(expected))
    for number, (row_a, row_b) in enumerate(zip(expected, got, strict=True)):
        assert row_a.keys() == row_b.keys(), number
        for key, a in row_a.items():
            b = row_b[key]
            if isinstance(a, str) and isinstance(b, str) and (a == "" or b == ""):
                assert a == b, (number, key, a, b)
            elif isinstance(a, (int, float, str)) and not isinstance(a, bool):
                try:
                    x, y = float(a), float(b)
                except (TypeError, ValueError):
                    assert a == b, (number, key)
                    continue
                assert (math.isnan(x) and math.isnan(y)) or abs(x - y) <= atol, (number, key, a, b)
            else:
                assert a == b, (number, key)


def assert_same_weights(run_a: Path, run_b: Path, atol: float = 1e-6) -> None:
    """Both runs' last.ckpt: the same progress and every tensor of the state dict (G, D, EMA, SN vectors)."""
    a = torch.load(run_a / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    b = torch.load(run_b / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert a["gan_zoo_progress"] == b["gan_zoo_progress"]
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for key, value in a["state_dict"].items():
        assert torch.allclose(value.float(), b["state_dict"][key].float(), atol=atol, rtol=0), key
