"""Faults of the machine, not of the config: a full disk while checkpointing, and W&B credentials without a network.

The disk is a real small file system (a tmpfs mounted for the test; CI and these tests run as root), not a mock:
torch.save hides ENOSPC inside a RuntimeError, and only a real full disk shows what the writer then sees. The W&B
server is a closed port or a tiny HTTP server on 127.0.0.1: no traffic leaves the machine.
"""

from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from conftest import FAST, read_metrics, run_train
from gan_zoo.runtime.checkpoint_io import AtomicCheckpointIO
from gan_zoo.runtime.disk_space import DiskFullError
from gan_zoo.runtime.wandb_network import unreachable_reason

FAKE_API_KEY = "0123456789abcdef0123456789abcdef01234567"  # 40 characters, the form of a W&B key; never sent


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs, unmounted afterwards."""
    mount_point = tmp_path / "small_disk"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(disk: Path, leave: int) -> None:
    """Write a ballast file so that about `leave` bytes stay free."""
    free = shutil.disk_usage(disk).free
    with open(disk / "ballast", "wb") as file:
        chunk = b"\0" * (1 << 20)
        remaining = max(free - leave, 0)
        while remaining > 0:
            remaining -= file.write(chunk[:remaining])
    assert shutil.disk_usage(disk).free <= leave + (1 << 16)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_checkpoint_that_does_not_fit_says_so_and_leaves_the_previous_one(small_disk: Path) -> None:
    writer = AtomicCheckpointIO()
    target = small_disk / "last.ckpt"
    writer.save_checkpoint({"weights": torch.ones(1000)}, target)
    before = target.read_bytes()
    fill(small_disk, leave=200_000)
    with pytest.raises(DiskFullError) as caught:
        writer.save_checkpoint({"weights": torch.zeros(250_000)}, target)  # about 1 MB
    message = str(caught.value)
    assert f"no space left in {small_disk} for checkpoint last.ckpt: it needs 1.0 MB" in message
    assert " kB are free" in message and "checkpoint_dir=" in message
    assert caught.value.exit_code == 2
    assert target.read_bytes() == before
    assert sorted(p.name for p in small_disk.iterdir()) == ["ballast", "last.ckpt"]  # no temporary file left


def test_an_error_that_is_not_about_space_stays_what_it_was(small_disk: Path) -> None:
    """A checkpoint that cannot be pickled fails with pickle's error, not a made-up full disk."""
    with pytest.raises(Exception) as caught:
        AtomicCheckpointIO().save_checkpoint({"lock": threading.Lock()}, small_disk / "last.ckpt")
    assert not isinstance(caught.value, DiskFullError)
    assert list(small_disk.iterdir()) == []


def test_a_full_disk_mid_run_stops_with_one_line_and_keeps_the_checkpoints(small_disk: Path, tmp_path: Path) -> None:
    """A run whose checkpoint folder fills up: exit 2, one line naming the folder, the checkpoint's size and the free
    space; the checkpoints written before are byte for byte as they were, and resume."""
    checkpoints = small_disk / "checkpoints"
    first = run_train([*FAST, "gen_iters=2", f"checkpoint_dir={checkpoints}"], tmp_path / "first")
    assert first.returncode == 0, first.stderr[-3000:]
    before = snapshot(checkpoints)
    assert set(before) == {"gen_iter_2.ckpt", "last.ckpt"}
    size = len(before["last.ckpt"])
    fill(small_disk, leave=size // 2)

    resumed = run_train([*FAST, f"checkpoint_dir={checkpoints}", f"ckpt_path={checkpoints / 'last.ckpt'}"],
                        tmp_path / "resumed")
    assert resumed.returncode == 2, resumed.stderr[-3000:]
    errors = [line for line in resumed.stderr.splitlines() if line.startswith("gan_zoo: error:")]
    assert len(errors) == 1 and "Traceback" not in resumed.stderr, resumed.stderr[-3000:]
    assert errors[0].startswith(f"gan_zoo: error: no space left in {checkpoints} for checkpoint gen_iter_4.ckpt: "
                                f"it needs "), errors[0]
    assert " are free; free some space there or write checkpoints elsewhere with checkpoint_dir=" in errors[0]
    assert snapshot(checkpoints) == before  # intact, and no temporary file left behind

    (small_disk / "ballast").unlink()
    again = run_train([*FAST, f"checkpoint_dir={checkpoints}", f"ckpt_path={checkpoints / 'last.ckpt'}"],
                      tmp_path / "again")
    assert again.returncode == 0, again.stderr[-3000:]
    assert read_metrics(tmp_path / "again")["gen_iter"] == 4


# ------------------------------------------------------------------------------------------------ W&B network
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wandb_without_network() -> dict[str, str]:
    """Credentials, and a W&B server on a closed loopback port; no proxy, so nothing leaves 127.0.0.1."""
    proxies = {k: "" for k in os.environ if k.lower() in ("http_proxy", "https_proxy", "all_proxy")}
    return {**proxies, "WANDB_MODE": "", "WANDB_API_KEY": FAKE_API_KEY,
            "WANDB_BASE_URL": f"http://127.0.0.1:{closed_port()}", "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}


def test_wandb_auto_with_credentials_but_no_network_logs_offline_and_trains(tmp_path: Path) -> None:
    env = wandb_without_network()
    started = time.monotonic()
    result = run_train([arg for arg in FAST if arg != "logger=csv"], tmp_path / "run", env=env, timeout=90)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    warnings = [line for line in (result.stdout + result.stderr).splitlines() if "cannot be reached" in line]
    assert len(warnings) == 1, result.stdout[-3000:]
    assert (f"the W&B server {env['WANDB_BASE_URL']} cannot be reached (Connection refused): logging offline; "
            f"upload later with `wandb sync`") in warnings[0]
    assert read_metrics(tmp_path / "run")["gen_iter"] == 4
    assert list((tmp_path / "run" / "wandb").glob("offline-run-*"))  # the offline run, for `wandb sync`
    assert took < 60, f"took {took:.0f} s (W&B alone waits about 100 s)"


def test_wandb_online_with_credentials_but_no_network_stops_with_one_line(tmp_path: Path) -> None:
    env = wandb_without_network()
    result = run_train([*[arg for arg in FAST if arg != "logger=csv"], "logger.wandb.mode=online"], tmp_path / "run",
                       env=env, timeout=90)
    assert result.returncode == 2, result.stderr[-3000:]
    assert result.stderr.strip().splitlines() == [
        f"gan_zoo: error: logger.wandb.mode=online but the W&B server {env['WANDB_BASE_URL']} cannot be reached "
        f"(Connection refused): use logger.wandb.mode=offline (and `wandb sync` the run later), or check the network"]
    assert not (tmp_path / "run" / "metrics.json").exists()


class _Answer(http.server.BaseHTTPRequestHandler):
    status = 401

    def do_HEAD(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(self.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize(("status", "reason"), [(401, None), (404, None), (502, "HTTP 502")])
def test_a_server_that_answers_is_reachable_unless_it_fails(status: int, reason: str | None) -> None:
    """Any answer below 500 is a W&B server (it may refuse an anonymous request); a 5xx is not a working one."""
    handler = type("Answer", (_Answer,), {"status": status})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert unreachable_reason(f"http://127.0.0.1:{server.server_port}") == reason
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_that_never_answers_is_unreachable_within_the_timeout() -> None:
    """A port that accepts connections but never answers (a black-holed network): given up after the timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        started = time.monotonic()
        reason = unreachable_reason(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout_s=1.0)
        assert reason == "no answer within 1 s"
        assert time.monotonic() - started < 3
    assert unreachable_reason(f"http://127.0.0.1:{closed_port()}") == "Connection refused"
