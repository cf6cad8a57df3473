"""Weighted two-way tables and the Rao-Scott tests of association (R: svytable, svychisq)."""
from __future__ import annotations


class TablesMixin:
    """crosstab() for every design (implemented in the next commit)."""
