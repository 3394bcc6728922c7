"""Instruments for tests and benchmarks (not used by training itself)."""
