"""The configs are found from an installed wheel too, by `python -m` and the console script
(docs/methods.md#implementation-pitfalls, item 10)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import FAST

ROOT = Path(__file__).resolve().parents[1]


def test_installed_wheel_trains_from_anywhere(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "src", "conf"):
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy
        copy(ROOT / name, source / name, **({"ignore": shutil.ignore_patterns("__pycache__", "*.egg-info")}
                                            if copy is shutil.copytree else {}))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "wheel", str(source), "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist")],
                   check=True, capture_output=True, timeout=600)
    (wheel,) = (tmp_path / "dist").glob("gan_zoo-*.whl")
    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True,
                   capture_output=True, timeout=600)
    env = {**os.environ, "PYTHONPATH": str(site), "WANDB_MODE": "offline"}
    where = subprocess.run([sys.executable, "-c", "import gan_zoo.conf as c; print(c.__file__)"], env=env,
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(site))
    subpackages = sorted(p.parent.name for p in (ROOT / "src" / "gan_zoo").glob("*/__init__.py"))
    missing = [name for name in subpackages if not (site / "gan_zoo" / name / "__init__.py").exists()]
    assert not missing, f"subpackages missing from the wheel: {missing}"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for command in ([sys.executable, "-m", "gan_zoo.train"], [str(site / "bin" / "gan-zoo-train")]):
        run_dir = elsewhere / Path(command[-1]).name
        result = subprocess.run([*command, *FAST, "objective=hinge", "lipschitz=sn", "data=ring",
                                 f"hydra.run.dir={run_dir}"], env=env, cwd=elsewhere, capture_output=True,
                                text=True, timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        assert (run_dir / "metrics.json").exists()
