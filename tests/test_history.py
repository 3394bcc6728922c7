"""The logged history of a resumed run equals the uninterrupted run's, row for row: metrics.csv keeps the rows
logged before the checkpoint (Lightning's CSV writer deleted them), and the W&B run (offline, read back from its
.wandb files) holds every row once, none lost and none logged twice."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from conftest import run_train
from gan_zoo.runtime.history import CHECKPOINT_KEY, AppendingCSVWriter, ResumableCSVLogger
from gan_zoo.testing.wandb_records import history
from stopping import assert_same_rows, csv_rows, signal_at, stop_and_resume

BOTH = ["gen_iters=8", "eval_every=4", "n_critic=2", "data=ring", "data.batch_size=32", "data.val_size=64",
        "model.generator.width=32", "model.critic.width=32", "logger=[csv,wandb]", "trainer.log_every_n_steps=1",
        "callbacks.toy_metrics.num_samples=64", "callbacks.model_checkpoint.save_top_k=-1"]
WANDB_OWN = ("_runtime", "_timestamp")  # wall-clock times: differ between any two runs


def wandb_rows(run: Path) -> list[dict]:
    """Every history row of the run's offline W&B runs, in the order they were written (one .wandb file per part
    of the run), without W&B's wall-clock columns; images compared by what they show (their sha256)."""
    rows = []
    for part in sorted(run.glob("wandb/offline-run-*/run-*.wandb")):
        for row in history(part):
            rows.append({key: value["sha256"] if isinstance(value, dict) and "sha256" in value else value
                         for key, value in row.items() if key not in WANDB_OWN})
    return rows


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted run, logged to CSV and W&B (offline), with a checkpoint at generator iteration 4."""
    run = tmp_path_factory.mktemp("history") / "whole"
    result = run_train(BOTH, run)
    assert result.returncode == 0, result.stderr[-3000:]
    # 16 critic steps + 2 validations; W&B also gets the 2 critic plots of each validation
    assert len(csv_rows(run)) == 18 and len(wandb_rows(run)) == 22
    return run


def test_a_run_stopped_by_sigterm_and_resumed_logs_the_uninterrupted_history(tmp_path: Path, whole: Path) -> None:
    run = tmp_path / "run"
    stop_and_resume(BOTH, run, gen_iter=6)
    assert_same_rows(csv_rows(whole), csv_rows(run))  # Lightning's writer had deleted the 13 rows before the stop
    parts = sorted(run.glob("wandb/offline-run-*"))
    assert len(parts) == 2 and len({p.name.rsplit("-", 1)[1] for p in parts}) == 1  # one W&B run, two parts
    assert [len(history(p / f"run-{p.name.rsplit('-', 1)[1]}.wandb")) for p in parts] == [15, 7]
    assert_same_rows(wandb_rows(whole), wandb_rows(run))  # W&B's _step included: 0…17, each once


def test_rows_logged_after_the_checkpoint_are_written_again_not_twice(tmp_path: Path, whole: Path) -> None:
    """A kill -9 after generator iteration 4 leaves rows beyond its checkpoint in the files; resuming from that
    checkpoint into the same folder (what auto_resume does) replaces them in metrics.csv and logs none of them to
    W&B again (it holds them)."""
    run = tmp_path / "run"
    assert run_train(BOTH, run).returncode == 0
    result = run_train([*BOTH, f"ckpt_path={run / 'checkpoints' / 'gen_iter_4.ckpt'}"], run)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_same_rows(csv_rows(whole), csv_rows(run))
    assert_same_rows(wandb_rows(whole), wandb_rows(run))
    saved = torch.load(run / "checkpoints" / "gen_iter_4.ckpt", weights_only=True)[CHECKPOINT_KEY]
    assert (saved["csv"], saved["wandb"]) == (9, 11)  # 8 critic steps + 1 validation (+ its 2 plots)


def test_auto_resume_keeps_the_history(tmp_path: Path, whole: Path) -> None:
    """A requeued job: the same command again, no ckpt_path; it resumes from last.ckpt by itself."""
    run = tmp_path / "run"
    args = [*(a for a in BOTH if not a.startswith("logger=")), "logger=csv"]
    assert run_train([*args, *signal_at(critic_steps=11)], run).returncode == 143
    result = run_train(args, run)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_same_rows(csv_rows(whole), csv_rows(run))


# ------------------------------------------------------------------------------------------------- the writer
def write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


ROWS = [{"a": "1.0", "step": "0"}, {"a": "2.0", "step": "1"}, {"a": "3.0", "b": "7.0", "step": "2"}]


def test_the_writer_keeps_the_first_rows_with_their_header_and_appends(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    write_csv(path, ["a", "b", "step"], ROWS)
    writer = AppendingCSVWriter(str(tmp_path), keep_rows=2)
    assert writer.rows == 2 and writer.metrics_keys == ["a", "step"]  # "b" first came in the dropped row
    writer.log_metrics({"a": 9.0, "b": 8.0}, step=2)
    writer.save()
    assert [dict(r) for r in csv.DictReader(path.open())] == [
        {"a": "1.0", "b": "", "step": "0"}, {"a": "2.0", "b": "", "step": "1"}, {"a": "9.0", "b": "8.0", "step": "2"}]


def test_the_writer_keeps_every_row_when_the_checkpoint_does_not_say_and_none_for_a_fresh_run(tmp_path: Path) -> None:
    path = tmp_path / "metrics.csv"
    write_csv(path, ["a", "b", "step"], ROWS)
    assert AppendingCSVWriter(str(tmp_path), keep_rows=None).rows == 3
    assert len(list(csv.DictReader(path.open()))) == 3
    assert AppendingCSVWriter(str(tmp_path), keep_rows=0).rows == 0  # a fresh run: Lightning's behaviour
    assert not path.exists()


def test_the_logger_reads_its_row_count_from_the_checkpoint(tmp_path: Path) -> None:
    checkpoint = tmp_path / "last.ckpt"
    torch.save({CHECKPOINT_KEY: {"csv": 1}}, checkpoint)
    write_csv(tmp_path / "csv" / "metrics.csv", ["a", "step"], ROWS[:2])
    logger = ResumableCSVLogger(str(tmp_path), resume_from=str(checkpoint))
    logger.log_metrics({"a": 5.0}, step=1)
    logger.save()
    assert logger.rows_logged == 2
    assert [r["a"] for r in csv.DictReader((tmp_path / "csv" / "metrics.csv").open())] == ["1.0", "5.0"]


def test_the_wandb_reader_refuses_other_files(tmp_path: Path) -> None:
    (tmp_path / "run-x.wandb").write_bytes(b"not a log")
    with pytest.raises(ValueError, match="not a W&B transaction log"):
        history(tmp_path / "run-x.wandb")
