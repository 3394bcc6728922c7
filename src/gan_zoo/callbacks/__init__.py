"""Lightning callbacks: progress display, exact toy-data metrics, critic pictures, image metrics and grids."""

from gan_zoo.callbacks.critic_plots import CriticPlots
from gan_zoo.callbacks.image_metrics import ImageMetrics
from gan_zoo.callbacks.preemption import CheckpointOnSignal
from gan_zoo.callbacks.progress import GenIterProgressBar
from gan_zoo.callbacks.sample_grid import SampleGrid
from gan_zoo.callbacks.toy_metrics import ToyMetrics

__all__ = ["CheckpointOnSignal", "CriticPlots", "GenIterProgressBar", "ImageMetrics", "SampleGrid", "ToyMetrics"]
