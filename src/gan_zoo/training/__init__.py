"""The training loop: the LightningModule (WGAN Algorithm 1), its schedule, EMA and NaN guard."""
