"""Values are checked by type and range on the composed config, before torch is imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from gan_zoo.errors import ConfigError
from gan_zoo.runtime import command_line, schema
from gan_zoo.runtime.framework_errors import framework_error


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


def test_a_mandatory_value_left_out_is_named() -> None:
    with pytest.raises(ConfigError) as raised:
        schema.validate(composed("data=folder"))
    assert str(raised.value) == ("data.path must be given: add data.path=/path/to/images (the folder that holds the "
                                 "images) to the command line")
    schema.validate(composed("data=folder", "data.path=/some/where"))


@pytest.mark.parametrize("key", schema.LENGTH_KEYS)
def test_a_lightning_length_key_is_refused(key: str) -> None:
    with pytest.raises(ConfigError, match=rf"^{key} is refused: the training length is gen_iters \(generator "
                                          r"iterations, now 1000\), validated and checkpointed every eval_every"):
        schema.validate(composed(f"+{key}=3"))


def test_the_jobs_of_a_sweep_are_the_product_of_its_choices() -> None:
    assert command_line.job_overrides(["seed=1"]) == [["seed=1"]]
    assert command_line.job_overrides(["-m", "seed=0,1", "lipschitz=gp,clip", "n_critic=2"]) == [
        ["seed=0", "lipschitz=gp", "n_critic=2"], ["seed=0", "lipschitz=clip", "n_critic=2"],
        ["seed=1", "lipschitz=gp", "n_critic=2"], ["seed=1", "lipschitz=clip", "n_critic=2"]]
    assert command_line.job_overrides(["--multirun", "seed=range(0,3)"]) == [["seed=0"], ["seed=1"], ["seed=2"]]
    # Hydra's own flags and the sweeps only a sweeper plugin expands are left to Hydra.
    for args in (["--cfg", "job"], ["-m", "lipschitz.lambda_=interval(0,1)"], ["-m", "objective=glob(*)"],
                 ["-m", "hydra/sweeper=basic", "seed=0,1"]):
        assert command_line.job_overrides(args) is None


def test_hydras_multi_line_errors_are_condensed_to_their_meaningful_lines() -> None:
    with pytest.raises(ConfigError) as raised:
        command_line.check_jobs(["lipschitz.lamda=1"])
    assert str(raised.value) == ("Could not override 'lipschitz.lamda'; To append to your config use "
                                 "+lipschitz.lamda=1; Key 'lamda' is not in struct; did you mean lipschitz.lambda_?")
    with pytest.raises(ConfigError, match=r"^Could not override 'zzz'; .*Key 'zzz' is not in struct$"):
        command_line.check_jobs(["zzz=1"])  # nothing close: no guess


def test_a_later_sweep_job_is_checked_and_named() -> None:
    with pytest.raises(ConfigError) as raised:
        command_line.check_jobs(["-m", "n_critic=1,2", "seed=0,-1"])
    assert str(raised.value) == "seed must be >= 0 (got -1) (sweep job 1 of 4: n_critic=1 seed=-1)"
    command_line.check_jobs(["-m", "n_critic=1,2", "seed=0,1"])


def test_a_framework_error_about_the_input_becomes_one_line_and_a_bug_does_not() -> None:
    from hydra.errors import InstantiationException

    try:
        raise InstantiationException("Error in call to target 'pytorch_lightning.Trainer':\nTypeError(...)\n"
                                     "full_key: trainer") from TypeError("got an unexpected keyword argument 'x'")
    except InstantiationException as error:
        assert str(framework_error(error)) == "trainer: got an unexpected keyword argument 'x'"
    try:
        raise InstantiationException("Error in call to target 'gan_zoo.nets.MLPCritic':\nAttributeError(...)\n"
                                     "full_key: model.critic") from AttributeError("'NoneType' has no attribute 'x'")
    except InstantiationException as error:
        assert framework_error(error) is None  # gan_zoo's own bug: keeps its traceback
    assert framework_error(KeyError("square_avg")) is None


@pytest.mark.parametrize("bad", ["objective=wgna", "lipschitz.lamda=1", "lipschitz.lambda_=-1", "wgan_warmup=no",
                                 "data=folder", "+trainer.max_epochs=3", "seed=0,1"])
def test_config_errors_come_before_torch_is_imported(tmp_path: Path, bad: str) -> None:
    command = [sys.executable, "-X", "importtime", "-m", "gan_zoo.train", bad, f"hydra.run.dir={tmp_path / 'run'}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if not line.startswith("import time:")]
    assert lines[-1].startswith("gan_zoo: error: ")
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    assert "gan_zoo.runtime.cli" in imported and "torch" not in imported and "pytorch_lightning" not in imported
