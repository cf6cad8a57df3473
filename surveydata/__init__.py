"""surveydata: getting survey data in.

read_export(path, inst, format=None) -> raw all-text frame (line numbers, sha256 in attrs)
validate(raw, inst) -> ValidationResult (.valid, .quarantine, .failures, .flags, .report)
ExportError: an unreadable export (names file, line, column)
"""

from surveydata.io import ExportError, read_export
from surveydata.validate import ValidationResult, validate

__all__ = ["ExportError", "ValidationResult", "read_export", "validate"]
