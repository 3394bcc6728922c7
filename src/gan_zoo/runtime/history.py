"""A run's logged history survives resuming: what a logger already holds is neither deleted nor logged twice.

Each call of a logger's `log_metrics` is one row (a line of metrics.csv, a step of the W&B history), and training
fixes their order, so a row's index is its place in the run's history whether or not the run was stopped. Every
checkpoint stores each logger's row count at the moment it was taken (`RememberLoggedRows`; the CSV file is
flushed first), and a run resumed from it (`ckpt_path=`, or `auto_resume`) starts counting there:

- CSV (`ResumableCSVLogger`): metrics.csv keeps its first `rows` lines and is appended to. Lines written after the
  checkpoint (before a `kill -9`) are dropped, since the resumed run writes them again, with the same values.
  Lightning's own writer deletes the file of a folder that is not empty
  (lightning_fabric/loggers/csv_logs.py, `_check_log_dir_exists`): a resumed run had no rows before it.
- W&B (`ResumableWandbLogger`): a resumed run continues the checkpoint's W&B run (gan_zoo.runtime.loggers). Each
  row is logged with its index as W&B's `_step`, and the rows the W&B run already holds are not logged again:
  those below the checkpoint's count, below the count that every part of the run records after each row it logs
  (`<save_dir>/wandb/gan_zoo-rows-<run id>.json`, atomically replaced; it covers rows logged after the last
  checkpoint of a killed run), and below W&B's own next step (an online run resumed from the server). Offline,
  each part of the run writes its own `offline-run-*` folder; together they hold every row once.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import WandbLogger
from pytorch_lightning.utilities.rank_zero import rank_zero_only

from gan_zoo import compat

CHECKPOINT_KEY = "gan_zoo_logged_rows"  # {"csv": rows, "wandb": rows, "wandb_record": path of the W&B row record}


def checkpoint_entry(checkpoint_path: str | None, key: str) -> Any:
    """One top-level entry of a checkpoint, read memory-mapped (the weights are not read), or None when there is
    no checkpoint or it cannot be read (the trainer reports unreadable checkpoints itself)."""
    if not checkpoint_path or not Path(checkpoint_path).is_file():
        return None
    try:
        checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # noqa: BLE001 - see the docstring
        return None
    return checkpoint.get(key) if isinstance(checkpoint, dict) else None


def logged_rows(checkpoint_path: str | None, logger: str) -> int | None:
    """The rows `logger` ("csv", "wandb") had logged when the checkpoint was taken: 0 for a fresh run (no
    checkpoint), None when the checkpoint does not say (written without RememberLoggedRows or this logger)."""
    if not checkpoint_path:
        return 0
    rows = checkpoint_entry(checkpoint_path, CHECKPOINT_KEY) or {}
    return rows.get(logger)


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` by a file holding `text`: a kill at any moment leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------------------------- CSV
class AppendingCSVWriter(compat.KeepingCSVWriter):
    """Lightning's CSV writer that keeps the first `keep_rows` rows of an existing metrics.csv (all of them when
    None) and appends after them, instead of deleting the file."""

    def __init__(self, log_dir: str, keep_rows: int | None) -> None:
        self.keep_rows = keep_rows
        self.rows = 0  # rows in the file once it has been cut
        super().__init__(log_dir=log_dir)

    def on_existing_log_dir(self) -> None:
        path = Path(self.metrics_file_path)
        if not path.is_file():
            return
        with path.open(newline="") as file:
            reader = csv.DictReader(file)
            rows = list(reader)
            header = list(reader.fieldnames or [])
        if self.keep_rows is not None and self.keep_rows < len(rows):
            rows = rows[: self.keep_rows]
            # The columns those rows use, sorted as Lightning writes them: the header the uninterrupted run had then.
            header = sorted({key for row in rows for key, value in row.items() if value not in ("", None)})
            if rows:
                write_atomically(path, _csv_text(header, rows))
            else:
                path.unlink()
                header = []
        self.metrics_keys = header
        self.rows = len(rows)


def _csv_text(header: list[str], rows: list[dict[str, str]]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=header, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return text.getvalue()


class ResumableCSVLogger(compat.CSVLoggerChoosingWriter):
    """Lightning's CSVLogger (one metrics.csv under save_dir/name/version) whose file survives resuming: resumed
    from `resume_from` (the run's ckpt_path), it keeps the rows logged before that checkpoint and appends."""

    history_name = "csv"

    def __init__(self, save_dir: str, name: str = "csv", version: str | int | None = "",
                 resume_from: str | None = None, **kwargs: Any) -> None:
        super().__init__(save_dir=save_dir, name=name, version=version, **kwargs)
        self._keep_rows = logged_rows(resume_from, self.history_name)
        self.rows_logged = self._keep_rows or 0

    def make_writer(self, log_dir: str) -> AppendingCSVWriter:
        writer = AppendingCSVWriter(log_dir, self._keep_rows)
        self.rows_logged = writer.rows
        return writer

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        super().log_metrics(metrics, step)
        self.rows_logged += 1

    def history_entry(self) -> dict[str, Any]:
        """What a checkpoint records of this logger (every row logged so far is in the file by then)."""
        self.save()
        return {self.history_name: self.rows_logged}


# -------------------------------------------------------------------------------------------------------- W&B
class ResumableWandbLogger(WandbLogger):
    """Lightning's WandbLogger that logs row number i as W&B step i and never logs a row the W&B run already
    holds (see the module docstring). `resume_from` is the run's ckpt_path."""

    history_name = "wandb"

    def __init__(self, *args: Any, resume_from: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows_logged = logged_rows(resume_from, self.history_name) or 0
        recorded = checkpoint_entry(resume_from, CHECKPOINT_KEY) or {}
        record = recorded.get("wandb_record")
        self._rows_held = max(self.rows_logged, _recorded_rows(Path(record), self.version) if record else 0)
        self._held_checked = False

    @property
    def record_path(self) -> Path:
        """Where this run records how many rows it has logged to W&B."""
        return Path(self.save_dir or ".") / "wandb" / f"gan_zoo-rows-{self.version}.json"

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        if not self._held_checked:  # online, W&B says where a resumed run's history ends
            self._held_checked = True
            self._rows_held = max(self._rows_held, _recorded_rows(self.record_path, self.version),
                                  int(getattr(self.experiment, "step", 0) or 0))
        index = self.rows_logged
        self.rows_logged += 1
        if index < self._rows_held:
            return
        row = dict(metrics) if step is None else {**metrics, "trainer/global_step": step}
        self.experiment.log(row, step=index)
        write_atomically(self.record_path, json.dumps({"run_id": self.version, "rows": self.rows_logged}))

    def history_entry(self) -> dict[str, Any]:
        return {self.history_name: self.rows_logged, "wandb_record": str(self.record_path.resolve())}


def _recorded_rows(path: Path, run_id: str | None) -> int:
    """The row count a W&B row record holds for run `run_id` (0 when there is none or it is another run's)."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return 0
    return int(record.get("rows", 0)) if record.get("run_id") == run_id else 0


# ---------------------------------------------------------------------------------------------------- callback
class RememberLoggedRows(pl.Callback):
    """Stores in every checkpoint how many rows each resumable logger has logged, so that a run resumed from it
    keeps (CSV) or skips (W&B) exactly the rows logged before it."""

    def on_save_checkpoint(self, trainer: pl.Trainer, pl_module: pl.LightningModule, checkpoint: dict) -> None:
        rows: dict[str, Any] = {}
        for logger in trainer.loggers:
            if isinstance(logger, (ResumableCSVLogger, ResumableWandbLogger)):
                rows.update(logger.history_entry())
        if rows:
            checkpoint[CHECKPOINT_KEY] = rows
