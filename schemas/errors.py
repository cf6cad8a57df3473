"""The one exception base of the `schemas` package.

Every problem with a declaration (instrument, study, population margins, condition) raises a
subclass of :class:`DeclarationError`; its message is one line naming the file, the key and the
fix. The CLI catches this base once and prints the message (a traceback only with ``--debug``).
`StudyError` lives here (re-exported by schemas.study) because the parts of a study declaration
in modules of their own raise it without importing schemas.study, which imports them.

>>> issubclass(DeclarationError, ValueError)
True
"""
from __future__ import annotations

__all__ = ["DeclarationError", "StudyError"]


class DeclarationError(ValueError):
    """A declaration (instrument, study, margins, condition) is invalid; the message says where."""


class StudyError(DeclarationError):
    """A study declaration is invalid; the one-line message names file, key, problem and fix."""
