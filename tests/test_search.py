"""Random search (gan_zoo.runtime.search; Lucic et al. 2018's wide and narrow spaces): deterministic trials, the
defaults as trial 0, one-line errors for bad specs, and resumable trial folders with the basic and local launchers.

The sweeper lives in the hydra_plugins namespace (src/hydra_plugins/gan_zoo_random_search): from a checkout that is
not installed with it, run these tests with PYTHONPATH=src."""

from __future__ import annotations

import hashlib
import math
import statistics
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_module

from conftest import read_metrics, run_train
from gan_zoo.errors import ConfigError
from gan_zoo.runtime import search
from gan_zoo.runtime.command_line import check_jobs

TINY = ["gen_iters=2", "eval_every=2", "data.batch_size=16", "data.val_size=32", "model.generator.width=8",
        "model.critic.width=8", "logger=none", "metrics=none", "callbacks=minimal", "threads=1"]


def composed(*overrides: str):
    with initialize_config_module("gan_zoo.conf", version_base="1.3"):
        return compose("train", overrides=list(overrides))


def test_a_trial_is_a_pure_function_of_seed_and_trial_number() -> None:
    cfg = composed("search=wide", "lipschitz=gp")
    assert search.trial_values(cfg, 7) == search.trial_values(composed("search=wide", "lipschitz=gp"), 7)
    assert search.trial_values(cfg, 7) != search.trial_values(cfg, 8)
    other_seed = composed("search=wide", "lipschitz=gp", "search.seed=1")
    assert search.trial_values(cfg, 7) != search.trial_values(other_seed, 7)
    # the first 8 bytes of sha256("gan_zoo.search:0:1:lr") over 2^64: the same on every machine
    assert search.unit(0, 1, "lr") == int.from_bytes(hashlib.sha256(b"gan_zoo.search:0:1:lr").digest()[:8], "big") / 2**64
    # a parameter's draw does not depend on which other parameters apply: lr of trial 1 with gp and with clip
    clip = composed("search=wide", "lipschitz=clip")
    assert search.trial_values(cfg, 1)["optim.generator.lr"] == search.trial_values(clip, 1)["optim.generator.lr"]
    values = search.trial_values(cfg, 1)
    assert values["optim.generator.lr"] == values["optim.critic.lr"]  # one learning rate, as compare_gan's


def test_draws_map_the_unit_interval_onto_the_ranges() -> None:
    lr = search.parse_param("lr", {"keys": ["optim.generator.lr"], "log_uniform": [1e-5, 1e-2]})
    assert lr.draw(0.0) == 1e-5 and lr.draw(0.5) == 0.0003162  # 10^-3.5, 4 significant digits
    beta = search.parse_param("beta1", {"keys": ["x"], "uniform": [0.0, 1.0]})
    assert beta.draw(0.25) == 0.25
    n = search.parse_param("n", {"keys": ["n_critic"], "choice": [1, 5]})
    assert [n.draw(u) for u in (0.0, 0.49, 0.5, 0.999)] == [1, 1, 5, 5]


def test_log_uniform_draws_stay_in_bounds_and_are_log_uniform() -> None:
    lr = search.parse_param("lr", {"keys": ["optim.generator.lr"], "log_uniform": [1e-5, 1e-2]})
    draws = [lr.draw(search.unit(0, t, "lr")) for t in range(1, 2001)]
    assert min(draws) >= 1e-5 and max(draws) <= 1e-2
    assert abs(math.log10(statistics.median(draws)) + 3.5) < 0.1  # median at the geometric mean 10^-3.5
    decades = [sum(10**a <= d < 10 ** (a + 1) for d in draws) for a in (-5, -4, -3)]
    assert all(600 < count < 730 for count in decades), decades  # a third of the draws per decade


def test_trial_zero_is_the_methods_defaults_and_batch_norm_only_where_allowed() -> None:
    gp = composed("search=wide", "lipschitz=gp", "data=ring")  # not the default data (its defaults are tuned)
    assert search.trial_values(gp, 0) == {
        "optim.generator.lr": 1e-4, "optim.critic.lr": 1e-4, "optim.generator.betas.0": 0.5,
        "optim.critic.betas.0": 0.5, "n_critic": 5, "lipschitz.lambda_": 10.0}  # no model.critic.norm: gp refuses
    clip = composed("search=wide", "lipschitz=clip")
    assert search.trial_values(clip, 0)["lipschitz.c"] == 0.01 and "lipschitz.lambda_" not in search.trial_values(clip, 0)
    norms = {search.trial_values(clip, t)["model.critic.norm"] for t in range(1, 30)}
    assert norms == {"none", "batch"}
    narrow = composed("search=narrow", "lipschitz=gp", "data=ring")
    for t in range(1, 30):
        values = search.trial_values(narrow, t)
        assert values["n_critic"] == 1 and values["optim.critic.betas.0"] == 0.5
        assert 1e-4 <= values["optim.critic.lr"] <= 1e-3 and 0.1 <= values["lipschitz.lambda_"] <= 10


def test_a_key_given_on_the_command_line_stays_fixed() -> None:
    cfg = composed("search=wide", "n_critic=3")
    jobs = search.expand(["search=wide", "n_critic=3"], cfg)
    assert len(jobs) == 100 and all("n_critic=3" in job and sum(o.startswith("n_critic=") for o in job) == 1
                                    for job in jobs)
    assert [job[-1] for job in jobs[:3]] == ["search.trial=0", "search.trial=1", "search.trial=2"]


@pytest.mark.parametrize(("args", "message"), [
    (["search.trials=0"], "search.trials must be >= 1 (got 0); the number of trials, trial 0 being the defaults"),
    (["search.params.lr.log_uniform=[1e-2,1e-5]"],
     "search.params.lr.log_uniform has low 0.01 > high 1e-05: write [low, high] with low <= high"),
    (["search.params.lr.log_uniform=[0,1e-2]"],
     "search.params.lr.log_uniform needs bounds > 0 (got [0, 0.01]): a log-uniform range is 10^[a, b], "
     "e.g. [1.0e-5, 1.0e-2]"),
    (["+search.params.typo={keys:[optim.generator.lrr],uniform:[0,1]}"],
     "search.params.typo sets optim.generator.lrr, which this config does not have: choose options that have it, "
     "or drop the parameter with ~search.params.typo"),
    (["search.params.lambda.keys=[lipschitz.lamda]"],
     "search.params.lambda sets lipschitz.lamda, which this config does not have: its config group has no option "
     "with it, or drop the parameter with ~search.params.lambda"),
    (["optim=rmsprop"], "search.params.beta1 sets optim.generator.betas.0, which this config does not have: choose "
     "options that have it, or drop the parameter with ~search.params.beta1"),
    (["seed=0,1"], "search=wide cannot be combined with the sweep seed=0,1: run one search per configuration, each "
     "into its own hydra.sweep.dir"),
])
def test_a_bad_search_is_one_line_before_any_trial_runs(args: list[str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        check_jobs(["-m", "search=wide", *args])
    assert str(raised.value) == message


def test_a_search_without_multirun_and_an_unknown_space_are_refused_by_the_cli(tmp_path: Path) -> None:
    result = run_train(["search=wide", *TINY], tmp_path / "run")
    assert result.returncode == 2
    assert result.stderr.strip() == "gan_zoo: error: search=wide runs its trials as a multirun: add -m"
    result = run_train(["search=wdie", *TINY], tmp_path / "sweep", multirun=True)
    assert result.returncode == 2
    assert result.stderr.strip() == "gan_zoo: error: unknown search 'wdie'; choose one of: narrow, none, wide"


def overrides_of(sweep: Path, trial: int) -> list[str]:
    return yaml.safe_load((sweep / str(trial) / ".hydra" / "overrides.yaml").read_text())


def test_three_trials_run_record_their_values_and_a_rerun_resumes_only_what_is_missing(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    args = ["search=wide", "search.trials=3", "lipschitz=clip", *TINY, "gen_iters=4"]
    first = run_train(args, sweep, multirun=True)
    assert first.returncode == 0, first.stderr[-3000:]
    cfg = composed(*args)
    for t in range(3):
        assert overrides_of(sweep, t) == [*args, *search.trial_overrides(cfg, t)]
        recorded = yaml.safe_load((sweep / str(t) / ".hydra" / "config.yaml").read_text())
        assert recorded["search"]["trial"] == t and recorded["lipschitz"]["c"] == search.trial_values(cfg, t).get(
            "lipschitz.c", 0.01)
        assert read_metrics(sweep / str(t))["gen_iter"] == 4
    assert yaml.safe_load((sweep / "search.yaml").read_text())["seed"] == 0
    written = {t: (sweep / str(t) / "metrics.json").stat().st_mtime_ns for t in range(3)}
    # trial 1 as if killed after its first checkpoint: no metrics.json, last.ckpt at generator iteration 2 of 4
    checkpoints = sweep / "1" / "checkpoints"
    (checkpoints / "gen_iter_2.ckpt").replace(checkpoints / "last.ckpt")
    (sweep / "1" / "metrics.json").unlink()

    again = run_train(args, sweep, multirun=True)
    assert again.returncode == 0, again.stderr[-3000:]
    for t in (0, 2):
        assert (sweep / str(t) / "metrics.json").stat().st_mtime_ns == written[t]
        assert "this run finished before; not training it again" in (sweep / str(t) / "train.log").read_text()
    assert read_metrics(sweep / "1")["gen_iter"] == 4
    assert f"resuming from {checkpoints / 'last.ckpt'}" in (sweep / "1" / "train.log").read_text()

    with pytest.raises(ConfigError) as raised:  # another seed into the same folder: refused before any trial
        check_jobs(["-m", *args, "search.seed=1", f"hydra.sweep.dir={sweep}"])
    assert str(raised.value) == (f"{sweep} holds the trials of another search (space 'wide', seed 0, as recorded in "
                                 f"{sweep / 'search.yaml'}): re-run with the same search to resume it, or choose "
                                 f"another hydra.sweep.dir")
    with pytest.raises(ConfigError, match="holds the trials of another search .*method gan_zoo.objectives.Wasserstein"):
        check_jobs(["-m", *args, "objective=nsgan", f"hydra.sweep.dir={sweep}"])  # another method: refused too


def test_the_local_launcher_runs_the_same_trials(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep"
    args = ["search=narrow", "search.trials=2", "search.seed=3", "hydra/launcher=local", *TINY]
    result = run_train(args, sweep, multirun=True)
    assert result.returncode == 0, result.stderr[-3000:]
    cfg = composed("search=narrow", "search.trials=2", "search.seed=3", *TINY)
    for t in range(2):  # Hydra keeps its own overrides (hydra/launcher=local) out of a job's
        assert overrides_of(sweep, t) == [*args[:3], *TINY, *search.trial_overrides(cfg, t)]
        assert read_metrics(sweep / str(t))["gen_iter"] == 2
