"""A run killed after its last checkpoint but before metrics.json: re-running it writes the metrics it recorded."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import FAST, run_train


def test_rerun_after_a_kill_between_last_checkpoint_and_metrics_json(tmp_path: Path) -> None:
    run = tmp_path / "run"
    first = run_train([*FAST, "logger=none"], run)
    assert first.returncode == 0, first.stderr[-3000:]
    written = json.loads((run / "metrics.json").read_text())
    (run / "metrics.json").unlink()  # as if killed right after checkpoints/last.ckpt was written
    again = run_train([*FAST, "logger=none"], run)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "is at the end of training: writing" in again.stdout + again.stderr
    recovered = json.loads((run / "metrics.json").read_text())
    written.pop("wall_time_s")
    assert recovered == written  # every metric of the last validation, the same values, and the progress
