"""The one exception base of the `surveydata` package, and the errors several modules raise.

Reading, validating, simulating, reporting and fieldwork raise subclasses of
:class:`SurveyDataError` for user mistakes (a file, a row, a column, a value, and the fix, in one
line). The CLI catches it once (with `schemas.errors.DeclarationError` and
`analysis.errors.AnalysisError`) and shows a traceback only with ``--debug``.

`ExportError` (an unreadable export) and `UserError` (a command-line argument) live here, not in
the modules that first raised them, so the lower layers (`surveydata._records`, the command
modules) raise them without importing the modules that import them.

>>> issubclass(SurveyDataError, ValueError)
True
"""
from __future__ import annotations

__all__ = ["ExportError", "SurveyDataError", "UserError"]


class SurveyDataError(ValueError):
    """A user mistake in data, arguments or files; the message names where and the fix."""


class UserError(SurveyDataError):
    """A problem with the user's input or arguments on the command line: one line, exit code 2."""


class ExportError(SurveyDataError):
    """An export that cannot be read: names the file, line and column, and what was expected.

    >>> str(ExportError("x.csv", "missing required column", line=1, column="duration_s"))
    "x.csv, line 1, column 'duration_s': missing required column"
    """

    def __init__(self, file, message, line=None, column=None):
        self.file, self.line, self.column, self.message = str(file), line, column, message
        where = [self.file]
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(", ".join(where) + ": " + message)
