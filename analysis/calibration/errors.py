"""The error of the calibration package: a user mistake in weighting (bad margins, no
convergence, empty cells), one line naming the cell or column and the fix."""

from __future__ import annotations

from analysis.errors import AnalysisError


class CalibrationError(AnalysisError):
    """Calibration could not be carried out (bad margins, no convergence, empty cells)."""
