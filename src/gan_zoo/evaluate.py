"""`python -m gan_zoo.evaluate ckpt_path=<ckpt>`, `run=<run folder>` or `fake=<folder> real=<folder>` (or
`gan-zoo-evaluate`): metrics of trained generators from their checkpoints alone, or of two folders of images
(conf/evaluate.yaml lists every setting).

ckpt_path=: one JSON with every metric that fits the run's data (toy: exact W1 and its noise floor, modes,
high-quality samples, precision/recall/density/coverage on coordinates; images: the run's FID/KID/IS/PRDC, and on
stacked digits the modes covered and their KL to uniform), the
sample counts, where the real images came from and the feature network. run=: every `checkpoints/gen_iter_<k>.ckpt`
of the run, `evaluation.json` (all of them and the best by `best_by`) and `curve.png` in <run>/evaluation/ (or `out`).
With real=<folder> (images only) the real images are that folder's, read at the run's image size and channels as its
folder data would be. fake= real=: the metrics of `metrics=` (inception by default) between two folders, with no
checkpoint, as pytorch-fid's command line compares two folders. An earlier evaluation's files are replaced only with
overwrite=true; the settings are checked before torch is imported."""

from __future__ import annotations

import json
import math
import re
import sys
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
    Rule("fake", "str", optional=True),
    Rule("real", "str", optional=True),
    Rule("image_size", "int", ">= 4", at_least(4), optional=True, hint="null = the first fake image's size"),
    Rule("num_fake", "int", ">= 2", at_least(2), optional=True),
    Rule("num_real", "int", ">= 2", at_least(2), optional=True),
    Rule("seed", "int", ">= 0", non_negative, optional=True),
    Rule("ema", "bool"),
    Rule("device", "str"),
    Rule("batch_size", "int", ">= 1", at_least(1)),
    Rule("best_by", "str"),
    Rule("out", "str", optional=True),
    Rule("overwrite", "bool"),
)
LOWER_IS_BETTER = {"fid", "kid_mean", "w1_exact", "reverse_kl", "stacked_kl"}
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
    for metric in ("fid", "w1_exact", "stacked_kl"):
        if metric in evaluation:
            return metric
    return "precision"


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


def metrics_overrides(args: Sequence[str]) -> tuple[bool, list[str]]:
    """Whether the command line chooses a metrics option (metrics=<option>), and its overrides of metrics keys."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides([a for a in args if "=" in a and not a.startswith("-")])
    keys = [o.key_or_group for o in parsed]
    return "metrics" in keys, [o.input_line for o in parsed if o.key_or_group.startswith("metrics.")]


def check_mode(cfg: DictConfig, args: Sequence[str]) -> None:
    """One of ckpt_path=, run= or fake= real=, and only the settings that mode reads."""
    if cfg.fake is not None:
        if cfg.ckpt_path is not None or cfg.run is not None:
            raise ConfigError("fake= compares two folders without a checkpoint: drop ckpt_path=/run= (a checkpoint's "
                              "samples against a folder: ckpt_path=<ckpt> real=<folder>)")
        if cfg.real is None:
            raise ConfigError("fake=<folder> needs real=<folder>, the images to compare it with")
        if not cfg.metrics.get("functions"):
            raise ConfigError("metrics=none computes no image metrics: choose metrics=inception or metrics=digits")
        return
    if (cfg.ckpt_path is None) == (cfg.run is None):
        raise ConfigError("give one of ckpt_path=<checkpoint> or run=<run folder> (with real=<folder> to compare with "
                          "a folder's images), or fake=<folder> real=<folder>")
    if cfg.image_size is not None:
        raise ConfigError("image_size= is for fake= real=: a checkpoint's samples and real= images take the run's "
                          "image size")
    chosen, tweaks = metrics_overrides(args)
    if tweaks and not chosen:
        raise ConfigError(f"{tweaks[0]}: a checkpoint is measured with its run's stored metrics config; to replace it "
                          f"choose an option too, e.g. metrics=inception {tweaks[0]}")


def out_paths(cfg: DictConfig) -> tuple[Path | None, Path | None]:
    """Where the JSON (and for run= the curve) go; None: the JSON to stdout (fake= real= without out=). An out that
    is an existing folder gets the default file name inside it."""
    suffix = f"_real-{Path(cfg.real).name}" if cfg.real is not None else ""
    if cfg.fake is not None:
        name, folder = "evaluation.json", None
    elif cfg.ckpt_path is not None:
        path = Path(cfg.ckpt_path)
        name, folder = f"{path.stem}{suffix}.json", path.resolve().parent.parent / "evaluation"
    else:
        name, folder = f"evaluation{suffix}.json", Path(cfg.run) / "evaluation"
    if cfg.out is None:
        out = None if folder is None else folder / name
    else:
        out = Path(cfg.out) / name if Path(cfg.out).is_dir() else Path(cfg.out)
    if out is None or cfg.run is None:
        return out, None
    return out, out.with_name("curve.png" if out.name == "evaluation.json" else f"{out.stem}.png")


def check_not_overwriting(paths: Sequence[Path | None], overwrite: bool) -> None:
    """Refuse to replace an earlier evaluation's files (as `gan_zoo.sample` refuses a folder that holds files)."""
    for path in paths:
        if path is not None and path.exists() and not overwrite:
            raise ConfigError(f"{path} exists (an earlier evaluation): choose another out=, or overwrite=true to "
                              "replace it")


def evaluate_command(cfg: DictConfig, args: Sequence[str] = ()) -> dict[str, Any]:
    """The evaluation cfg asks for; `args` are its command-line overrides (whether metrics= was chosen)."""
    check_mode(cfg, args)
    out, curve = out_paths(cfg)
    check_not_overwriting([out, curve], cfg.overwrite)

    from gan_zoo.inference.evaluation import IMAGE_METRICS, best_checkpoint, compare_folders, evaluate, toy_run_refusal
    from gan_zoo.inference.trained import load

    metrics = cfg.metrics if cfg.fake is not None or metrics_overrides(args)[0] else None

    def one(path: Path) -> dict[str, Any]:
        trained = load(path, ema=cfg.ema, device=cfg.device)
        if not trained.is_image and cfg.run is not None and cfg.best_by in IMAGE_METRICS:
            raise toy_run_refusal(trained, f"best_by={cfg.best_by}")
        return evaluate(trained, cfg.num_fake, cfg.num_real, cfg.seed, cfg.batch_size, cfg.real, metrics)

    if cfg.fake is not None:
        result = compare_folders(cfg.fake, cfg.real, metrics, cfg.image_size, cfg.num_fake, cfg.num_real, cfg.seed,
                                 cfg.batch_size, cfg.device)
    elif cfg.ckpt_path is not None:
        result = one(Path(cfg.ckpt_path))
    else:
        run = Path(cfg.run)
        evaluations = [one(path) for path in run_checkpoints(run)]
        metric = best_metric(evaluations[0], cfg.best_by)
        best = best_checkpoint(evaluations, metric, lower_is_better=metric in LOWER_IS_BETTER)
        curve.parent.mkdir(parents=True, exist_ok=True)
        result = {"run": str(run.resolve()), "best_by": metric, "best": best,
                  "curve": str(plot_curve(evaluations, metric, curve)), "checkpoints": evaluations}
    text = json.dumps(json_safe(result), indent=2, sort_keys=True, allow_nan=False) + "\n"
    if out is None:
        result["json"] = text
        return result
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    result["written_to"] = str(out)
    return result


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    cfg, result = run_command("evaluate", RULES, lambda cfg: evaluate_command(cfg, args), args)
    if "json" in result:  # fake= real= without out=: the JSON itself, for a pipe
        print(result["json"], end="")
    elif "best" in result:
        best = result["best"]
        print(f"gan_zoo: best checkpoint by {result['best_by']}: {best['ckpt_path']} (generator iteration "
              f"{best['gen_iter']}, {result['best_by']} {best[result['best_by']]:.4g}); all in {result['written_to']}")
    else:
        shown = {k: v for k, v in result.items() if isinstance(v, float)}
        print("gan_zoo: " + ", ".join(f"{k} {v:.4g}" for k, v in sorted(shown.items())) + f"; in {result['written_to']}")


if __name__ == "__main__":
    main()
