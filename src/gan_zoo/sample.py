"""`python -m gan_zoo.sample ckpt_path=<ckpt> num_samples=N out=<folder>` (or `gan-zoo-sample`): samples of a trained
generator, rebuilt from the checkpoint alone (conf/sample.yaml lists every setting).

Images: N PNG files in <out>/samples/ (or `format=npz`: <out>/samples.npz, one uint8 array), <out>/grid.png and
<out>/interpolation.png (rows of a latent walk). Toy data: <out>/samples.npy, <out>/scatter.png and the walks in
<out>/interpolation.png. <out>/sample.json records the checkpoint, its generator iteration, the seed and whether the
EMA generator was used. Settings are checked before torch is imported.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from gan_zoo.errors import ConfigError
from gan_zoo.runtime.compose import run_command
from gan_zoo.runtime.schema import Rule, at_least, non_negative, one_of

RULES = (
    Rule("ckpt_path", "str"),
    Rule("out", "str"),
    Rule("num_samples", "int", ">= 1", at_least(1)),
    Rule("seed", "int", ">= 0", non_negative),
    Rule("ema", "bool"),
    Rule("format", "choice", "one of png, npz", one_of("png", "npz")),
    Rule("batch_size", "int", ">= 1", at_least(1)),
    Rule("device", "str"),
    Rule("overwrite", "bool"),
    Rule("grid", "int", ">= 0", non_negative),
    Rule("interpolation.rows", "int", ">= 0", non_negative),
    Rule("interpolation.steps", "int", ">= 2", at_least(2)),
    Rule("interpolation.mode", "choice", "one of slerp, lerp", one_of("slerp", "lerp")),
)


def check_out_folder(out: Path, overwrite: bool) -> None:
    """Refuse a folder that holds files (nothing a user wrote is overwritten unless they say so)."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"out={out} is a file: choose a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ConfigError(f"out={out} is not empty: choose a new folder, or overwrite=true to write over files of "
                          "the same names there")


def remove_previous_samples(out: Path) -> None:
    """Delete what an earlier `gan_zoo.sample` wrote there (numbered PNGs in samples/, samples.npz/.npy), so a folder
    never mixes two runs' samples; any other file is left alone."""
    for path in [*(out / "samples").glob("[0-9][0-9][0-9][0-9][0-9][0-9].png"), out / "samples.npz", out / "samples.npy"]:
        path.unlink(missing_ok=True)


def sample(cfg: DictConfig) -> dict[str, Any]:
    """Write the samples cfg asks for; returns the record written to <out>/sample.json."""
    from rich.progress import Progress

    from gan_zoo.inference.latent import interpolation_noise
    from gan_zoo.inference.trained import load
    from gan_zoo.inference.writing import (write_grid, write_npz, write_png_files, write_point_paths, write_points,
                                           write_record)
    from gan_zoo.data.images import to_uint8

    out = Path(cfg.out)
    check_out_folder(out, cfg.overwrite)
    trained = load(cfg.ckpt_path, ema=cfg.ema, device=cfg.device)
    out.mkdir(parents=True, exist_ok=True)
    remove_previous_samples(out)  # overwrite=true: no stale 000123.png of a larger earlier run stays among the new
    written: list[Path] = []
    with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
        task = progress.add_task("sampling", total=cfg.num_samples)
        samples = trained.sample(cfg.num_samples, seed=cfg.seed, batch_size=cfg.batch_size,
                                 on_batch=lambda k: progress.advance(task, k))
    if trained.is_image:
        images = to_uint8(samples)
        if cfg.format == "npz":
            written.append(write_npz(images, out / "samples.npz"))
        else:
            written.extend(write_png_files(images, out / "samples"))
        if cfg.grid:
            written.append(write_grid(samples[: cfg.grid], out / "grid.png", nrow=8))
    else:
        written.extend(write_points(samples, out))
    rows, steps = cfg.interpolation.rows, cfg.interpolation.steps
    if rows:
        z = interpolation_noise(trained.z_dim, rows, steps, seed=cfg.seed, mode=cfg.interpolation.mode)
        walk = trained.generate(z).cpu()
        path = out / "interpolation.png"
        written.append(write_grid(walk, path, nrow=steps) if trained.is_image else write_point_paths(walk, rows, path))
    record = {"ckpt_path": str(Path(cfg.ckpt_path).resolve()), "gen_iter": trained.gen_iter,
              "ema": trained.uses_ema, "seed": cfg.seed, "num_samples": cfg.num_samples,
              "format": cfg.format if trained.is_image else "npy", "data_shape": list(trained.data_shape),
              "files": len(written)}
    write_record(out / "sample.json", record)
    return record


def main(argv: Sequence[str] | None = None) -> None:
    cfg, record = run_command("sample", RULES, sample, argv)
    generator = "EMA generator" if record["ema"] else "generator"
    print(f"gan_zoo: {record['num_samples']} samples of the {generator} at generator iteration {record['gen_iter']} "
          f"written to {cfg.out}")


if __name__ == "__main__":
    main()
