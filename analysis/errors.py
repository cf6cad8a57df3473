"""The one exception base of the `analysis` package.

Design, weighting, estimation and model errors that come from the user's data or arguments are
subclasses of :class:`AnalysisError` (a `ValueError`), so a caller catches one class.

>>> issubclass(AnalysisError, ValueError)
True
"""
from __future__ import annotations

__all__ = ["AnalysisError"]


class AnalysisError(ValueError):
    """A design, weighting, estimator or model cannot be computed as asked; the message says why."""
