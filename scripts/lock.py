"""Write constraints.txt: the exact installed versions of gan_zoo[dev]'s dependency closure.

    python scripts/lock.py      # (or `make lock`) after installing/upgrading in the active Python

Reads the requirements from pyproject.toml, follows them (with extras and environment markers) through the
installed distributions' metadata, and pins each package found at its installed version. Needs Python >= 3.11.
"""

from __future__ import annotations

import platform
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
EXTRAS = ("dev",)


def closure(requirements: list[str]) -> dict[str, metadata.Distribution]:
    found: dict[str, metadata.Distribution] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    todo = [(Requirement(r), frozenset({""})) for r in requirements]  # (requirement, extras of its requirer)
    while todo:
        req, parent_extras = todo.pop()
        if req.marker and not any(req.marker.evaluate({"extra": e}) for e in parent_extras):
            continue
        name, extras = canonicalize_name(req.name), frozenset(req.extras)
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            found[name] = dist = found.get(name) or metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            sys.exit(f"{req.name} (needed via {req}) is not installed: run `make install` first")
        todo += [(Requirement(r), extras | {""}) for r in dist.requires or ()]
    return found


def main() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    dists = closure([*project["dependencies"], *(r for e in EXTRAS for r in extras.get(e, ()))])
    dists.pop(canonicalize_name(project["name"]), None)
    lines = [
        f"# Constraints (lock) file: the exact versions of everything `pip install -e \".[{','.join(EXTRAS)}]\"`",
        "# brings, as tested by CI. Used by the Makefile as `pip install -c constraints.txt ...`.",
        f"# Made on {platform.system()} {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}.",
        "# Refresh (after upgrading a dependency in the active Python): python scripts/lock.py   (or: make lock)",
        *(f"{dists[n].metadata['Name']}=={dists[n].version}" for n in sorted(dists)),
    ]
    (ROOT / "constraints.txt").write_text("\n".join(lines) + "\n")
    print(f"wrote {ROOT / 'constraints.txt'}: {len(dists)} packages")


if __name__ == "__main__":
    main()
