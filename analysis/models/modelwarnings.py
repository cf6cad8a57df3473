"""Warnings of the model layer, and the relay for statsmodels' own warnings.

statsmodels warns in its own classes (PerfectSeparationWarning, ConvergenceWarning, DomainWarning,
...). Those are captured around every statsmodels call and re-issued as SurveyModelWarning with the
model named, so a user sees one warning class and knows which fit it came from. ValueWarning is
different: it means statsmodels would silently ignore an argument (e.g. weights), so it is an error.
"""
from __future__ import annotations

import contextlib
import warnings

from statsmodels.tools.sm_exceptions import ValueWarning


class SurveyModelWarning(UserWarning):
    """A survey model fit did something the user should know about (non-convergence, separation)."""


@contextlib.contextmanager
def relay_statsmodels_warnings(what: str, ignore: tuple = ()):
    """Capture warnings raised inside the block and re-issue them as SurveyModelWarning.

    ``ignore``: warning classes the caller has handled itself (with a written reason there).

    >>> with relay_statsmodels_warnings("demo fit"):
    ...     pass
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    seen = set()
    for w in caught:
        if ignore and issubclass(w.category, ignore):
            continue
        if (w.category, str(w.message)) in seen:     # IRLS repeats a warning once per iteration
            continue
        seen.add((w.category, str(w.message)))
        if issubclass(w.category, ValueWarning):
            raise TypeError(f"{what}: statsmodels would ignore an argument: {w.message}")
        warnings.warn(f"{what}: {w.category.__name__}: {w.message}", SurveyModelWarning, stacklevel=4)
