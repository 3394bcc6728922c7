"""Values checked by type and range on the composed config, before torch is imported.

Hydra's composition already refuses unknown keys (`lipschitz.lamda=1`) and `gan_zoo.runtime.cli` unknown group
options (`objective=wgna`); this module refuses the values that no constructor should ever see: a string where a
number belongs (`data.batch_size=abc`), a non-integer count (`gen_iters=1.5`), a string where a boolean belongs
(`wgan_warmup=no` would otherwise be truthy), infinities, and numbers outside their range. Every rule names its key,
so the message says exactly what to change. Constructors keep their own checks for code that builds objects
without a config.

Why not Hydra structured configs (dataclass schemas): they type-check but cannot express ranges, and they would
need a schema class for every option of every group; one table of rules over the keys that exist covers both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from gan_zoo.errors import ConfigError

Check = Callable[[Any], bool]


@dataclass(frozen=True)
class Rule:
    """`key` (dotted; skipped where the config has no such key) must be of `kind` and satisfy `check`, which the
    message describes as `allowed` ("must be <allowed>")."""

    key: str
    kind: str  # "int", "float", "bool", "str" or "choice"
    allowed: str = ""
    check: Check | None = None
    optional: bool = False  # null is allowed
    hint: str = ""  # what else to say, after the allowed range


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def positive(value: float) -> bool:
    return value > 0


def non_negative(value: float) -> bool:
    return value >= 0


def at_least(bound: int) -> Check:
    return lambda value: value >= bound


def one_of(*choices: Any) -> Check:
    return lambda value: value in choices


FGAN_DIVERGENCES = ("kl", "reverse_kl", "pearson", "neyman", "squared_hellinger", "jensen_shannon", "gan",
                    "total_variation")

RULES: tuple[Rule, ...] = (
    Rule("seed", "int", ">= 0", non_negative),
    Rule("gen_iters", "int", ">= 1", at_least(1)),
    Rule("eval_every", "int", ">= 1", at_least(1)),
    Rule("n_critic", "int", ">= 1", at_least(1)),
    Rule("wgan_warmup", "bool"),
    Rule("auto_resume", "bool"),
    Rule("ema_decay", "float", "in [0, 1)", lambda v: 0 <= v < 1, hint="0 turns EMA off"),
    Rule("check_finite_every", "int", ">= 0", non_negative),
    Rule("threads", "int", ">= 1", at_least(1), optional=True, hint="null = torch's default or SLURM_CPUS_PER_TASK"),
    Rule("fail_on_divergence", "bool", optional=True),
    Rule("ckpt_path", "str", optional=True),
    Rule("optimized_metric", "str"),
    Rule("keep_checkpoints", "choice", "all, last or a number >= 1",
         lambda v: v in ("all", "last") or (isinstance(v, int) and not isinstance(v, bool) and v >= 1)),
    Rule("optim.generator.lr", "float", "> 0", positive),
    Rule("optim.critic.lr", "float", "> 0", positive),
    Rule("data.batch_size", "int", ">= 2", at_least(2)),
    Rule("data.val_size", "int", ">= 2", at_least(2)),
    Rule("data.image_size", "int", ">= 4", at_least(4)),
    Rule("data.channels", "int", "1 (grey) or 3 (RGB)", one_of(1, 3)),
    Rule("data.num_workers", "int", ">= 0", non_negative),
    Rule("data.in_memory", "bool"),
    Rule("data.download", "bool"),
    Rule("lipschitz.lambda_", "float", ">= 0", non_negative),
    Rule("lipschitz.c", "float", "> 0", positive),
    Rule("lipschitz.gamma", "float", ">= 0", non_negative),
    Rule("lipschitz.lambda_ct", "float", ">= 0", non_negative),
    Rule("lipschitz.margin", "float", ">= 0", non_negative),
    Rule("lipschitz.feature_weight", "float", ">= 0", non_negative),
    Rule("lipschitz.critic_dropout", "float", "in (0, 1)", lambda v: 0 < v < 1),
    Rule("lipschitz.perturb_scale", "float", "> 0", positive),
    Rule("lipschitz.n_power_iterations", "int", ">= 1", at_least(1)),
    Rule("lipschitz.allow_batchnorm", "bool"),
    Rule("lipschitz.allow_coupled_samples", "bool"),
    Rule("objective.margin", "float", ">= 0", non_negative),
    Rule("objective.pull_away_weight", "float", ">= 0", non_negative),
    Rule("objective.pretrain_steps", "int", ">= 0", non_negative),
    Rule("objective.lambda_", "float", ">= 0", non_negative),
    Rule("objective.delta_scale", "float", ">= 0", non_negative),
    Rule("objective.real_label", "float", "in (0, 1]", lambda v: 0 < v <= 1,
         hint="1 turns one-sided label smoothing off, 0.9 is Salimans et al. 2016"),
    Rule("regularizer.lambda_", "float", ">= 0", non_negative),
    Rule("regularizer.players", "choice", "one of both, generator, critic", one_of("both", "generator", "critic")),
    # f-GAN's keys (objective=fgan only); the names are gan_zoo.objectives.fgan's, written out so no torch is needed
    Rule("objective.divergence", "choice", "one of " + ", ".join(FGAN_DIVERGENCES), one_of(*FGAN_DIVERGENCES)),
    Rule("objective.generator", "choice", "one of alternative, saturating", one_of("alternative", "saturating")),
    Rule("model.critic.dropout", "float", "in [0, 1)", lambda v: 0 <= v < 1),
    Rule("model.critic.minibatch_kernels", "int", ">= 0", non_negative, hint="0 turns minibatch discrimination off"),
    Rule("model.critic.minibatch_kernel_dim", "int", ">= 1", at_least(1)),
    Rule("trainer.log_every_n_steps", "int", ">= 1", at_least(1)),
    Rule("trainer.num_nodes", "int", ">= 1", at_least(1)),
    Rule("trainer.strategy.wrapping", "choice", "one of separate, whole", one_of("separate", "whole")),
    Rule("logger.wandb.mode", "choice", "one of auto, online, offline, disabled",
         one_of("auto", "online", "offline", "disabled")),
    Rule("metrics.num_fake", "int", ">= 2", at_least(2)),
    Rule("metrics.num_real", "int", ">= 2", at_least(2)),
    Rule("metrics.reference_cache", "str", optional=True),
    Rule("metrics.classifier_cache", "str"),
    Rule("metrics.features.max_train", "int", ">= 10", at_least(10)),
    Rule("metrics.features.max_held_out", "int", ">= 10", at_least(10)),
    Rule("metrics.features.epochs", "int", ">= 1", at_least(1)),
    Rule("metrics.features.min_steps", "int", ">= 0", non_negative),
)

KIND_NAMES = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "a string"}


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "str":
        return isinstance(value, str)
    return True  # "choice": the check says it all


def check_rule(rule: Rule, value: Any) -> None:
    """Raise ConfigError with one line naming the key unless value obeys the rule."""
    if value is None and rule.optional:
        return
    if not _type_ok(rule.kind, value):
        if rule.kind == "float" and isinstance(value, (int, float)) and not isinstance(value, bool):
            raise ConfigError(f"{rule.key} must be a finite number (got {_shown(value)})")
        raise ConfigError(f"{rule.key} must be {KIND_NAMES[rule.kind]} (got {_shown(value)})")
    if rule.check is not None and not rule.check(value):
        hint = f"; {rule.hint}" if rule.hint else ""
        raise ConfigError(f"{rule.key} must be {rule.allowed} (got {_shown(value)}){hint}")


# Lightning keys that would take the training length from gen_iters: Lightning's own max_epochs replaces
# max_epochs (gan_zoo.runtime.fit), and a shorter one ends the run early as "finished", never trained again.
LENGTH_KEYS = ("trainer.max_epochs", "trainer.max_steps", "trainer.min_epochs", "trainer.min_steps", "trainer.max_time")
# What to write for a mandatory value (??? in conf/) left out; other keys get "<key>=<value>".
MANDATORY_HINTS = {"data.path": "data.path=/path/to/images (the folder that holds the images)"}


def _missing_keys(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict):
        return [k for key, value in node.items() for k in _missing_keys(value, f"{prefix}{key}.")]
    if isinstance(node, list):
        return [k for i, value in enumerate(node) for k in _missing_keys(value, f"{prefix}{i}.")]
    return [prefix[:-1]] if node == "???" else []


def check_mandatory(cfg: DictConfig) -> None:
    """Every mandatory value (??? in conf/, e.g. data=folder's data.path) is given. (OmegaConf.missing_keys would
    resolve interpolations, and `${hydra:...}` cannot be resolved outside a job.)"""
    missing = sorted(_missing_keys(OmegaConf.to_container(cfg, resolve=False)))
    if missing:
        how = ", ".join(MANDATORY_HINTS.get(key, f"{key}=<value>") for key in missing)
        raise ConfigError(f"{', '.join(missing)} must be given: add {how} to the command line")


def check_length_keys(cfg: DictConfig) -> None:
    """No Lightning length key: the training length is gen_iters (and eval_every), counted in generator
    iterations (README "Main commands")."""
    for key in LENGTH_KEYS:
        if OmegaConf.select(cfg, key, default=_MISSING, throw_on_missing=False) is not _MISSING:
            raise ConfigError(
                f"{key} is refused: the training length is gen_iters (generator iterations, now "
                f"{OmegaConf.select(cfg, 'gen_iters')}), validated and checkpointed every eval_every (now "
                f"{OmegaConf.select(cfg, 'eval_every')}); drop {key} and set gen_iters=<n>")


def validate(cfg: DictConfig, rules: tuple[Rule, ...] = RULES) -> None:
    """Check that mandatory values are given and no length key of Lightning's is set, then every rule whose key
    the config has; interpolations are resolved first."""
    check_mandatory(cfg)
    check_length_keys(cfg)
    for rule in rules:
        node = OmegaConf.select(cfg, rule.key, default=_MISSING, throw_on_missing=False)
        if node is _MISSING:
            continue
        check_rule(rule, node)


_MISSING = object()
