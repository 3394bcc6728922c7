"""Lightning callbacks: progress display, exact toy-data metrics, and critic pictures."""

from gan_zoo.callbacks.critic_plots import CriticPlots
from gan_zoo.callbacks.progress import GenIterProgressBar
from gan_zoo.callbacks.toy_metrics import ToyMetrics

__all__ = ["CriticPlots", "GenIterProgressBar", "ToyMetrics"]
