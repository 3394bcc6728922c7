"""Instruments for tests and benchmarks (not used by training itself)."""

from gan_zoo.testing.host_syncs import HostSyncCounter
from gan_zoo.testing.signals import SignalAt

__all__ = ["HostSyncCounter", "SignalAt"]
