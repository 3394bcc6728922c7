"""DDP is the same training: 2 CPU processes (gloo) on batch B against 1 process on batch 2B, through the real
entry point, compared tensor by tensor (benchmarks/ddp_equivalence.py). It runs as a subprocess: under pytest,
Lightning's DDP launcher would re-run pytest's own command line for rank 1
(docs/methods.md#implementation-pitfalls, item 7)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "ddp_equivalence.py"
# Every Lipschitz strategy; EBGAN's autoencoder critic; image data with FID/KID computed across ranks.
CASES = ["none", "clip", "gp", "lp", "dragan", "ct", "sn", "r1", "hinge+gp", "ebgan", "digits-fid"]


def test_two_processes_on_batch_b_train_exactly_like_one_process_on_batch_2b(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--cases", ",".join(CASES), "--gen-iters", "4",
                             "--batch", "16", "--root", str(tmp_path / "runs")],
                            capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ") and line.endswith(" | yes |")]
    assert len(rows) == len(CASES), result.stdout
    # every rank logged the single-process value of each validation metric (single / rank 0 / rank 1)
    fid = next(row for row in rows if row.startswith("| digits-fid"))
    assert "fid " in fid and "kid_mean " in fid


def test_each_rank_of_a_sweep_job_runs_only_its_own_job(tmp_path: Path) -> None:
    """Hydra multirun + DDP: rank 1 must run this job's overrides, not re-run the sweep (lightning-hydra-template
    #393); each job then has one metrics.rank1.json and the sweep has exactly its two jobs."""
    sweep = tmp_path / "sweep"
    command = [sys.executable, "-m", "gan_zoo.train", "-m", "lipschitz.lambda_=0.5,5", "trainer.accelerator=cpu",
               "trainer.devices=2", "gen_iters=2", "eval_every=2", "n_critic=1", "data.batch_size=16",
               "model.generator.width=16", "model.critic.width=16", "logger=csv", "~callbacks.critic_plots",
               f"hydra.sweep.dir={sweep}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir() and not p.name.startswith(".")) == ["0", "1"]
    for job in ("0", "1"):
        assert (sweep / job / "metrics.json").is_file() and (sweep / job / "metrics.rank1.json").is_file()
