"""Values are checked by type and range on the composed config, before torch is imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from gan_zoo.errors import ConfigError
from gan_zoo.runtime import schema


def composed(*overrides: str):
    with initialize_config_module("gan_zoo.conf", version_base="1.3"):
        return compose("train", overrides=list(overrides))


@pytest.mark.parametrize(("override", "message"), [
    ("data.batch_size=abc", "data.batch_size must be an integer (got 'abc')"),
    ("lipschitz.lambda_=abc", "lipschitz.lambda_ must be a number (got 'abc')"),
    ("seed=abc", "seed must be an integer (got 'abc')"),
    ("seed=-1", "seed must be >= 0 (got -1)"),
    ("gen_iters=1.5", "gen_iters must be an integer (got 1.5)"),
    ("wgan_warmup=no", "wgan_warmup must be true or false (got 'no')"),
    ("ema_decay=1", "ema_decay must be in [0, 1) (got 1); 0 turns EMA off"),
    ("optim.critic.lr=0", "optim.critic.lr must be > 0 (got 0)"),
    ("optim.generator.lr=inf", "optim.generator.lr must be a finite number (got inf)"),
    ("check_finite_every=-1", "check_finite_every must be >= 0 (got -1)"),
    ("logger.wandb.mode=onlin", "logger.wandb.mode must be one of auto, online, offline, disabled (got 'onlin')"),
])
def test_a_bad_value_names_its_key(override: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        schema.validate(composed(override))
    assert str(raised.value) == message


def test_clip_value_inf_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"lipschitz.c must be a finite number \(got inf\)"):
        schema.validate(composed("lipschitz=clip", "lipschitz.c=inf"))


def test_every_shipped_default_passes() -> None:
    schema.validate(composed())
    for experiment in sorted(p.stem for p in (Path(schema.__file__).parents[3] / "conf" / "experiment").glob("*.yaml")):
        schema.validate(composed(f"experiment={experiment}"))


def test_a_rule_with_a_wrong_kind_of_value_cannot_pass() -> None:
    rule = schema.Rule("x", "bool")
    for value in ("true", 1, None):
        with pytest.raises(ConfigError):
            schema.check_rule(rule, value)
    schema.check_rule(rule, True)


@pytest.mark.parametrize("bad", ["objective=wgna", "lipschitz.lamda=1", "lipschitz.lambda_=-1", "wgan_warmup=no"])
def test_config_errors_come_before_torch_is_imported(tmp_path: Path, bad: str) -> None:
    command = [sys.executable, "-X", "importtime", "-m", "gan_zoo.train", bad, f"hydra.run.dir={tmp_path / 'run'}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode != 0
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "gan_zoo.runtime.cli" in imported and "torch" not in imported and "pytorch_lightning" not in imported
