"""The one exception base of the `surveydata` package.

Reading, validating, simulating, reporting and fieldwork raise subclasses of
:class:`SurveyDataError` for user mistakes (a file, a row, a column, a value, and the fix, in one
line). The CLI catches it once (with `schemas.errors.DeclarationError` and
`analysis.errors.AnalysisError`) and shows a traceback only with ``--debug``.

>>> issubclass(SurveyDataError, ValueError)
True
"""
from __future__ import annotations

__all__ = ["SurveyDataError"]


class SurveyDataError(ValueError):
    """A user mistake in data, arguments or files; the message names where and the fix."""
