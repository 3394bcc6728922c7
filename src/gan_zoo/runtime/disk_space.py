"""A checkpoint that does not fit on its disk, told as one line: which folder, how much it needs, how much is free.

Why a module of its own: torch.save reports a full disk as `RuntimeError: [enforce fail at inline_container.cc]
unexpected pos ...` (the ENOSPC of the underlying write is lost), so the cause has to be found again after the
failure, by comparing the checkpoint's size with the free space of its folder.
"""

from __future__ import annotations

import errno
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from rich.filesize import decimal

from gan_zoo.errors import GanZooError

FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)  # no space left on the device; disk quota exceeded
# File systems round every file up to whole blocks and keep metadata: a write can fail with a little space left.
SLACK_BYTES = 1 << 16


class DiskFullError(GanZooError, OSError):
    """A checkpoint could not be written because its disk (or quota) is full; the earlier checkpoints are intact."""

    exit_code = 2


class _ByteCounter(io.RawIOBase):
    """A write-only sink that keeps nothing but the number of bytes written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        length = memoryview(data).nbytes
        self.size += length
        return length


def serialized_size(checkpoint: dict[str, Any]) -> int | None:
    """The number of bytes torch.save writes for `checkpoint` (serialised again, into nothing), or None if it cannot
    be serialised (then the failure was not about space)."""
    counter = _ByteCounter()
    try:
        torch.save(checkpoint, counter)
    except Exception:  # noqa: BLE001 - the caller re-raises the original error
        return None
    return counter.size


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = error
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def raise_if_disk_full(error: BaseException, checkpoint: dict[str, Any], target: Path) -> None:
    """Raise DiskFullError (from `error`) when writing `checkpoint` to `target` failed for lack of space: the error
    says ENOSPC/EDQUOT, or the checkpoint is larger than the space left in the folder. Otherwise return, and the
    caller re-raises `error`."""
    if not isinstance(error, (OSError, RuntimeError)):
        return
    folder = target.parent
    free = shutil.disk_usage(folder).free
    said_full = any(getattr(e, "errno", None) in FULL_ERRNOS for e in _chain(error))
    size = serialized_size(checkpoint)
    if not said_full and (size is None or size + SLACK_BYTES <= free):
        return
    needs = f"it needs {decimal(size)}" if size is not None else "it does not fit"
    raise DiskFullError(f"no space left in {folder} for checkpoint {target.name}: {needs}, {decimal(free)} are free; "
                        f"free some space there or write checkpoints elsewhere with checkpoint_dir=<folder> "
                        f"(the checkpoints already there are intact)") from error
