"""Regularisers of either player's cost (config group `regularizer`)."""

from gan_zoo.regularizers.base import PLAYERS, NoRegularizer, Regularizer
from gan_zoo.regularizers.historical_averaging import HistoricalAveraging, ParameterMean

__all__ = ["PLAYERS", "HistoricalAveraging", "NoRegularizer", "ParameterMean", "Regularizer"]
