"""Is the W&B server reachable? Asked in a few seconds, before W&B itself would wait about 100 s for it.

With credentials but no network (an offline cluster node), `wandb.init` in online mode retries for about 100 s and
then fails with a traceback, before anything is trained. So a run that would log online first sends one HTTP request
to the W&B server: `mode=auto` then logs offline with one warning (for a later `wandb sync`), an explicit
`mode=online` stops with one line that names `logger.wandb.mode=offline`.
"""

from __future__ import annotations

import logging
import os
import re
import threading

import requests

from gan_zoo.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.wandb.ai"  # W&B's cloud; WANDB_BASE_URL points at a self-hosted server
PROBE_TIMEOUT_S = 4.0  # for the whole probe, name resolution included (requests' timeout does not cover DNS)


def base_url() -> str:
    """The W&B server that `wandb.init` would use: WANDB_BASE_URL, else W&B's cloud."""
    return os.environ.get("WANDB_BASE_URL") or DEFAULT_BASE_URL


def unreachable_reason(url: str, timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """Why `url` cannot be reached (e.g. "connection refused", "no answer within 4 s"), or None when it answers.

    Any HTTP answer below 500 counts as reachable (the server may well refuse an anonymous HEAD request); a 5xx is a
    proxy or a server that cannot serve W&B either. The request goes through requests, so HTTPS_PROXY and NO_PROXY
    are honoured as wandb honours them.
    """
    outcome: list[str | None] = []

    def probe() -> None:
        try:
            response = requests.head(url, timeout=timeout_s, allow_redirects=False)
        except requests.exceptions.Timeout:
            outcome.append(f"no answer within {timeout_s:g} s")
        except requests.exceptions.RequestException as error:
            outcome.append(_short(error))
        else:
            outcome.append(f"HTTP {response.status_code}" if response.status_code >= 500 else None)

    worker = threading.Thread(target=probe, name="gan_zoo-wandb-probe", daemon=True)
    worker.start()
    worker.join(timeout_s + 0.5)
    return outcome[0] if outcome else f"no answer within {timeout_s:g} s"


def _short(error: requests.exceptions.RequestException) -> str:
    """The system's reason inside a requests error ("Connection refused", "Name or service not known"), else the
    error's class name."""
    found = re.search(r"\[Errno [^]]+\] ([^)\"']+)", str(error))
    return found[1].strip() if found else type(error).__name__


def check_network(resolved: str, explicit: bool) -> str:
    """The mode to log in, given the resolved one: unchanged unless it is online and the server is unreachable;
    then "offline" with one warning, or (`explicit`: the config said mode=online) a ConfigError."""
    if resolved != "online":
        return resolved
    url = base_url()
    reason = unreachable_reason(url)
    if reason is None:
        return resolved
    if explicit:
        raise ConfigError(f"logger.wandb.mode=online but the W&B server {url} cannot be reached ({reason}): "
                          f"use logger.wandb.mode=offline (and `wandb sync` the run later), or check the network")
    log.warning("the W&B server %s cannot be reached (%s): logging offline; upload later with `wandb sync`",
                url, reason)
    return "offline"
