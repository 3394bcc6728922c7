"""gan_zoo.compat: the version check, the state-dict mismatch reading, and that private framework names stay in it."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

import gan_zoo
from gan_zoo import compat
from gan_zoo.errors import ConfigError

SOURCE = Path(gan_zoo.__file__).parent

# Private names of Lightning, torch, torchvision and torchmetrics that gan_zoo has used or could reach for: as an
# attribute (`x._name`, `self._name` in a framework subclass) or an override (`def _name`), and private classes.
FRAMEWORK_ATTRIBUTES = (
    "_on_before_step", "_on_after_step", "_signal_connector", "_get_train_description", "_configure_launcher",
    "_launcher", "_call_children_scripts", "_check_can_spawn_children", "_setup_model", "_model_averager",
    "_ddp_kwargs", "_accelerator_connector", "_logger_connector", "_checkpoint_connector", "_results",
    "_torch_fidelity_forward", "_check_integrity", "_load_meta", "_load_from_state_dict", "_version",
    "_modules", "_parameters", "_buffers", "_load_state_dict_post_hooks",
)
FRAMEWORK_CLASSES = ("_BatchNorm", "_NormBase", "_InstanceNorm", "_SubprocessScriptLauncher", "_MultiProcessingLauncher",
                     "_Launcher", "_LRScheduler")
FRAMEWORKS = r"(?:torch|torchvision|torchmetrics|torch_fidelity|pytorch_lightning|lightning|lightning_fabric)"
PRIVATE_USE = re.compile(
    rf"(?:\.|\bdef\s+)(?:{'|'.join(FRAMEWORK_ATTRIBUTES)})\b"  # attribute access or override
    rf"|\b(?:{'|'.join(FRAMEWORK_CLASSES)})\b"  # private classes
    rf"|\b{FRAMEWORKS}(?:\.\w+)*\._[A-Za-z]\w*"  # torch._dynamo, pytorch_lightning.x._y (not dunders: __version__)
    rf"|^\s*from\s+{FRAMEWORKS}\S*\s+import\s+(?:\(?\s*|.*,\s*)_\w+",  # from torch.x import _y
    re.MULTILINE)


def private_framework_uses(root: Path = SOURCE) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "compat.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PRIVATE_USE.search(line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_private_framework_names_are_used_in_compat_only() -> None:
    assert private_framework_uses() == [], "private framework names outside gan_zoo/compat.py"


def test_the_private_name_check_can_fail(tmp_path: Path) -> None:
    (tmp_path / "compat.py").write_text("x = trainer._signal_connector\n")  # allowed there
    (tmp_path / "bad.py").write_text(
        "from pytorch_lightning.strategies.launchers.subprocess_script import _SubprocessScriptLauncher\n"
        "    optimizer._on_before_step()\n"
        "isinstance(m, nn.modules.batchnorm._BatchNorm)\n"
        "    def _load_from_state_dict(self, *args):\n"
        "y = torch._dynamo.config\n"
        "self._data_parallel = {}\n"  # an own private name: fine
        "z = images.version\n")
    assert [use.split(":")[1] for use in private_framework_uses(tmp_path)] == ["1", "2", "3", "4", "5"]


# ------------------------------------------------------------------------------------------------- versions
@pytest.fixture
def versions(monkeypatch: pytest.MonkeyPatch) -> dict[str, str | None]:
    """The tested versions as the installed ones (edit the dict to fake others); warnings not yet given."""
    installed: dict[str, str | None] = {name: f"{version}.3" for name, version in compat.TESTED.items()}
    monkeypatch.setattr(compat, "installed_version", lambda name: installed.get(name))
    monkeypatch.setattr(compat, "_warned_untested", False)
    monkeypatch.delenv(compat.ALLOW_UNTESTED, raising=False)
    return installed


def test_tested_versions_pass(versions: dict[str, str | None]) -> None:
    versions["torch"] = "2.14.1+cu128"  # a local build tag and another patch release are the same version
    compat.check_versions()


def test_the_installed_versions_are_the_tested_ones() -> None:
    for name in compat.CHECKED:
        version = compat.installed_version(name)
        assert version is None or compat.major_minor(version) == compat.TESTED[name], name


def test_an_untested_version_is_one_clear_line(versions: dict[str, str | None]) -> None:
    versions["pytorch-lightning"] = "2.7.0"
    with pytest.raises(ConfigError) as error:
        compat.check_versions()
    assert str(error.value) == (
        "pytorch-lightning 2.7 is untested by gan_zoo (tested: 2.6); install the tested versions with `make install` "
        "(constraints.txt), or set GAN_ZOO_ALLOW_UNTESTED=1 to try anyway")


def test_every_untested_package_is_named(versions: dict[str, str | None]) -> None:
    versions["torch"], versions["torchmetrics"] = "3.0.0", "1.10.1"
    with pytest.raises(ConfigError, match=r"^torch 3\.0 is untested .*, torchmetrics 1\.10 is untested .*try anyway$"):
        compat.check_versions()


def test_missing_and_unchecked_packages_pass(versions: dict[str, str | None]) -> None:
    versions["torch-fidelity"] = None  # not installed: nothing of it is used
    versions["hydra-core"] = "1.4.0"  # used through its public API only
    compat.check_versions()


def test_allowing_untested_versions_warns_once(versions: dict[str, str | None],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    versions["torchvision"] = "0.30.0"
    monkeypatch.setenv(compat.ALLOW_UNTESTED, "1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compat.check_versions()
        compat.check_versions()
    assert [str(w.message) for w in caught] == [
        "torchvision 0.30 is untested by gan_zoo (tested: 0.29); trying anyway (GAN_ZOO_ALLOW_UNTESTED is set)"]


def test_versions_come_from_package_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    assert compat.installed_version("gan-zoo-no-such-distribution") is None
    monkeypatch.setattr(compat.importlib.metadata, "version", lambda name: "9.9.9")
    assert compat.installed_version("torch") == "9.9.9"
    assert compat.major_minor("2.14.1+cu128") == "2.14" and compat.major_minor("nightly") == "nightly"


# --------------------------------------------------------------------------------------- other helpers
def test_a_state_dict_mismatch_is_recognised() -> None:
    with pytest.raises(RuntimeError) as error:
        nn.Linear(2, 3).load_state_dict(nn.Linear(2, 4).state_dict())
    assert compat.is_state_dict_mismatch(error.value)
    assert compat.state_dict_mismatch_detail(error.value).startswith("size mismatch for weight")
    assert not compat.is_state_dict_mismatch(RuntimeError("CUDA out of memory"))
    assert not compat.is_state_dict_mismatch(ValueError("Error(s) in loading state_dict"))
    assert compat.state_dict_mismatch_detail(RuntimeError("one line")) == "one line"


def test_batch_norms_are_recognised() -> None:
    norms = (nn.BatchNorm1d(3), nn.BatchNorm2d(3), nn.BatchNorm3d(3), nn.SyncBatchNorm(3), nn.LazyBatchNorm2d())
    others = (nn.InstanceNorm2d(3), nn.LayerNorm(3), nn.GroupNorm(1, 3), nn.Linear(2, 2))
    assert all(compat.is_batch_norm(m) for m in norms) and not any(compat.is_batch_norm(m) for m in others)


def test_the_tensor_version_counts_in_place_changes() -> None:
    x = torch.zeros(3)
    before = compat.tensor_version(x)
    x.add_(1)
    assert compat.tensor_version(x) == before + 1
