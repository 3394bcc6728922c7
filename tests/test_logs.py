"""What a run prints: plain progress lines when its output goes to a file, none of the frameworks' noise, and the
`threads:` setting."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module

from conftest import FAST, read_metrics
from gan_zoo.errors import ConfigError
from gan_zoo.runtime import schema
from gan_zoo.runtime.threads import set_threads, thread_count

PROGRESS_LINE = re.compile(r"generator iteration (\d+) of 4 \(\d+%\), [\d.e+-]+ G iters/s, W estimate [-\d.e+]+, "
                           r"ETA (\d+:\d\d:\d\d|\?)$")


def run_to_file(args: list[str], run: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """The real entry point with stdout and stderr written to files, as under SLURM or `> log`."""
    out, err = run.parent / f"{run.name}.out", run.parent / f"{run.name}.err"
    with open(out, "w") as stdout, open(err, "w") as stderr:
        code = subprocess.call([sys.executable, "-m", "gan_zoo.train", *args, f"hydra.run.dir={run}"],
                               stdout=stdout, stderr=stderr, cwd=run.parent, timeout=600,
                               env={**os.environ, "WANDB_MODE": "offline", "WANDB_SILENT": "true", **(env or {})})
    return code, out.read_text(), err.read_text()


def test_output_to_a_file_gets_plain_progress_lines(tmp_path: Path) -> None:
    code, out, err = run_to_file([*FAST, "callbacks.progress_bar.log_every_s=0"], tmp_path / "run")
    assert code == 0, err[-3000:]
    found = [PROGRESS_LINE.search(line) for line in out.splitlines() if "gan_zoo.callbacks.progress" in line]
    assert found and all(found), out[-3000:]
    iterations = [int(match[1]) for match in found]
    assert iterations == sorted(iterations) and iterations[-1] == 4  # the last line: training done
    assert "━" not in out  # no Rich bar drawn at the end


def test_progress_lines_come_every_log_every_s_only(tmp_path: Path) -> None:
    """The default (30 s) on a run of a few seconds: only the closing line."""
    code, out, err = run_to_file(FAST, tmp_path / "run")
    assert code == 0, err[-3000:]
    lines = [line for line in out.splitlines() if "gan_zoo.callbacks.progress" in line]
    assert len(lines) == 1 and "generator iteration 4 of 4 (100%)" in lines[0], out[-3000:]


def test_progress_lines_read_nothing_from_the_device_between_logging_steps(tmp_path: Path,
                                                                           caplog: pytest.LogCaptureFixture) -> None:
    """A line every batch (log_every_s=0) still reads no tensor between logging steps (tests/test_host_syncs.py)."""
    from test_host_syncs import LOG_EVERY, train_counting_reads

    caplog.set_level(logging.INFO, logger="gan_zoo.callbacks.progress")
    counter, module, epoch_ends = train_counting_reads(tmp_path, ["callbacks.progress_bar.log_every_s=0"])
    lines = [r.getMessage() for r in caplog.records if r.name == "gan_zoo.callbacks.progress"]
    assert len(lines) >= module.critic_steps  # one per batch, and the closing one
    for batch, reads in counter.by_batch.items():
        if batch is None or batch in epoch_ends or (batch + 1) % LOG_EVERY == 0:
            continue
        assert all("nan_guard.py" in read for read in reads), (batch, reads)


def test_bad_log_every_s_is_refused() -> None:
    from gan_zoo.callbacks import GenIterProgressBar

    with pytest.raises(ConfigError, match=r"callbacks.progress_bar.log_every_s must be >= 0 \(got -1\)"):
        GenIterProgressBar(log_every_s=-1)


# ------------------------------------------------------------------------------------------------------ quiet
NOISE = {
    "Lightning's litlogger tip": "💡 Tip: For seamless cloud logging",
    "W&B's anonymous warning": "The anonymous setting has no effect",
    "Lightning's srun hint": "The `srun` command is available on your system but is not used",
    "Lightning's weights_only default": "`weights_only` was not set, defaulting to `False`",
}


@pytest.fixture
def srun_on_path(tmp_path: Path) -> dict[str, str]:
    """A `srun` on PATH, as on a SLURM login node (it is never run: Lightning only looks for it)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    srun = bin_dir / "srun"
    srun.write_text("#!/bin/sh\nexit 1\n")
    srun.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}


def test_a_default_run_prints_none_of_the_frameworks_noise(tmp_path: Path, srun_on_path: dict[str, str]) -> None:
    """The default logger (W&B, offline here) and a `srun` on PATH; everything else Lightning says still shows."""
    args = [arg for arg in FAST if arg != "logger=csv"]
    code, out, err = run_to_file(args, tmp_path / "run", env=srun_on_path)
    assert code == 0, err[-3000:]
    printed = out + err
    for name, text in NOISE.items():
        assert text not in printed, f"{name} is printed"
    assert "GPU available:" in printed  # only those lines are gone
    assert read_metrics(tmp_path / "run")["gen_iter"] == 4


# What the frameworks print without gan_zoo.runtime.quiet, and with it: the same calls as in a run, in a fresh process.
NOISY = """
import logging, sys, warnings
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(name)s: %(message)s")
warnings.simplefilter("default")
from omegaconf import OmegaConf
if sys.argv[1] == "quiet":
    from gan_zoo.runtime import quiet
    quiet.install(OmegaConf.create({"logger": {"wandb": {}}}))
import pytorch_lightning as pl, torch, wandb
from pytorch_lightning.demos.boring_classes import BoringModel
from pytorch_lightning.utilities import rank_zero_info
trainer = pl.Trainer(max_steps=1, logger=False, enable_progress_bar=False, enable_checkpointing=False,
                     enable_model_summary=False, default_root_dir=sys.argv[2])
trainer.fit(BoringModel())
trainer.save_checkpoint(sys.argv[2] + "/x.ckpt")
wandb.Settings(anonymous=None)
rank_zero_info("💡 Tip: something else")  # a message next to the dropped one still shows
"""


@pytest.mark.parametrize("quiet", [False, True], ids=["without quiet", "with quiet"])
def test_quiet_drops_exactly_those_messages(tmp_path: Path, srun_on_path: dict[str, str], quiet: bool) -> None:
    result = subprocess.run([sys.executable, "-c", NOISY, "quiet" if quiet else "loud", str(tmp_path)],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            env={**os.environ, "WANDB_MODE": "offline", **srun_on_path})
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout + result.stderr
    for name, text in NOISE.items():
        assert (text in printed) != quiet, f"{name}: {'printed' if quiet else 'not printed'}\n{printed[-3000:]}"
    assert "💡 Tip: something else" in printed


# ---------------------------------------------------------------------------------------------------- threads
@pytest.fixture
def restore_threads() -> None:
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_threads_sets_torchs_threads(restore_threads: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "3")
    set_threads(1)  # the setting wins over SLURM's
    assert torch.get_num_threads() == 1
    set_threads(None)
    assert torch.get_num_threads() == 3  # null: SLURM_CPUS_PER_TASK when set
    monkeypatch.delenv("SLURM_CPUS_PER_TASK")
    assert thread_count(None) is None  # null without SLURM: torch's default, left alone


@pytest.mark.parametrize("value", ["0", "-2", "abc", "1.5"])
def test_threads_must_be_null_or_at_least_one(value: str) -> None:
    with initialize_config_module("gan_zoo.conf", version_base="1.3"):
        cfg = compose("train", overrides=[f"threads={value}"])
    with pytest.raises(ConfigError, match=r"^threads must be "):
        schema.validate(cfg)


def test_threads_null_and_an_integer_pass_the_schema() -> None:
    with initialize_config_module("gan_zoo.conf", version_base="1.3"):
        for value in ("null", "4"):
            schema.validate(compose("train", overrides=[f"threads={value}"]))
