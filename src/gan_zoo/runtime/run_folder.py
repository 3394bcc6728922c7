"""A run folder belongs to one run: a lock that a second run into the same folder cannot take.

Two runs in one folder would mix their checkpoints, metrics.json and .hydra/ records, and the second would
auto-resume from the first's half-written state. The owner holds an exclusive `fcntl.flock` on `.gan_zoo.lock`
in the folder, and writes "<pid> <host>" into it so that a refused run can say who holds it. The kernel drops a
flock when the last descriptor of its holder closes, which includes every way a process dies (`kill -9` too), so
a stale lock cannot outlive its run; the file itself may stay behind and means nothing on its own.

Why not the `filelock` package: it opens the lock file with O_TRUNC before trying the lock, so every refused
contender would erase the holder's PID that the message needs.

Only the process that owns the folder locks it: under DDP that is global rank 0. The other ranks, which
gan_zoo's launcher (gan_zoo.parallel.distributed.HydraJobLauncher) starts into the same `hydra.run.dir` with
LOCAL_RANK set, run inside their job's folder without locking it. Holding is counted per process, so the entry
point can take the folder before Hydra writes into it and the training run take it again (a no-op) for its
duration; each sweep job holds its own job folder while it trains.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import socket
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

from gan_zoo.errors import FolderInUseError

LOCK_FILE = ".gan_zoo.lock"
# Set by Lightning's and gan_zoo's DDP launchers, torchrun and SLURM for every process of a job but its first.
RANK_VARIABLES = ("RANK", "SLURM_PROCID", "NODE_RANK", "LOCAL_RANK")
# Hydra options that print and exit without running a job: no folder to hold.
NO_JOB_FLAGS = ("-h", "--help", "--hydra-help", "-c", "--cfg", "-i", "--info", "--shell-completion", "-sc")

log = logging.getLogger(__name__)
UNSUPPORTED = {errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP}  # flock not offered here
_held: dict[Path, list[int]] = {}  # folder -> [descriptor, how many holds]


def _key(folder: str | Path) -> Path:
    """One name per folder, however it was spelled (relative, through a symlink, with ..): a second descriptor of
    the same lock file would conflict with this process's own lock."""
    return Path(os.path.realpath(folder))


def owns_run_folder(environ: Mapping[str, str] = os.environ) -> bool:
    """True for the process that owns its job's folder: no rank variable says it is another rank than 0."""
    return all(environ.get(name, "0").strip() in ("", "0") for name in RANK_VARIABLES)


def holder(folder: str | Path) -> str:
    """Who holds the folder's lock, as written into the lock file ("PID 123 on host n1"), or "an unknown process"."""
    path = Path(folder) / LOCK_FILE
    for _ in range(20):  # the holder writes its PID just after taking the lock: give it a moment
        with contextlib.suppress(OSError):
            pid, _, host = path.read_text().strip().partition(" ")
            if pid.isdigit():
                return f"PID {pid}" + (f" on {host}" if host else "")
        time.sleep(0.05)
    return "an unknown process"


def acquire(folder: str | Path, key: str = "hydra.run.dir") -> None:
    """Hold `folder` for this process (again, if it already does), or raise FolderInUseError naming the live run
    that holds it. `key` is the setting that chooses another folder, for the message."""
    folder = _key(folder)
    if folder in _held:
        _held[folder][1] += 1
        return
    folder.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)  # never O_TRUNC: the holder's PID
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        raise FolderInUseError(f"{folder} is in use by another run ({holder(folder)}): wait for it to finish or stop "
                               f"it, or choose another folder with {key}=<folder>") from None
    except OSError as error:
        os.close(descriptor)
        if error.errno not in UNSUPPORTED:
            raise
        # Lustre without -o flock and some NFS set-ups cannot lock: run unlocked rather than not at all
        log.warning("cannot lock %s on this file system (%s): two runs into it would not be kept apart", folder,
                    error.strerror or error)
        return
    except BaseException:
        os.close(descriptor)
        raise
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, f"{os.getpid()} {socket.gethostname()}\n".encode(), 0)
    _held[folder] = [descriptor, 1]


def release(folder: str | Path) -> None:
    """Give up one hold of `folder`; the last one unlocks it (the file stays: deleting it could race a new run)."""
    folder = _key(folder)
    entry = _held.get(folder)
    if entry is None:
        return
    entry[1] -= 1
    if entry[1] == 0:
        del _held[folder]
        os.close(entry[0])  # closing the only descriptor drops the flock


@contextlib.contextmanager
def hold(folder: str | Path, key: str = "hydra.run.dir") -> Iterator[None]:
    """Hold the run folder for the duration of the block, if this process owns it (see owns_run_folder)."""
    if not owns_run_folder():
        yield
        return
    acquire(folder, key)
    try:
        yield
    finally:
        release(folder)


def hold_requested_folder(args: Sequence[str]) -> None:
    """Before Hydra writes .hydra/ and the log into it: hold the folder the command line names (hydra.run.dir, or
    hydra.sweep.dir under -m) until this process exits. Folders with interpolations (the timestamped defaults)
    are taken by each job when it starts (gan_zoo.runtime.fit.train)."""
    if not owns_run_folder() or any(a in NO_JOB_FLAGS or a.startswith("--cfg=") for a in args):
        return
    multirun = any(a in ("-m", "--multirun") for a in args)
    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    try:
        overrides = OverridesParser.create().parse_overrides([a for a in args if a.startswith(f"{key}=")])
    except HydraException:
        return  # Hydra reports a malformed override itself
    folders = [o.value() for o in overrides if isinstance(o.value(), str)]
    if folders and "${" not in folders[-1]:
        acquire(folders[-1], key)
