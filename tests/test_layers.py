"""The package's layers (README "Development"): a module imports gan_zoo modules of its own layer or lower ones
only (imports under `if TYPE_CHECKING:` are annotations, not dependencies)."""

from __future__ import annotations

import ast
from pathlib import Path

import gan_zoo

PACKAGE = Path(gan_zoo.__file__).parent

# Most specific prefix wins; rank 0 is the bottom.
LAYERS = {
    "gan_zoo": 0, "gan_zoo.errors": 0, "gan_zoo.compat": 0, "gan_zoo.contracts": 0, "gan_zoo.parallel": 0,
    "gan_zoo.parallel.sharding": 0, "gan_zoo.runtime.resolvers": 0,
    "gan_zoo.objectives": 1, "gan_zoo.lipschitz": 1, "gan_zoo.nets": 1, "gan_zoo.training.schedule": 1,
    "gan_zoo.regularizers": 1,
    "gan_zoo.data": 2, "gan_zoo.metrics": 2, "gan_zoo.parallel.distributed": 2,
    "gan_zoo.training": 3,
    "gan_zoo.callbacks": 4,
    "gan_zoo.runtime": 5, "gan_zoo.reporting": 5, "gan_zoo.inference": 5,
    "gan_zoo.train": 6, "gan_zoo.report": 6, "gan_zoo.sample": 6, "gan_zoo.evaluate": 6, "gan_zoo.study": 6,
    "gan_zoo.testing": 7,
}


# The package's `gan_zoo.load()` is a facade that imports the loader when called (so `import gan_zoo` stays light).
FACADES = {("gan_zoo", "gan_zoo.inference.trained")}


def layer(module: str) -> int:
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in LAYERS:
            return LAYERS[".".join(parts[:n])]
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and to the README table")


def module_name(path: Path) -> str:
    parts = ["gan_zoo", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(name: str) -> bool:
    if not name.startswith("gan_zoo."):
        return False
    path = PACKAGE.joinpath(*name.split(".")[1:])
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def runtime_imports(tree: ast.AST) -> list[str]:
    found: list[str] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from a.b import c`: the module a.b.c when c is one, else a.b
            found.extend(f"{node.module}.{alias.name}" if is_module(f"{node.module}.{alias.name}") else node.module
                         for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return [name for name in found if name == "gan_zoo" or name.startswith("gan_zoo.")]


def upward_imports() -> list[str]:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "conf" in path.relative_to(PACKAGE).parts:
            continue
        importer = module_name(path)
        for imported in runtime_imports(ast.parse(path.read_text())):
            if imported.startswith("gan_zoo.conf"):
                continue
            target = layer(imported)
            if (importer, imported) in FACADES:
                continue
            if target > layer(importer):
                wrong.append(f"{importer} (layer {layer(importer)}) imports {imported} (layer {target})")
    return wrong


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    assert upward_imports() == []


def test_every_module_is_in_a_layer() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "conf" not in path.relative_to(PACKAGE).parts:
            layer(module_name(path))


def test_the_check_sees_an_upward_import() -> None:
    tree = ast.parse("from gan_zoo.runtime.build import build\nif TYPE_CHECKING:\n    import gan_zoo.train\n")
    assert runtime_imports(tree) == ["gan_zoo.runtime.build"]
    assert layer("gan_zoo.runtime.build") > layer("gan_zoo.nets.base")
