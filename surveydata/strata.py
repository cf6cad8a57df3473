"""Design columns of a stratified practice survey: stratum, N_h, n_h and the base weight.

The simulator's (and a typical study's) strata are practice type x federal state; the frame sizes
N_h come from a strata table (the simulator writes it as strata.csv).
"""
from __future__ import annotations

import pandas as pd


def attach_design(valid: pd.DataFrame, raw: pd.DataFrame, strata: pd.DataFrame) -> pd.DataFrame:
    """``valid`` with stratum, N_h, n_h (valid responses in the stratum) and w = N_h / n_h.

    The stratum comes from the raw codes of practice_type and federal_state (the typed columns
    carry labels), matched by file line. ``strata`` is indexed by stratum and has a column N_h.
    A stratum of the data missing from ``strata`` is a ValueError naming it.

    >>> raw = pd.DataFrame({"line": [2, 3], "practice_type": ["1", "1"], "federal_state": ["BY", "BY"]})
    >>> valid = pd.DataFrame({"line": [2, 3]})
    >>> strata = pd.DataFrame({"N_h": [100]}, index=pd.Index(["1-BY"], name="stratum"))
    >>> attach_design(valid, raw, strata)["w"].tolist()
    [50.0, 50.0]
    """
    codes = raw.set_index("line")[["practice_type", "federal_state"]].loc[valid["line"].to_numpy()]
    stratum = (codes["practice_type"].str.strip() + "-" + codes["federal_state"].str.strip()).to_numpy()
    unknown = sorted(set(stratum) - set(strata.index))
    if unknown:
        raise ValueError(f"strata {unknown} of the data are not in the strata table "
                         f"({len(strata)} strata known)")
    df = valid.copy()
    df["stratum"] = pd.Series(stratum, index=df.index, dtype="str")
    df["N_h"] = strata.loc[stratum, "N_h"].to_numpy()
    df["n_h"] = df.groupby("stratum")["stratum"].transform("size").to_numpy()
    df["w"] = df["N_h"] / df["n_h"]
    return df
