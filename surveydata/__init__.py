"""surveydata: getting survey data in.

read_export(path, inst, format=None) -> raw all-text frame (line numbers, sha256 in attrs)
validate(raw, inst) -> ValidationResult (.valid, .quarantine, .failures, .flags, .report)
ExportError: an unreadable export (names file, line, column)
"""

from surveydata.io import ExportError, read_export
from surveydata.validate import ValidationResult, validate

__all__ = ["ExportError", "ValidationResult", "read_export", "validate"]

# Simulated surveys with known truth and the embedded demo (issue 3).
from surveydata.demo import load_demo
from surveydata.simulate import draw_sample, make_export, simulate_population

__all__ += ["draw_sample", "load_demo", "make_export", "simulate_population"]
