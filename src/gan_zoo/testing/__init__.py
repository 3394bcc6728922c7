"""Instruments for tests and benchmarks (not used by training itself)."""

from gan_zoo.testing.host_syncs import HostSyncCounter

__all__ = ["HostSyncCounter"]
