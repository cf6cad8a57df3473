"""Data-quality screens and soft rules: flags on valid rows, never rejections.

Screens (each a documented, deliberately simple rule):

``speeder``
    ``duration_s`` below one third of the median duration of the valid rows. A respondent who
    needs less than a third of the typical time cannot have read the questions (a common
    survey-methodology cut-off; the factor is `SPEEDER_FACTOR`).
``straightlining``
    the same answer to every Likert item that was asked and answered (codes 1-5), with at least
    `STRAIGHTLINING_MIN_ITEMS` such answers. The Likert items mix polarities (e.g.
    ``own_risk_high`` vs ``too_small_target``), so identical answers are inconsistent.
soft rules
    each soft check of the instrument (`schemas.response.soft_rules`: implausible combinations
    such as a psychotherapy practice with networked medical devices, an answered multi-choice
    question with nothing ticked), flagged where violated.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.response import soft_rules
from surveydata import _instrument as ins

__all__ = ["FLAG_COLUMNS", "flags", "speeder_flags", "speeders", "straightlining"]

SPEEDER_FACTOR = 1 / 3
STRAIGHTLINING_MIN_ITEMS = 5
FLAG_COLUMNS = ["response_id", "line", "flag", "kind", "columns", "message"]


def speeders(duration_s: pd.Series, factor: float = SPEEDER_FACTOR) -> np.ndarray:
    """True where the duration is below ``factor`` x the median duration.

    >>> speeders(pd.Series([600.0, 610, 590, 100])).tolist()
    [False, False, False, True]
    """
    d = pd.to_numeric(duration_s, errors="coerce").astype("Float64")
    median = d.median()
    if pd.isna(median):
        return np.zeros(len(d), dtype=bool)
    return (d < factor * median).fillna(False).to_numpy(dtype=bool)


def straightlining(likert: pd.DataFrame, min_items: int = STRAIGHTLINING_MIN_ITEMS) -> np.ndarray:
    """True where every answered Likert item (codes 1..5) has the same code, over >= min_items.

    >>> straightlining(pd.DataFrame([[3, 3, 3, 3, 3], [3, 3, -9, 3, 3], [1, 5, 1, 5, 1]])).tolist()
    [True, False, False]
    """
    x = likert.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    answered = (x >= 1) & (x <= 5)
    n = answered.sum(axis=1)
    hi = np.where(answered, x, -np.inf).max(axis=1, initial=-np.inf)
    lo = np.where(answered, x, np.inf).min(axis=1, initial=np.inf)
    return (n >= min_items) & (hi == lo)


def speeder_flags(response_id, lines, duration_s) -> pd.DataFrame:
    """The speeder flags of valid rows given by their ids, lines and durations (all of an
    export's valid rows: the median is theirs); for validation in pieces.

    >>> speeder_flags(["a", "b", "c", "d"], [2, 3, 4, 5], [600.0, 610, 590, 100])["line"].tolist()
    [5]
    """
    d = pd.Series(np.asarray(duration_s, dtype=float))
    mask = speeders(d)
    idx = np.flatnonzero(mask)
    median = d.median()
    out = pd.DataFrame({
        "response_id": pd.array(np.asarray(response_id, dtype=object)[idx], dtype="str"),
        "line": np.asarray(lines, dtype=np.int64)[idx], "flag": "speeder", "kind": "screen",
        "columns": "duration_s",
        "message": f"duration_s below {SPEEDER_FACTOR:.3g} x the median ({median:.0f} s)"})
    for c in ("flag", "kind", "columns", "message"):
        out[c] = out[c].astype("str")
    return out


def flags(coded: pd.DataFrame, inst, lines, screen_speeders: bool = True) -> pd.DataFrame:
    """Long frame of flags for the (valid) coded rows: one row per (row, flag).
    ``screen_speeders=False`` leaves speeders out (a piece of an export: `speeder_flags` needs
    the median of all valid rows).

    >>> flags(coded_valid, inst, lines).columns.tolist()     # doctest: +SKIP
    ['response_id', 'line', 'flag', 'kind', 'columns', 'message']
    """
    lines = np.asarray(lines, dtype=np.int64)
    parts = []

    def add(mask, flag, kind, columns, message):
        idx = np.flatnonzero(mask)
        if idx.size:
            parts.append(pd.DataFrame({
                "response_id": coded["response_id"].to_numpy(dtype=object)[idx],
                "line": lines[idx], "flag": flag, "kind": kind, "columns": columns,
                "message": message}))

    if screen_speeders and "duration_s" in coded.columns and len(coded):
        median = pd.to_numeric(coded["duration_s"], errors="coerce").median()
        add(speeders(coded["duration_s"]), "speeder", "screen", "duration_s",
            f"duration_s below {SPEEDER_FACTOR:.3g} x the median ({median:.0f} s)")
    likert = [v for v in ins.likert_items(inst) if v in coded.columns]
    if likert:
        add(straightlining(coded[likert]), "straightlining", "screen", ",".join(likert),
            f"the same answer to all answered Likert items (at least {STRAIGHTLINING_MIN_ITEMS})")
    for spec in soft_rules(inst):
        if not all(v in coded.columns for v in spec.columns):
            continue
        passes = spec.passes(coded[spec.columns[0]] if spec.level == "column" else coded)
        add(~passes.fillna(True).to_numpy(dtype=bool), spec.name, "soft_rule",
            ",".join(dict.fromkeys(spec.columns)), spec.description)
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=np.int64 if c == "line" else "str")
                             for c in FLAG_COLUMNS})
    out = pd.concat(parts, ignore_index=True)
    for c in ("response_id", "flag", "kind", "columns", "message"):
        out[c] = out[c].astype("str")
    return out.sort_values(["line", "flag"], kind="stable").reset_index(drop=True)
