"""Example data for runnable examples: the California Academic Performance Index data that ship
with R's survey package (``data(api)``; GPL-2 | GPL-3, from the California Department of
Education), read exactly as R has them.

* ``apipop``: all 6,194 schools;
* ``apisrs``: a simple random sample of 200 (weights ``pw``, fpc ``fpc``);
* ``apistrat``: stratified by school type ``stype`` (E/H/M), 200 schools;
* ``apiclus1``: 15 districts (``dnum``) sampled, every school in them, 183 schools;
* ``apiclus2``: two stages, 40 districts then up to 5 schools (``dnum``, ``snum``; fpc ``fpc1``,
  ``fpc2``), 126 schools.

Factor columns (``stype``, ``sch.wide``, ``comp.imp``, ``both``, ``awards``) are categoricals with
R's level order; doubles are exact (the float32-derived weights are not rounded).

>>> from analysis import SurveyDesign, datasets
>>> api = datasets.load("apistrat")
>>> d = SurveyDesign(api, weights="pw", strata="stype", fpc="fpc")
>>> d.mean("api00").round(4)[["estimate", "se"]].values.tolist()
[[662.2874, 9.4089]]
"""
from __future__ import annotations

import json
from importlib import resources

import pandas as pd

from analysis.errors import AnalysisError

__all__ = ["NAMES", "load"]

NAMES = ("apipop", "apisrs", "apistrat", "apiclus1", "apiclus2")


def load(name: str) -> pd.DataFrame:
    """One of :data:`NAMES` as a DataFrame (a fresh copy on every call)."""
    if name not in NAMES:
        raise AnalysisError(f"no example data set {name!r}; choose one of {', '.join(NAMES)}")
    here = resources.files(__name__)
    csv = here / (f"{name}.csv.gz" if name == "apipop" else f"{name}.csv")
    with resources.as_file(csv) as path:
        df = pd.read_csv(path, dtype={"cds": str})
    levels = json.loads((here / f"{name}.factor_levels.json").read_text())
    for col, lv in levels.items():
        if col in df.columns:
            df[col] = pd.Categorical(df[col], categories=lv)
    return df
