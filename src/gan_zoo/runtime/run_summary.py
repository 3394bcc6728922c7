"""The lines a finished run prints: its final metrics beside their references, where its files are, and the commands
that use what it trained (README "After training")."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from gan_zoo.contracts import KnownDistribution, ModeMixture


def _duration(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def metric_lines(metrics: Mapping[str, Any], modes_total: int | None) -> list[str]:
    """The final validation's metrics, each beside what it is measured against: exact W1 beside the W1 between two
    real samples of the same size (the noise floor, the best a perfect generator can score), modes found of all
    modes, image metrics as they are (their reference is another run: `gan_zoo.report`)."""
    lines = []
    w1, floor = metrics.get("val/w1_exact"), metrics.get("val/w1_noise_floor")
    if w1 is not None:
        reference = (f" (noise floor {floor:.3g}: two real samples of the same size, {w1 / floor:.1f}× the floor)"
                     if floor else "")
        lines.append(f"exact W1 {w1:.3g}{reference}")
    if metrics.get("val/modes") is not None:
        total = f" of {modes_total}" if modes_total else ""
        quality = metrics.get("val/high_quality")
        within = f"; {100 * quality:.1f} % of samples within 3σ of a mode (high quality)" if quality is not None else ""
        lines.append(f"modes {metrics['val/modes']:.0f}{total}{within}")
    images = [f"{name} {metrics[f'val/{name}']:.4g}" for name in ("fid", "kid_mean", "is_mean", "precision", "recall")
              if metrics.get(f"val/{name}") is not None]
    if images and w1 is None:
        lines.append(", ".join(images))
    if metrics.get("val/w_estimate") is not None:
        lines.append(f"critic's held-out estimate E[D(x)] − E[D(G(z))] {metrics['val/w_estimate']:.4g}")
    return lines


def modes_of(datamodule: Any) -> int | None:
    distribution = datamodule.distribution if isinstance(datamodule, KnownDistribution) else None
    return len(distribution.centers) if isinstance(distribution, ModeMixture) else None


def wandb_sync_command(loggers: Iterable[Any]) -> str | None:
    """`wandb sync <folder>` for an offline W&B run (uploads it once there is an account and a network)."""
    for logger in loggers:
        experiment = getattr(logger, "experiment", None) if type(logger).__name__.endswith("WandbLogger") else None
        if experiment is not None and getattr(experiment, "offline", False):
            return f"wandb sync {shlex.quote(str(Path(experiment.dir).parent))}"
    return None


def summary(output_dir: str | Path, metrics: Mapping[str, Any], modes_total: int | None, loggers: Iterable[Any],
            toy: bool) -> str:
    """The end-of-run summary: metrics, files, and the sample/evaluate commands for this run."""
    run = Path(output_dir).resolve()
    gen_iter, wall = metrics.get("gen_iter"), metrics.get("wall_time_s")
    took = f" in {_duration(wall)}" if wall is not None else ""
    lines = [f"finished: {gen_iter} generator iterations{took}"]
    lines += [f"  {line}" for line in metric_lines(metrics, modes_total)]
    files = [("run folder", run), ("checkpoints", run / "checkpoints"), ("logs", run / "train.log"),
             ("metrics", run / "metrics.json"), ("pictures", run / ("plots" if toy else "samples")),
             ("history", run / "csv" / "metrics.csv")]
    lines += [f"  {name:<12}{path}" for name, path in files if path.exists()]
    sync = wandb_sync_command(loggers)
    if sync:
        lines.append(f"  W&B (offline): {sync}")
    last = run / "checkpoints" / "last.ckpt"
    if last.is_file():
        out = run / "generated"
        lines.append(f"  sample:     python -m gan_zoo.sample ckpt_path={shlex.quote(str(last))} num_samples=1000 "
                     f"out={shlex.quote(str(out))}")
        lines.append(f"  evaluate:   python -m gan_zoo.evaluate run={shlex.quote(str(run))}")
    return "\n".join(lines)
