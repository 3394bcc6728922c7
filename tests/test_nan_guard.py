"""The NaN guard checks every step's terms, names the first bad one, and reads the device once per check."""

from __future__ import annotations

import pytest
import torch

from gan_zoo.testing.host_syncs import _HostReads
from gan_zoo.errors import NonFiniteLossError
from gan_zoo.training.nan_guard import NonFiniteGuard


def test_first_non_finite_term_is_named_with_its_generator_iteration() -> None:
    guard = NonFiniteGuard(every=10, hints="lower the learning rates")
    guard.record("critic", 3, {"real": torch.tensor(1.0), "gp": torch.tensor(2.0)})
    guard.record("critic", 4, {"real": torch.tensor(1.0), "gp": torch.tensor(float("inf"))})
    guard.record("generator", 4, {"adversarial": torch.tensor(float("nan"))})  # later: not the first
    with pytest.raises(NonFiniteLossError, match=r"^non-finite critic loss term 'gp' \(inf\) at generator iteration 4: "
                                                 r"lower the learning rates$"):
        guard.check()


def test_steps_are_checked_in_batches_with_one_read_each() -> None:
    reads: list[str] = []
    guard = NonFiniteGuard(every=5, hints="")
    with _HostReads(reads.append):
        for step in range(12):
            guard.record("critic", step, {"real": torch.tensor(0.5), "fake": torch.tensor(-0.5)})
    assert reads == ["__bool__", "__bool__"]  # after steps 5 and 10; steps 11 and 12 wait for the next check
    guard.record("critic", 12, {"real": torch.tensor(float("nan"))})
    with pytest.raises(NonFiniteLossError, match="'real' \\(nan\\) at generator iteration 12"):
        guard.check()
    guard.check()  # the failed batch is gone: nothing pending


def test_zero_turns_the_guard_off() -> None:
    guard = NonFiniteGuard(every=0, hints="")
    guard.record("critic", 0, {"real": torch.tensor(float("nan"))})
    guard.check()
