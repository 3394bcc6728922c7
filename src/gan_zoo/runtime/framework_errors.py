"""Hydra's, OmegaConf's and Lightning's errors about the user's input, as one gan_zoo line (exit 2).

Hydra prints its own errors as several lines (the error, its cause, OmegaConf's `full_key:` / `object_type=`
bookkeeping, a hint about HYDRA_FULL_ERROR) and exits 1; Lightning raises MisconfigurationException with a
traceback. Their text is kept, condensed to its meaningful lines, so that every bad input ends the same way:
`gan_zoo: error: <what is wrong and how to fix it>` and exit 2 (README "Troubleshooting").

Only errors about the input are translated. A Hydra `InstantiationException` also wraps bugs raised inside
constructors; it becomes a line only when the class it called is not gan_zoo's (a framework class refusing a
value or a keyword) or the call's arguments do not fit the signature, so that gan_zoo's own bugs keep their
traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

from hydra.errors import HydraException, InstantiationException
from omegaconf.errors import OmegaConfBaseException

from gan_zoo.errors import ConfigError

# OmegaConf appends these to its messages: where the key is, which the line already says.
BOOKKEEPING = ("full_key:", "object_type=", "reference_type=", "Set the environment variable HYDRA_FULL_ERROR")
# Modules whose MisconfigurationException Lightning raises (looked up only once Lightning has been imported,
# so that this module never imports it).
LIGHTNING_EXCEPTIONS = ("lightning_fabric.utilities.exceptions", "pytorch_lightning.utilities.exceptions",
                        "lightning.fabric.utilities.exceptions")


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def condense(error: BaseException) -> str:
    """The meaningful lines of an error and of its causes, in order, joined with '; ' (a cause that only repeats
    a line already given is left out)."""
    kept: list[str] = []
    for link in _chain(error):
        for line in str(link).splitlines():
            line = line.strip().rstrip(".")
            if not line or line.startswith(BOOKKEEPING) or any(line in earlier for earlier in kept):
                continue
            kept.append(line)
    return "; ".join(kept) or type(error).__name__


def _instantiation(error: InstantiationException) -> str:
    """'trainer: Trainer.__init__() got an unexpected keyword argument 'foo'': the config node Hydra was
    building (its full_key) and what the constructor said, without Hydra's repr of the exception."""
    lines = str(error).splitlines()
    key = next((line.split(":", 1)[1].strip() for line in lines if line.strip().startswith("full_key:")), "")
    target = lines[0].split("'")[1] if lines and lines[0].count("'") >= 2 else ""
    root = list(_chain(error))[-1]
    said = condense(root) if root is not error else "; ".join(lines[1:]) or lines[0]
    return f"{key or target}: {said}"


def _is_lightning_misconfiguration(error: BaseException) -> bool:
    for name in LIGHTNING_EXCEPTIONS:
        module = sys.modules.get(name)
        cls = getattr(module, "MisconfigurationException", None)
        if cls is not None and isinstance(error, cls):
            return True
    return False


def _about_the_input(error: BaseException) -> bool:
    if isinstance(error, InstantiationException):
        target = str(error).split("'")[1] if str(error).count("'") >= 2 else ""
        root = list(_chain(error))[-1]
        bad_arguments = isinstance(root, TypeError) and "argument" in str(root)
        return bad_arguments or (bool(target) and not target.startswith("gan_zoo."))
    return isinstance(error, (HydraException, OmegaConfBaseException)) or _is_lightning_misconfiguration(error)


def framework_error(error: BaseException) -> ConfigError | None:
    """The ConfigError (one condensed line) for a framework's error about the user's input, else None.

    A Lightning MisconfigurationException anywhere in the chain is reported with its own text (Hydra's
    instantiate wraps it in a line of its own that says only which class was called)."""
    for link in _chain(error):
        if _is_lightning_misconfiguration(link):
            return ConfigError(condense(link))
    if _about_the_input(error):
        return ConfigError(_instantiation(error) if isinstance(error, InstantiationException) else condense(error))
    return None
