"""Design columns of a stratified survey: stratum, N_h, n_h and the base weight.

The strata are the combinations of the design's strata variables (a study declaration's
``design.strata``); the stratum key joins their raw codes with "-" (e.g. "3-BY"), and the frame
sizes N_h come from a strata table indexed by that key (the simulator writes it as strata.csv).
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def stratum_keys(raw: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """The stratum key of every raw record: the codes of ``columns`` (as text) joined with "-".

    >>> stratum_keys(pd.DataFrame({"a": [" 1", "2"], "b": ["BY", "HE"]}), ["a", "b"]).tolist()
    ['1-BY', '2-HE']
    """
    columns = list(columns)
    if not columns:
        raise ValueError("a stratified design needs at least one strata variable")
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise ValueError(f"strata variable(s) {missing} are not columns of the export")
    parts = [raw[c].astype("str").str.strip() for c in columns]
    key = parts[0]
    for p in parts[1:]:
        key = key + "-" + p
    return key


def attach_design(valid: pd.DataFrame, raw: pd.DataFrame, strata: pd.DataFrame,
                  columns: Sequence[str]) -> pd.DataFrame:
    """``valid`` with stratum, N_h, n_h (valid responses in the stratum) and w = N_h / n_h.

    The stratum comes from the raw codes of the strata variables ``columns`` (the typed columns
    carry labels), matched by file line. ``strata`` is indexed by stratum and has a column N_h.
    A stratum of the data missing from ``strata`` is a ValueError naming it.

    >>> raw = pd.DataFrame({"line": [2, 3], "kind": ["1", "1"], "region": ["BY", "BY"]})
    >>> valid = pd.DataFrame({"line": [2, 3]})
    >>> strata = pd.DataFrame({"N_h": [100]}, index=pd.Index(["1-BY"], name="stratum"))
    >>> attach_design(valid, raw, strata, ["kind", "region"])["w"].tolist()
    [50.0, 50.0]
    """
    rows = raw.set_index("line").loc[valid["line"].to_numpy()]
    stratum = stratum_keys(rows, columns).to_numpy()
    unknown = sorted(set(stratum) - set(strata.index))
    if unknown:
        shown = unknown[:10] + (["..."] if len(unknown) > 10 else [])
        raise ValueError(f"strata {shown} of the data are not in the strata table "
                         f"({len(strata)} strata known; strata variables {', '.join(columns)})")
    df = valid.copy()
    df["stratum"] = pd.Series(stratum, index=df.index, dtype="str")
    df["N_h"] = strata.loc[stratum, "N_h"].to_numpy()
    df["n_h"] = df.groupby("stratum")["stratum"].transform("size").to_numpy()
    df["w"] = df["N_h"] / df["n_h"]
    return df
