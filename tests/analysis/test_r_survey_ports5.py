"""More ports of R survey's tests/ folder with survey 4.5 numbers (tests/analysis/reference/
extra_ports5.R -> extra_ports5.json): caleg.R (calibration within first-stage clusters; the
ratio estimator as a calibration), newquantile.R, by_covmat_nodrop.R (its api part; the first
part needs a data file, db.rda, that is not public), check.R (design specifications)."""
from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import DATA_DIR, REFERENCE_DIR, assert_close

import analysis
from analysis import SurveyDesign, contrast

X = json.loads((REFERENCE_DIR / "extra_ports5.json").read_text())


def _check(res, ref, rtol=1e-8):
    assert_close(res["estimate"], np.atleast_1d(ref["estimate"]), rtol=rtol)
    assert_close(res["se"], np.atleast_1d(ref["se"]), rtol=rtol)


def test_caleg_calibration_within_clusters(apiclus2):
    C = X["caleg"]
    a = apiclus2[apiclus2["dnum"].isin(C["dnums"])]
    d = SurveyDesign(a, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    _check(d.mean("api99"), C["mean_api99"])
    g = d.calibrate(C["pop"], "~api99", stage=1)             # keys are R's names (text)
    _check(g.mean("api99"), C["mean_api99_cal"])
    by = g.by("dnum").mean("api99")
    assert_close(by["estimate"], C["by_dnum_cal"]["estimate"])
    # calibrated to each district's own total: no variance left (R: rounding noise ~1e-13)
    assert np.all(np.abs(by["se"]) < 1e-9) and np.all(np.abs(C["by_dnum_cal"]["se"]) < 1e-9)
    for k, p in C["pop"].items():         # every district now has its population mean
        assert_close(g.by("dnum").mean("api99").loc[(int(k), "api99"), "estimate"],
                     p["api99"] / p["(Intercept)"], rtol=1e-12)


def test_caleg_ratio_estimator_is_a_calibration(dstrat):
    C = X["caleg"]
    r = dstrat.ratio("api.stu", "enroll")
    _check(pd.DataFrame({"estimate": r["estimate"] * C["total_enroll"],
                         "se": r["se"] * C["total_enroll"]}), C["ratio_total"])
    g = dstrat.calibrate({"enroll": C["total_enroll"]}, "~enroll - 1", variance=[1.0])
    _check(g.total("api.stu"), C["ratio_calibrated"])


@pytest.mark.parametrize("i", range(1, 10))
def test_newquantile_equal_weights_match_quantile_types(dclus1, apiclus1, i):
    ref = X["newquantile"][i - 1]
    est = dclus1.quantile("ell", [0.2, 0.5, 0.9], qrule=f"hf{i}")["estimate"]
    assert_close(est, ref["survey"])
    assert_close(est, ref["stats"], rtol=1e-12)       # R's quantile(type = i)


def test_by_covmat_after_calibrating_to_strata(dstrat):
    B = X["by_covmat"]
    cal = dstrat.calibrate({"stypeE": 4421.0, "stypeH": 755.0, "stypeM": 1018.0}, "~stype + 0")
    for d, key, dkey in [(dstrat, "a", "deff_a"), (cal, "b", "deff_b")]:
        res = d.by("comp.imp").total("enroll", deff=True)
        assert_close(res["deff"], B[dkey], rtol=1e-7)
        c = contrast(res, {"No": 1, "Yes": -1})
        _check(c, B[key], rtol=1e-7)


def test_check_design_specifications():
    C = X["check"]
    fpc = pd.read_csv(DATA_DIR / "fpc.csv").assign(prob=lambda f: 1 / f["weight"])
    specs = {
        "weights_psu_strata": {"weights": "weight", "psu": "psuid", "strata": "stratid", "nest": True},
        "weights_rows_strata": {"weights": "weight", "strata": "stratid", "nest": True},
        "prob_rows_strata": {"probs": "prob", "strata": "stratid", "nest": True},
        "weights_psu": {"weights": "weight", "psu": "psuid", "nest": True},
        "weights_two_stage": {"weights": "weight", "psu": ["stratid", "psuid"]},
    }
    for key, kw in specs.items():
        _check(SurveyDesign(fpc, **kw).mean("x"), C[key])
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        d = SurveyDesign(fpc, strata="stratid", nest=True)
    _check(d.mean("x"), C["unweighted_rows_strata"])
    assert analysis is not None
