"""Quantile rules of R survey 4.5 (hf1-hf9, "school", "shahvaish" beside "math" and "hf7") with
Woodruff intervals, against tests/analysis/reference/extra_quantiles.R -> extra_quantiles.json.
port: R survey tests/qrule-swiss.R (every rule on x = 1..10, 15 probabilities, monotone)."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE_DIR, assert_close

from analysis import SurveyDesign
from analysis.estimators import QRULES

X = json.loads((REFERENCE_DIR / "extra_quantiles.json").read_text())
PROBS = [0.1, 0.25, 0.5, 0.75, 0.9]


def _arr(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def test_every_r_rule_is_available():
    assert set(X["dclus1_api00"]) <= set(QRULES)


@pytest.mark.parametrize("rule", sorted(X["dclus1_api00"]))
@pytest.mark.parametrize("case", ["dclus1_api00", "dstrat_ell"])
def test_rule_matches_r(dclus1, dstrat, case, rule):
    ref = X[case][rule]
    d, var = (dclus1, "api00") if case == "dclus1_api00" else (dstrat, "ell")
    res = d.quantile(var, PROBS, qrule=rule)
    for col, key in [("estimate", "quantile"), ("ci_low", "ci_low"), ("ci_high", "ci_high"),
                     ("se", "se")]:
        assert_close(res[col], _arr(ref[key]), what=f"{case} {rule} {col}")


def test_swiss_every_rule_and_monotone():
    """port: tests/qrule-swiss.R"""
    sw = pd.DataFrame({"x": np.arange(1.0, 11), "id": np.arange(1, 11), "fpc": 10.0,
                       "probs": 1.0})
    d = SurveyDesign(sw, psu="id", probs="probs", fpc="fpc")
    for rule, ref in X["swiss"].items():
        est = d.quantile("x", X["swiss_probs"], qrule=rule)["estimate"].to_numpy()
        assert_close(est, ref, what=rule)
        assert np.all(np.diff(est) >= 0), rule


def test_by_domain_with_a_new_rule(dclus1, apiclus1):
    by = dclus1.by("stype").quantile("api00", 0.5, qrule="hf8")
    for lev in ("E", "H", "M"):
        alone = dclus1.subset(apiclus1["stype"] == lev).quantile("api00", 0.5, qrule="hf8")
        assert_close(by.loc[lev, "estimate"].to_numpy(), alone["estimate"].to_numpy())


def test_unknown_rule_lists_the_rules(dclus1):
    with pytest.raises(ValueError, match="qrule must be one of"):
        dclus1.quantile("api00", 0.5, qrule="hf10")
