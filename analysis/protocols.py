"""The design contract: what every estimator, domain, table and model may rely on.

``SurveyDesign`` (Taylor linearisation), ``ReplicateDesign`` (replicate weights) and their
subsets and weighted versions all satisfy :class:`Design`. An estimator hands the design two
functions and receives the covariance matrix of its statistics:

- ``point_fn(W)``: the statistics for each column of a weight matrix ``W`` (n, R), as (R, k);
- ``influence_fn()``: the (n, k) influence values of the statistics (Taylor designs use them,
  replicate designs re-estimate with ``point_fn`` instead).

``design.vcov(point_fn, influence_fn)`` is that one variance entry point (R needs a method per
design class: svymean.survey.design2, svymean.svyrep.design, ...).

>>> from analysis import SurveyDesign, datasets
>>> d = SurveyDesign(datasets.load("apistrat"), strata="stype", weights="pw", fpc="fpc")
>>> isinstance(d, Design), d.is_replicate, isinstance(d.replicate("jkn"), Design)
(True, False, True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

__all__ = ["Design"]


@runtime_checkable
class Design(Protocol):
    """A survey design as the estimators and models see it."""

    #: True for designs whose variances come from replicate weights (``repweights``)
    is_replicate: bool

    @property
    def data(self) -> pd.DataFrame: ...

    @property
    def weights(self) -> np.ndarray: ...

    @property
    def domain(self) -> np.ndarray: ...

    @property
    def n(self) -> int: ...

    @property
    def degf(self) -> int: ...

    @property
    def calibrations(self) -> tuple: ...

    def subset(self, rows) -> Design: ...

    def vcov(self, point_fn: Callable, influence_fn: Callable) -> np.ndarray:
        """(k, k) covariance of the statistics ``point_fn`` computes (see the module)."""
        ...

    def vcov_grouped(self, point_fn: Callable, influence_fn: Callable, codes: np.ndarray,
                     n_groups: int) -> np.ndarray:
        """Joint covariance of the statistics of every group (domain) ``codes`` 0..G-1 at once."""
        ...
