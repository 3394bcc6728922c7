"""`python -m gan_zoo.evaluate ckpt_path=<ckpt>` or `run=<run folder>` (or `gan-zoo-evaluate`): metrics of trained
generators, from their checkpoints alone (conf/evaluate.yaml lists every setting).

ckpt_path=: one JSON with every metric that fits the run's data (toy: exact W1 and its noise floor, modes,
high-quality samples, precision/recall/density/coverage on coordinates; images: the run's FID/KID/IS/PRDC), the
sample counts and the feature network. run=: every `checkpoints/gen_iter_<k>.ckpt` of the run, `evaluation.json`
(all of them and the best by `best_by`) and `curve.png` in <run>/evaluation/ (or `out`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from gan_zoo.errors import ConfigError
from gan_zoo.runtime.compose import run_command
from gan_zoo.runtime.schema import Rule, at_least, non_negative

RULES = (
    Rule("ckpt_path", "str", optional=True),
    Rule("run", "str", optional=True),
    Rule("num_fake", "int", ">= 2", at_least(2), optional=True),
    Rule("num_real", "int", ">= 2", at_least(2), optional=True),
    Rule("seed", "int", ">= 0", non_negative, optional=True),
    Rule("ema", "bool"),
    Rule("device", "str"),
    Rule("batch_size", "int", ">= 1", at_least(1)),
    Rule("best_by", "str"),
    Rule("out", "str", optional=True),
)
LOWER_IS_BETTER = {"fid", "kid_mean", "w1_exact", "reverse_kl"}
CHECKPOINT = re.compile(r"gen_iter_(\d+)\.ckpt$")


def json_safe(value: Any) -> Any:
    """JSON has no NaN or infinity: such floats become null (as in metrics.json, gan_zoo.runtime.metrics_file)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_safe(v) for key, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def run_checkpoints(run: Path) -> list[Path]:
    """A run's per-validation checkpoints, in training order."""
    folder = run / "checkpoints"
    found = sorted((int(m[1]), p) for p in folder.glob("gen_iter_*.ckpt") if (m := CHECKPOINT.search(p.name)))
    if not found:
        raise ConfigError(f"{folder} holds no gen_iter_<k>.ckpt: point run= at a gan_zoo run folder")
    return [path for _, path in found]


def best_metric(evaluation: dict[str, Any], best_by: str) -> str:
    if best_by != "auto":
        if best_by not in evaluation:
            metrics = sorted(k for k, v in evaluation.items() if isinstance(v, float))
            raise ConfigError(f"best_by={best_by} is not measured here; choose one of: {', '.join(metrics)}")
        return best_by
    return "fid" if "fid" in evaluation else "w1_exact" if "w1_exact" in evaluation else "precision"


def plot_curve(evaluations: list[dict[str, Any]], metric: str, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    ax.plot([e["gen_iter"] for e in evaluations], [e.get(metric, float("nan")) for e in evaluations], marker="o")
    if "w1_noise_floor" in evaluations[0]:
        ax.axhline(evaluations[0]["w1_noise_floor"], color="gray", linestyle="--", label="W1 noise floor")
        ax.legend()
    ax.set_xlabel("generator iteration")
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} over the run's checkpoints")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def evaluate_command(cfg: DictConfig) -> dict[str, Any]:
    from gan_zoo.inference.evaluation import best_checkpoint, evaluate
    from gan_zoo.inference.trained import load

    if (cfg.ckpt_path is None) == (cfg.run is None):
        raise ConfigError("give one of ckpt_path=<checkpoint> or run=<run folder>")

    def one(path: Path) -> dict[str, Any]:
        return evaluate(load(path, ema=cfg.ema, device=cfg.device), cfg.num_fake, cfg.num_real, cfg.seed,
                        cfg.batch_size)

    if cfg.ckpt_path is not None:
        path = Path(cfg.ckpt_path)
        result = one(path)
        out = Path(cfg.out) if cfg.out else path.resolve().parent.parent / "evaluation" / f"{path.stem}.json"
    else:
        run = Path(cfg.run)
        evaluations = [one(path) for path in run_checkpoints(run)]
        metric = best_metric(evaluations[0], cfg.best_by)
        best = best_checkpoint(evaluations, metric, lower_is_better=metric in LOWER_IS_BETTER)
        out = Path(cfg.out) if cfg.out else run / "evaluation" / "evaluation.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        curve = plot_curve(evaluations, metric, out.with_name("curve.png"))
        result = {"run": str(run.resolve()), "best_by": metric, "best": best, "curve": str(curve),
                  "checkpoints": evaluations}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(json_safe(result), indent=2, sort_keys=True, allow_nan=False) + "\n")
    result["written_to"] = str(out)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    cfg, result = run_command("evaluate", RULES, evaluate_command, argv)
    if "best" in result:
        best = result["best"]
        print(f"gan_zoo: best checkpoint by {result['best_by']}: {best['ckpt_path']} (generator iteration "
              f"{best['gen_iter']}, {result['best_by']} {best[result['best_by']]:.4g}); all in {result['written_to']}")
    else:
        shown = {k: v for k, v in result.items() if isinstance(v, float)}
        print("gan_zoo: " + ", ".join(f"{k} {v:.4g}" for k, v in sorted(shown.items())) + f"; in {result['written_to']}")


if __name__ == "__main__":
    main()
