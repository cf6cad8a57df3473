"""What the model layer needs of a design beyond the shared contract
(:class:`analysis.protocols.Design`): the design of a row subset, and a short description."""
from __future__ import annotations

import numpy as np


def restrict(design, rows: np.ndarray):
    """The design restricted to ``rows`` (R's ``design[rows, ]``): every PSU stays for the variance,
    rows outside get weight 0 and no influence, and degf counts only PSUs and strata that keep a
    row with positive weight."""
    if rows.all():
        return design
    return design.subset(rows)


def describe_design(design) -> list[str]:
    """The design's own description (type, strata, PSUs, degf), one line per fact."""
    return repr(design).splitlines()
