"""The cadence shared by the picture and metric callbacks: every n-th real validation (not sanity checks)."""

from __future__ import annotations

import pytorch_lightning as pl


class EveryNthValidation(pl.Callback):
    """Subclasses set `active` in setup and call `_due(trainer)` at the end of each validation epoch."""

    def __init__(self, every_n_validations: int = 1) -> None:
        self.every_n_validations = max(1, every_n_validations)
        self.validations = 0
        self.active = False

    def state_dict(self) -> dict[str, int]:
        """The validations counted so far, kept in checkpoints: a resumed run keeps the every-n-th cadence."""
        return {"validations": self.validations}

    def load_state_dict(self, state_dict: dict[str, int]) -> None:
        self.validations = state_dict.get("validations", 0)

    def _due(self, trainer: pl.Trainer) -> bool:
        if not self.active or trainer.sanity_checking:
            return False
        self.validations += 1
        return self.validations % self.every_n_validations == 0
