"""The one exception base of the `analysis` package.

Design, weighting, estimation and model errors that come from the user's data or arguments are
subclasses of :class:`AnalysisError` (a `ValueError`), so a caller catches one class.

>>> issubclass(AnalysisError, ValueError)
True
"""
from __future__ import annotations

__all__ = ["AnalysisError", "DesignError", "ModelError"]


class AnalysisError(ValueError):
    """A design, weighting, estimator or model cannot be computed as asked; the message says why."""


class DesignError(AnalysisError):
    """A design specification that cannot be used (unknown column, missing value, bad fpc)."""


class ModelError(AnalysisError):
    """A model cannot be fitted to these data (e.g. a binary outcome that never varies)."""
