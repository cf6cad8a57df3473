"""design.assign / update: new variables in a design keep its strata, clusters, fpc and every
calibration record (R's update(); numbers from tests/analysis/reference/extra_update.R)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.design import DesignError, SurveyDesign

REF = json.loads((Path(__file__).parent / "reference" / "extra_update.json").read_text())
POP_TOTALS = {"(Intercept)": 6194, "stypeH": 755, "stypeM": 1018, "api99": 3914069}
POP_TYPES = pd.Series({"E": 4421, "H": 755, "M": 1018})


def _close(res, ref, rtol=1e-8):
    np.testing.assert_allclose(res["estimate"].to_numpy(), ref["estimate"], rtol=rtol)
    np.testing.assert_allclose(res["se"].to_numpy(), ref["se"], rtol=rtol)


@pytest.fixture
def dclus1(apiclus1):
    return SurveyDesign(apiclus1, weights="pw", psu="dnum", fpc="fpc")


def test_new_variable_in_a_calibrated_design_keeps_the_calibration(dclus1):
    dcal = dclus1.calibrate(POP_TOTALS, "~stype + api99")
    d2 = dcal.assign(apidiff=lambda df: df["api00"] - df["api99"],
                     high=lambda df: (df["api00"] > 700).astype(float))
    assert d2.calibrations == dcal.calibrations
    _close(d2.mean("apidiff"), REF["calibrated_mean_apidiff"])
    _close(d2.mean("high"), REF["calibrated_mean_high"])
    _close(d2.total("apidiff"), REF["calibrated_total_apidiff"])
    # without the calibration record the SE would be the base design's: the test can tell
    base = dclus1.assign(apidiff=dclus1.data["api00"] - dclus1.data["api99"]).mean("apidiff")
    _close(base, REF["uncalibrated_mean_apidiff"])
    assert abs(base["se"].iloc[0] - REF["calibrated_mean_apidiff"]["se"]) > 0.1


def test_update_on_poststratified_and_replicate_designs(dclus1):
    dps = dclus1.poststratify("stype", POP_TYPES)
    _close(dps.update(apidiff=lambda df: df["api00"] - df["api99"]).mean("apidiff"),
           REF["poststratified_mean_apidiff"])
    rd = dclus1.replicate("jk1").assign(apidiff=lambda df: df["api00"] - df["api99"])
    _close(rd.mean("apidiff"), REF["jk1_mean_apidiff"])


def test_design_variables_cannot_be_changed_and_lengths_must_match(dclus1):
    with pytest.raises(DesignError, match=r"cannot change design variable\(s\) \['pw'\]"):
        dclus1.assign(pw=1.0)
    with pytest.raises(DesignError, match="one value per row"):
        dclus1.assign(x=np.arange(3))
    # the original design is untouched
    assert "x" not in dclus1.data.columns


def test_assign_on_a_subset_keeps_the_domain(dclus1):
    sub = dclus1.subset((dclus1.data["stype"] == "E").to_numpy())
    s2 = sub.assign(one=1.0)
    assert s2.n == sub.n
    np.testing.assert_array_equal(s2.weights, sub.weights)


def test_text_weights_are_always_refused_with_the_fix(apiclus1):
    df = apiclus1.assign(pw_text=apiclus1["pw"].astype(str))
    with pytest.raises(DesignError, match=r"must be numeric, got dtype .*pd.to_numeric"):
        SurveyDesign(df, weights="pw_text", psu="dnum", fpc="fpc")
    df.loc[df.index[0], "pw_text"] = "abc"          # the same message, not another error
    with pytest.raises(DesignError, match=r"must be numeric, got dtype .*pd.to_numeric"):
        SurveyDesign(df, weights="pw_text", psu="dnum", fpc="fpc")
