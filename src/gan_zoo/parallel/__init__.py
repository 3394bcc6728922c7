"""Data parallelism: one global batch drawn by every process (sharding) and the DDP strategies (distributed)."""
