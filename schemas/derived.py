"""Derived variables of the instrument, computed from the RAW coded frame.

Each function below implements one `derived:` entry of the instrument YAML; the YAML keeps the
definition text, codes and labels, this module the arithmetic. Missing codes are handled
explicitly, as written in each docstring. `weight` is not computed here (it is the raking
weight of the analysis package).

Example:
    >>> import pandas as pd, schemas
    >>> raw = pd.DataFrame({"general_risk_high": [4, 5, -9], "own_risk_high": [2, 5, 3]})
    >>> risk_gap(raw).tolist()
    [2, 0, <NA>]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .instrument import NO_ANSWER, NOT_APPLICABLE, Instrument

__all__ = [
    "EAST_STATES",
    "TECH_ITEMS",
    "derive",
    "east_west",
    "info_index",
    "kbv_size_class",
    "org_index",
    "risk_gap",
    "tech_index",
]

TECH_ITEMS = (
    "tm_antivirus",
    "tm_patching",
    "tm_backup_plan",
    "tm_backup_offline",
    "tm_restore_test",
    "tm_firewall",
    "tm_disk_encryption",
    "tm_individual_accounts",
    "tm_mfa",
    "tm_network_segmentation",
    "tm_admin_rights_restricted",
    "tm_mobile_lockcode",
)
EAST_STATES = ("BB", "MV", "SN", "ST", "TH")


def _int(frame: pd.DataFrame, col: str) -> pd.Series:
    return frame[col].astype("Int64")


def _valid(s: pd.Series, lo: int, hi: int) -> pd.Series:
    """`s` where it is an answer in [lo, hi], NA elsewhere (missing codes, empty cells)."""
    return s.where(s.between(lo, hi))


def kbv_size_class(frame: pd.DataFrame) -> pd.Series:
    """KBV/KZBV size class: 1 small (<= 5 persons processing data), 2 medium (6-20),
    3 large (> 20 persons, or large medical devices).

    Large devices make a practice large whatever its size; otherwise the class needs
    n_persons_data, so -9 there gives NA. The draft's third clause (MVZ with > 20 persons) is
    already covered by "> 20 persons".

    Example:
        >>> import pandas as pd
        >>> raw = pd.DataFrame({"n_persons_data": [5, 6, 20, 21, -9, 3],
        ...                     "large_devices": [-7, 2, -7, -7, 1, 1]})
        >>> kbv_size_class(raw).tolist()
        [1, 2, 2, 3, 3, 3]
    """
    n = _int(frame, "n_persons_data")
    n = n.where(n >= 1)
    large = (_int(frame, "large_devices") == 1).fillna(False)
    out = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    out = out.mask((n <= 5).fillna(False), 1)
    out = out.mask(n.between(6, 20).fillna(False), 2)
    out = out.mask((n > 20).fillna(False) | large, 3)
    return out.rename("kbv_size_class")


def tech_index(frame: pd.DataFrame) -> pd.DataFrame:
    """Technical measures: tech_index, n_applicable, tech_share.

    * n_applicable: tm_* items asked (not -7) and answered (not -9). "Don't know" (-8) counts
      as applicable but not in place: a measure the respondent cannot confirm is not counted
      as implemented.
    * tech_index: number of tm_* items coded 1 (fully in place).
    * tech_share = tech_index / n_applicable.
    All three are NA when no item is applicable and answered.

    Example:
        >>> import pandas as pd
        >>> codes = [1, 1, 3, -7, -7, 2, 1, -8, -9, 1, 3, -7]   # 3 skipped, 1 no answer
        >>> raw = pd.DataFrame([codes], columns=TECH_ITEMS)
        >>> t = tech_index(raw)
        >>> int(t.tech_index[0]), int(t.n_applicable[0]), float(t.tech_share[0])
        (4, 8, 0.5)
    """
    m = np.vstack([frame[c].to_numpy(dtype="int64", na_value=NOT_APPLICABLE) for c in TECH_ITEMS])
    applicable = (m != NOT_APPLICABLE) & (m != NO_ANSWER)
    n_applicable = applicable.sum(axis=0)
    count = (m == 1).sum(axis=0)
    none = n_applicable == 0
    out = pd.DataFrame(
        {
            "tech_index": pd.arrays.IntegerArray(count, none),
            "n_applicable": pd.arrays.IntegerArray(n_applicable, none),
            "tech_share": np.where(none, np.nan, count / np.maximum(n_applicable, 1)),
        },
        index=frame.index,
    )
    return out


def org_index(frame: pd.DataFrame) -> pd.Series:
    """Organisational index 0-4: (it_security_responsible in [1, 2]) + (training_12m == 1)
    + (emergency_plan == 1) + (guideline_awareness == 1).

    "Don't know" (-8) counts as 0 (nothing the practice can rely on); -9 (no answer) in any
    component makes the index NA, since the sum would otherwise be biased downwards.

    Example:
        >>> import pandas as pd
        >>> raw = pd.DataFrame({"it_security_responsible": [1, 2, 3, -8, 1],
        ...                     "training_12m": [1, 2, 1, 1, 1],
        ...                     "emergency_plan": [1, 1, 3, -8, 1],
        ...                     "guideline_awareness": [1, 2, 3, 1, -9]})
        >>> org_index(raw).tolist()
        [4, 2, 1, 2, <NA>]
    """
    parts = {
        "it_security_responsible": [1, 2],
        "training_12m": [1],
        "emergency_plan": [1],
        "guideline_awareness": [1],
    }
    total = pd.Series(0, index=frame.index, dtype="Int64")
    unanswered = pd.Series(False, index=frame.index)
    for col, yes in parts.items():
        s = _int(frame, col)
        total += s.isin(yes).astype("Int64")
        unanswered |= (s == NO_ANSWER).fillna(True)
    return total.mask(unanswered).rename("org_index")


def info_index(frame: pd.DataFrame, inst: Instrument) -> pd.Series:
    """Information index: the mean of four z-scores,
    (1) number of info_sources ticked (excluding 'none'; 0 when 'none' is ticked),
    (2) info_sufficient (1-5), (3) guideline_awareness reversed (4 - code: 3 = knows it well),
    (4) self_competence (1-5).

    Each component is standardised with the mean and the standard deviation (ddof=1) of its
    valid values in `frame` (unweighted: the index ranks respondents within this sample); a
    component without variation (sd 0) contributes 0. A missing component (-7/-8/-9) makes the
    index NA rather than averaging fewer parts.

    Example:
        >>> import pandas as pd, schemas
        >>> inst = schemas.load_instrument()
        >>> cols = inst.multi_columns("info_sources")
        >>> raw = pd.DataFrame([[1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
        ...                     [0, 0, 0, 0, 0, 0, 0, 0, 0, 1]], columns=cols)
        >>> raw["info_sufficient"], raw["self_competence"] = [3, 5, 1], [2, 4, 3]
        >>> raw["guideline_awareness"] = [2, 1, 3]
        >>> info_index(raw, inst).round(6).tolist()
        [-0.304554, 1.022772, -0.718218]
    """
    all_cols = inst.multi_columns("info_sources")
    sources = np.array([not c.endswith("__none") for c in all_cols])
    m = np.vstack([frame[c].to_numpy(dtype="int64", na_value=NO_ANSWER) for c in all_cols])
    answered = ((m == 0) | (m == 1)).all(axis=0)
    n_sources = pd.Series(
        np.where(answered, (m[sources] == 1).sum(axis=0), np.nan),
        index=frame.index,
    )
    components = [
        n_sources,
        _valid(_int(frame, "info_sufficient"), 1, 5).astype("float64"),
        (4 - _valid(_int(frame, "guideline_awareness"), 1, 3)).astype("float64"),
        _valid(_int(frame, "self_competence"), 1, 5).astype("float64"),
    ]
    z = []
    for c in components:
        sd = c.std(ddof=1)
        # a component without variation in the sample carries no information: z = 0
        z.append((c - c.mean()) / sd if sd > 0 else c * 0.0)
    return (sum(z) / len(z)).rename("info_index")


def risk_gap(frame: pd.DataFrame) -> pd.Series:
    """general_risk_high - own_risk_high (optimism gap, -4..4); NA unless both are 1-5.

    Example:
        >>> import pandas as pd
        >>> risk_gap(pd.DataFrame({"general_risk_high": [1], "own_risk_high": [5]})).tolist()
        [-4]
    """
    gap = _valid(_int(frame, "general_risk_high"), 1, 5) - _valid(
        _int(frame, "own_risk_high"), 1, 5
    )
    return gap.rename("risk_gap")


def east_west(frame: pd.DataFrame, berlin: str = "berlin") -> pd.Series:
    """'east' for BB, MV, SN, ST, TH; 'west' for the other states except Berlin, which is
    `berlin`: 'berlin' (its own category, the default: it was split between East and West),
    'east' or 'west'.

    Example:
        >>> import pandas as pd
        >>> east_west(pd.DataFrame({"federal_state": ["SN", "BE", "HH"]})).tolist()
        ['east', 'berlin', 'west']
        >>> east_west(pd.DataFrame({"federal_state": ["BE"]}), berlin="east").tolist()
        ['east']
    """
    if berlin not in ("berlin", "east", "west"):
        raise ValueError(f"berlin must be 'berlin', 'east' or 'west', got {berlin!r}")
    state = frame["federal_state"]
    out = pd.Series(np.where(state.isin(EAST_STATES), "east", "west"), index=frame.index)
    out = out.where(state != "BE", berlin).where(state.notna())
    return out.astype("str").rename("east_west")


def derive(frame: pd.DataFrame, inst: Instrument, lang: str | None = None) -> pd.DataFrame:
    """All derived variables of the instrument (except `weight`) from a validated raw frame.

    Returns a frame with the index of `frame` and the columns kbv_size_class, tech_index,
    n_applicable, tech_share, org_index, info_index, risk_gap, east_west. Codes stay codes
    (Int64 / str) unless `lang` is "de" or "en": then kbv_size_class and east_west become
    labelled categoricals (kbv_size_class ordered).

    Example:
        >>> import pandas as pd, schemas
        >>> inst = schemas.load_instrument()
        >>> dtypes = schemas.raw_dtypes(inst)
        >>> empty = pd.DataFrame({c: pd.Series([], dtype=d) for c, d in dtypes.items()})
        >>> list(derive(empty, inst).columns)
        ['kbv_size_class', 'tech_index', 'n_applicable', 'tech_share', 'org_index', 'info_index', 'risk_gap', 'east_west']
    """
    tech = tech_index(frame)
    out = pd.DataFrame(
        {
            "kbv_size_class": kbv_size_class(frame),
            "tech_index": tech["tech_index"],
            "n_applicable": tech["n_applicable"],
            "tech_share": tech["tech_share"],
            "org_index": org_index(frame),
            "info_index": info_index(frame, inst),
            "risk_gap": risk_gap(frame),
            "east_west": east_west(frame),
        },
        index=frame.index,
    )
    expected = [d.var for d in inst.derived if d.computed_by == "schemas.derive"]
    if list(out.columns) != expected:
        raise ValueError(
            f"instrument {inst.name!r} defines derived variables {expected}, "
            f"schemas.derive computes {list(out.columns)}"
        )
    if lang is not None:
        for var in ("kbv_size_class", "east_west"):
            spec = inst.derived_variable(var)
            codes = list(spec.codes)
            cat = pd.Categorical(out[var].astype(object), categories=codes, ordered=spec.ordered)
            out[var] = cat.rename_categories([spec.codes[c].get(lang) for c in codes])
    return out
