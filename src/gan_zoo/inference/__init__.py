"""After training: load a checkpoint as a ready-to-sample generator, draw samples, latent interpolations."""
