"""Writing samples to disk: PNG files, one uint8 .npz array, toy points as .npy with a scatter plot, grids and
interpolation strips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torchvision.io import write_png
from torchvision.utils import make_grid

from gan_zoo.data.images import to_uint8

FORMATS = ("png", "npz")


def write_png_files(images: Tensor, folder: Path, start: int = 0) -> list[Path]:
    """uint8 images (N, C, H, W) as folder/000000.png, 000001.png, … (numbered from `start`)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, image in enumerate(images):
        path = folder / f"{start + i:06d}.png"
        write_png(image.contiguous(), str(path))
        paths.append(path)
    return paths


def write_npz(images: Tensor, path: Path) -> Path:
    """uint8 images (N, C, H, W) as one array `images` of shape (N, H, W, C) in path (the layout image-metric tools
    such as pytorch-fid and torch-fidelity read)."""
    np.savez_compressed(path, images=images.permute(0, 2, 3, 1).contiguous().numpy())
    return path


def write_grid(images: Tensor, path: Path, nrow: int) -> Path:
    """float images in [−1, 1] as one grid PNG, nrow per row."""
    grid = make_grid(to_uint8(images).float().div(255.0), nrow=nrow, padding=2, pad_value=1.0)
    write_png(grid.mul(255).round().clamp(0, 255).to(torch.uint8), str(path))
    return path


def write_points(points: Tensor, folder: Path) -> list[Path]:
    """Toy samples (N, d) as samples.npy and, for d = 2, scatter.png."""
    paths = [folder / "samples.npy"]
    np.save(paths[0], points.numpy())
    if points.shape[1] == 2:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.5)
        ax.set_aspect("equal")
        ax.set_title(f"{len(points)} samples")
        fig.tight_layout()
        paths.append(folder / "scatter.png")
        fig.savefig(paths[-1])
        plt.close(fig)
    return paths


def write_point_paths(points: Tensor, rows: int, path: Path) -> Path:
    """2-D latent interpolations (rows·steps, 2) drawn as one line per row."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    for row in points.view(rows, -1, points.shape[1]):
        ax.plot(row[:, 0], row[:, 1], marker=".", markersize=3, linewidth=1)
    ax.set_aspect("equal")
    ax.set_title(f"{rows} latent interpolations")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def write_record(path: Path, record: dict[str, Any]) -> Path:
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return path
