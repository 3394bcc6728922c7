"""Plain progress lines for logs: what a run writes instead of a progress bar when its output goes to a file.

Under SLURM, or with stdout redirected, Rich draws nothing until the run ends; a log line every `log_every_s`
seconds says how far training is, how fast it goes, the latest Wasserstein estimate and when it will end. Every
number is one the run already holds on the host (generator iterations are Python ints, the estimate is a float
read on a logging step: the module's `progress_bar_values`), so writing a line never waits for the device.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable


class ProgressLines:
    """Decides when a line is due and writes it. `start()` once training starts (a resumed run starts from its
    generator iteration, so the rate counts only this run's iterations)."""

    def __init__(self, every_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self.clock = clock
        self.started_at = self.last_at = clock()
        self.start_iter = 0

    def start(self, gen_iter: int) -> None:
        self.started_at = self.last_at = self.clock()
        self.start_iter = gen_iter

    def due(self) -> bool:
        """Whether `every_s` seconds have passed since the last line (or the start); 0: always."""
        return self.clock() - self.last_at >= self.every_s

    def line(self, gen_iter: int, total: int, values: dict[str, float]) -> str:
        """"generator iteration 120 of 1000 (12%), 35.2 G iters/s, W estimate 0.412, ETA 0:00:25" (the W estimate
        once a logging step has read one; the ETA once an iteration is done), and marks the line as written."""
        now = self.last_at = self.clock()
        elapsed = now - self.started_at
        done = gen_iter - self.start_iter
        rate = done / elapsed if elapsed > 0 else 0.0
        parts = [f"generator iteration {gen_iter} of {total} ({100 * gen_iter / max(total, 1):.0f}%)",
                 f"{rate:.3g} G iters/s"]
        if "w_est" in values:
            parts.append(f"W estimate {values['w_est']:.4g}")
        eta = datetime.timedelta(seconds=round((total - gen_iter) / rate)) if rate > 0 else "?"
        parts.append(f"ETA {eta}")
        return ", ".join(parts)
