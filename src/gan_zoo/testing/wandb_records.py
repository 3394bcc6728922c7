"""The history rows of an offline W&B run, read from its transaction log (`offline-run-*/run-<id>.wandb`).

wandb 0.31 no longer ships a Python reader of that file (its writer and `wandb sync` are the Go `wandb-core`), so
tests that compare what two runs logged read it here. The file is a 7-byte header (`:W&B`, a 2-byte magic, a
version byte) followed by LevelDB's log format: 32 KiB blocks of chunks, each a 7-byte header (CRC-32C, little-endian
length, type: 1 full, 2 first, 3 middle, 4 last) and its bytes; a block's tail shorter than a header is padding.
Every complete record is one protobuf `Record` of wandb's own `wandb_internal_pb2`, parsed with it.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

HEADER = 7
BLOCK = 32 * 1024
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: str | Path) -> list[Any]:
    """Every complete `wandb_internal_pb2.Record` in a .wandb file, in order (a torn last record is left out)."""
    from wandb.proto import wandb_internal_pb2  # noqa: PLC0415 - wandb is imported only by tests that read runs

    data = Path(path).read_bytes()
    if data[:4] != b":W&B":
        raise ValueError(f"{path} is not a W&B transaction log")
    found, pending, offset = [], b"", HEADER
    while offset + HEADER <= len(data):
        room = BLOCK - offset % BLOCK
        if room < HEADER:  # padding at the end of a block
            offset += room
            continue
        _crc, length, kind = struct.unpack_from("<IHB", data, offset)
        chunk = data[offset + HEADER: offset + HEADER + length]
        offset += HEADER + length
        if kind == 0 and length == 0:  # zero padding
            offset += BLOCK - offset % BLOCK if offset % BLOCK else 0
            continue
        if len(chunk) < length:
            break
        pending = chunk if kind in (FULL, FIRST) else pending + chunk
        if kind in (FULL, LAST):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            found.append(record)
            pending = b""
    return found


def history(path: str | Path) -> list[dict[str, Any]]:
    """The rows `wandb.log` wrote to a .wandb file: key → value (JSON-decoded), W&B's own `_step`, `_runtime` and
    `_timestamp` included."""
    rows = []
    for record in records(path):
        if record.WhichOneof("record_type") != "history":
            continue
        row = {}
        for item in record.history.item:
            key = item.key or "/".join(item.nested_key)
            row[key] = json.loads(item.value_json)
        rows.append(row)
    return rows
