"""The one exception base of the `schemas` package.

Every problem with a declaration (instrument, study, population margins, condition) raises a
subclass of :class:`DeclarationError`; its message is one line naming the file, the key and the
fix. The CLI catches this base once and prints the message (a traceback only with ``--debug``).

>>> issubclass(DeclarationError, ValueError)
True
"""
from __future__ import annotations

__all__ = ["DeclarationError"]


class DeclarationError(ValueError):
    """A declaration (instrument, study, margins, condition) is invalid; the message says where."""
