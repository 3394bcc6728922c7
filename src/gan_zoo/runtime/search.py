"""Random hyperparameter search: a `-m` run whose jobs are the trials of a search space (conf/search/).

    python -m gan_zoo.train -m search=wide search.trials=50 search.seed=0 objective=wgan lipschitz=gp

The spaces are those of Lucic et al. 2018, "Are GANs Created Equal?" (their code: google/compare_gan v1,
`compare_gan/src/params.py`): *wide* (learning rate log-uniform in 10^[-5, -2], Adam β1 uniform in [0, 1],
n_critic ∈ {1, 5}, critic batch norm on or off, clip c log-uniform in 10^[-3, 0], penalty λ log-uniform in
10^[-1, 2]) and *narrow* (β1 = 0.5, learning rate 10^[-4, -3], n_critic = 1, c 10^[-2, 0], λ 10^[-1, 1]).
As in compare_gan, one learning rate is drawn per trial and used by both optimizers.

What a trial is:

- trial 0 is the method's defaults (the composed config's own values, as compare_gan's default per model);
- trial t > 0 draws each parameter from u = sha256("gan_zoo.search", seed, t, parameter name) mapped to [0, 1):
  a pure function of (search.seed, t, name), the same on every machine and with every launcher, and one
  parameter's value does not change when another parameter is added, dropped or not applicable;
- its overrides are ordinary `key=value` overrides (`optim.generator.lr=0.000123 ... search.trial=t`): the
  launcher (basic, local, SLURM) receives them like any sweep job's, `.hydra/overrides.yaml` and
  `.hydra/config.yaml` record the values, and `gan_zoo.report` groups the trials by them;
- its folder is `<sweep dir>/<t>` (job number = trial number): a re-run into the same hydra.sweep.dir skips the
  trials with a metrics.json and resumes the others from their last.ckpt (gan_zoo.runtime.fit auto_resume);
  `<sweep dir>/search.yaml` records the space and seed, and a re-run with another one is refused.

A parameter (search.params.<name>) sets `keys` (all to the same value) from one of `log_uniform: [low, high]`,
`uniform: [low, high]` or `choice: [v, ...]`. Where the composed config lacks a key, the parameter is an error,
unless `optional: true` (e.g. lipschitz.c exists only with lipschitz=clip: then the parameter is skipped);
`unless: {key: value}` skips it where the config has that value (critic batch norm where the strategy refuses it:
lipschitz.allow_batchnorm=false). A key given on the command line is held at that value in every trial.

Why not hydra-optuna-sweeper (random sampler): it pins optuna<3; its trial values come from one sampler's
sequence, not per (seed, t); it cannot tie both learning rates to one draw, make a parameter conditional on the
strategy, or start from the defaults; and its trials bypass the checks of gan_zoo.runtime.command_line.
"""

from __future__ import annotations

import copy
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, ListConfig, OmegaConf

from gan_zoo.errors import ConfigError
from gan_zoo.runtime import schema
from gan_zoo.runtime.framework_errors import condense

NONE = "none"
RECORD_FILE = "search.yaml"
KINDS = ("log_uniform", "uniform", "choice")
FIELDS = {"keys", "optional", "unless", *KINDS}
RULES = (schema.Rule("search.trials", "int", ">= 1", schema.at_least(1), hint="the number of trials, trial 0 "
                     "being the defaults"),
         schema.Rule("search.seed", "int", ">= 0", schema.non_negative),
         schema.Rule("search.trial", "int", ">= 0", schema.non_negative, optional=True))
_MISSING = object()


@dataclass(frozen=True)
class Param:
    """One searched value: `kind` over `low`..`high` (log_uniform, uniform) or `values` (choice), set on `keys`."""

    name: str
    keys: tuple[str, ...]
    kind: str
    low: float = 0.0
    high: float = 0.0
    values: tuple[Any, ...] = ()
    optional: bool = False
    unless: tuple[tuple[str, Any], ...] = ()

    def draw(self, u: float) -> Any:
        """The value at u ∈ [0, 1): log-uniform 10^(log10 low + u·(log10 high − log10 low)), uniform
        low + u·(high − low), or values[⌊u·n⌋]. Numbers keep 4 significant digits (a readable override; the
        grid this makes is ~1e-4 relative) and stay inside [low, high]."""
        if self.kind == "choice":
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        if self.kind == "log_uniform":
            value = 10 ** (math.log10(self.low) + u * (math.log10(self.high) - math.log10(self.low)))
        else:
            value = self.low + u * (self.high - self.low)
        return min(max(float(f"{value:.4g}"), self.low), self.high)


def unit(seed: int, trial: int, name: str) -> float:
    """u ∈ [0, 1) from the first 8 bytes of sha256("gan_zoo.search:<seed>:<trial>:<name>"). Hand-written rather than
    a numpy Generator: a hash is the same on every platform and version, and keys each parameter separately."""
    digest = hashlib.sha256(f"gan_zoo.search:{seed}:{trial}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _number(name: str, kind: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"search.params.{name}.{kind} must be two finite numbers [low, high] (got {value!r})")
    return float(value)


def parse_param(name: str, node: Any) -> Param:
    """One entry of search.params, or a ConfigError naming what is wrong with it."""
    where = f"search.params.{name}"
    if not isinstance(node, dict):
        raise ConfigError(f"{where} must be a mapping with keys and one of {', '.join(KINDS)} (got {node!r})")
    unknown = sorted(set(node) - FIELDS)
    kinds = [k for k in KINDS if k in node]
    if unknown:
        raise ConfigError(f"{where} has unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(FIELDS))}")
    if len(kinds) != 1:
        raise ConfigError(f"{where} needs exactly one of {', '.join(KINDS)} (got {', '.join(kinds) or 'none'})")
    keys = node.get("keys")
    if isinstance(keys, str):
        keys = [keys]
    if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
        raise ConfigError(f"{where}.keys must be a config key or a list of them, e.g. [optim.generator.lr] "
                          f"(got {keys!r})")
    unless = node.get("unless") or {}
    if not isinstance(unless, dict):
        raise ConfigError(f"{where}.unless must be a mapping {{key: value}} (got {unless!r})")
    optional = node.get("optional", False)
    if not isinstance(optional, bool):
        raise ConfigError(f"{where}.optional must be true or false (got {optional!r})")
    kind = kinds[0]
    common = dict(name=name, keys=tuple(keys), kind=kind, optional=optional, unless=tuple(unless.items()))
    spec = node[kind]
    if kind == "choice":
        if not isinstance(spec, list) or not spec:
            raise ConfigError(f"{where}.choice must be a non-empty list of values (got {spec!r})")
        return Param(**common, values=tuple(spec))
    if not isinstance(spec, list) or len(spec) != 2:
        raise ConfigError(f"{where}.{kind} must be [low, high] (got {spec!r})")
    low, high = (_number(name, kind, v) for v in spec)
    if low > high:
        raise ConfigError(f"{where}.{kind} has low {low:g} > high {high:g}: write [low, high] with low <= high")
    if kind == "log_uniform" and low <= 0:
        raise ConfigError(f"{where}.log_uniform needs bounds > 0 (got [{low:g}, {high:g}]): a log-uniform range "
                          f"is 10^[a, b], e.g. [1.0e-5, 1.0e-2]")
    return Param(**common, low=low, high=high)


def parse_space(search: DictConfig) -> list[Param]:
    """The parameters of the composed config's `search` node."""
    params = OmegaConf.to_container(search.get("params") or {}, resolve=True)
    return [parse_param(str(name), node) for name, node in params.items()]


def _select(cfg: DictConfig, key: str) -> Any:
    return OmegaConf.select(cfg, key, default=_MISSING, throw_on_missing=False)


def _in_some_option(key: str) -> bool:
    """Whether some option of the key's config group (lipschitz.c: conf/lipschitz/*.yaml) has the key, so that a
    misspelt optional key is an error instead of a parameter that is never searched."""
    group, _, rest = key.partition(".")
    folder = resources.files("gan_zoo.conf") / group
    if not rest or not folder.is_dir():
        return False
    for option in folder.iterdir():
        if option.name.endswith(".yaml"):
            node = OmegaConf.create(yaml.safe_load(option.read_text()) or {})
            if OmegaConf.select(node, rest, default=_MISSING) is not _MISSING:
                return True
    return False


def applies(param: Param, cfg: DictConfig) -> bool:
    """Whether the parameter is searched in this config (see the module's docstring); ConfigError for a key that
    the config cannot have."""
    missing = [key for key in param.keys if _select(cfg, key) is _MISSING]
    if missing and not (param.optional and all(_in_some_option(key) for key in missing)):
        how = "its config group has no option with it" if param.optional else "choose options that have it"
        raise ConfigError(f"search.params.{param.name} sets {missing[0]}, which this config does not have: {how}, "
                          f"or drop the parameter with ~search.params.{param.name}")
    if missing:
        return False
    return not any(_select(cfg, key) == value for key, value in param.unless)


def _shown(value: Any) -> str:
    """A value as a Hydra override writes it."""
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "null"
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else str(value)
    if isinstance(value, (DictConfig, ListConfig)):
        return str(OmegaConf.to_container(value))
    return str(value)


def fixed_keys(overrides: Sequence[str]) -> set[str]:
    """The config keys the command line sets (held fixed in every trial)."""
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as error:
        raise ConfigError(condense(error)) from error
    return {o.key_or_group for o in parsed}


def trial_values(cfg: DictConfig, trial: int, fixed: set[str] = frozenset()) -> dict[str, Any]:
    """{key: value} of one trial: trial 0 the config's own values, trial t > 0 the draws of (search.seed, t)."""
    values: dict[str, Any] = {}
    for param in parse_space(cfg.search):
        if any(key in fixed for key in param.keys) or not applies(param, cfg):
            continue
        drawn = param.draw(unit(cfg.search.seed, trial, param.name)) if trial > 0 else None
        for key in param.keys:
            values[key] = drawn if trial > 0 else _select(cfg, key)
    return values


def trial_overrides(cfg: DictConfig, trial: int, fixed: set[str] = frozenset()) -> list[str]:
    """The overrides that make trial `trial` of the config's search (added after the command line's)."""
    values = trial_values(cfg, trial, fixed)
    return [*(f"{key}={_shown(value)}" for key, value in values.items()), f"search.trial={trial}"]


def is_search(cfg: DictConfig) -> bool:
    search = cfg.get("search")
    return search is not None and search.get("space", NONE) != NONE


def check_spec(cfg: DictConfig) -> None:
    """search.trials, search.seed and every parameter are well formed."""
    for rule in RULES:
        node = _select(cfg, rule.key)
        if node is not _MISSING:
            schema.check_rule(rule, node)
    for param in parse_space(cfg.search):
        applies(param, cfg)


def expand(overrides: Sequence[str], cfg: DictConfig) -> list[list[str]]:
    """Every trial's overrides: the command line's (`overrides`, which compose `cfg`), then the trial's. The
    command line may not sweep other values: one search explores one method (one hydra.sweep.dir each)."""
    check_spec(cfg)
    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as error:
        raise ConfigError(condense(error)) from error
    swept = [o.input_line for o in parsed if o.is_sweep_override()]
    if swept:
        raise ConfigError(f"search={cfg.search.space} cannot be combined with the sweep {swept[0]}: run one search "
                          f"per configuration, each into its own hydra.sweep.dir")
    fixed = fixed_keys(overrides)
    return [[*overrides, *trial_overrides(cfg, t, fixed)] for t in range(cfg.search.trials)]


def check_trials(overrides: Sequence[str], cfg: DictConfig) -> None:
    """Every trial's config passes gan_zoo.runtime.schema: the trial's values applied to the composed config (the
    keys exist, see `applies`; composing each trial again would cost ~0.1-1 s a trial)."""
    fixed = fixed_keys(overrides)
    for t in range(cfg.search.trials):
        trial = copy.deepcopy(cfg)
        for key, value in trial_values(cfg, t, fixed).items():
            OmegaConf.update(trial, key, value, merge=False)
        OmegaConf.update(trial, "search.trial", t, merge=False)
        try:
            schema.validate(trial)
        except ConfigError as error:
            raise ConfigError(f"{error} (search trial {t}: {' '.join(trial_overrides(cfg, t, fixed))})") from error


def record(cfg: DictConfig) -> dict[str, Any]:
    """What a sweep folder's trials depend on: the space's name, seed and parameters, and the method searched (the
    classes of its parts), so that another method's finished trials are never taken for this one's."""
    method = {key: OmegaConf.select(cfg, f"{key}._target_", default=None)
              for key in ("data", "objective", "lipschitz", "generator_loss", "regularizer", "optim.critic",
                          "model.critic")}
    return {"space": str(cfg.search.space), "seed": int(cfg.search.seed),
            "params": OmegaConf.to_container(cfg.search.get("params") or {}, resolve=True), "method": method}


def check_record(sweep_dir: str | Path, cfg: DictConfig) -> None:
    """Refuse a re-run into a sweep folder whose trials were drawn from another space or seed: its finished
    trials would be skipped as if they were this search's."""
    path = Path(sweep_dir) / RECORD_FILE
    if not path.is_file():
        return
    try:
        earlier = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot read {path}: {str(error).splitlines()[0]}") from error
    if earlier != record(cfg):
        what = ", ".join(f"{k} {earlier.get(k)!r}" for k in ("space", "seed")) if isinstance(earlier, dict) else "?"
        if isinstance(earlier, dict) and earlier.get("method") != record(cfg)["method"]:
            parts = earlier.get("method") or {}
            what += f", method {parts.get('objective')} + {parts.get('lipschitz')} on {parts.get('data')}"
        raise ConfigError(f"{sweep_dir} holds the trials of another search ({what}, as recorded in {path}): "
                          f"re-run with the same search to resume it, or choose another hydra.sweep.dir")


def write_record(sweep_dir: str | Path, cfg: DictConfig) -> None:
    folder = Path(sweep_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECORD_FILE).write_text(yaml.safe_dump(record(cfg), sort_keys=False))


def sweep_dir_of(args: Sequence[str]) -> str | None:
    """The hydra.sweep.dir the command line names, unless it has interpolations (a fresh timestamped folder)."""
    given = [a.split("=", 1)[1] for a in args if a.startswith("hydra.sweep.dir=")]
    return given[-1] if given and "${" not in given[-1] else None


def preflight(args: Sequence[str], jobs: list[list[str]], cfg: DictConfig, multirun: bool) -> None:
    """gan_zoo.runtime.command_line's check of a search's command line (`jobs`: its jobs before the search, `cfg`:
    the first one composed): every trial expanded and checked, the sweep folder's record matched."""
    if not multirun:
        raise ConfigError(f"search={cfg.search.space} runs its trials as a multirun: add -m")
    # expand refuses a command line that sweeps other values as well (more than one job before the search)
    expand(jobs[0] if len(jobs) == 1 else [a for a in args if a not in ("-m", "--multirun")], cfg)
    check_trials(jobs[0], cfg)
    folder = sweep_dir_of(args)
    if folder is not None:
        check_record(folder, cfg)


def check_job(cfg: DictConfig) -> None:
    """Inside a job: a search's config carries its trial number, else no search sweeper expanded it (another
    sweeper was chosen, or it was composed without -m)."""
    if is_search(cfg) and cfg.search.get("trial") is None:
        raise ConfigError(f"search={cfg.search.space} needs its sweeper: run with -m and without hydra/sweeper=... "
                          f"(hydra/sweeper=random_search is the default)")
