"""Scale reliability against R (tests/analysis/reference/extra_scales.R): alpha, item-rest correlations and
alpha-if-dropped as psych::alpha, the one-factor model as factanal, and the design-based SEs of
weighted alpha and omega from R survey's covariance of the item moments."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.scales import ScaleError, alpha_from_cov, one_factor_ml, reliability

REF_DIR = Path(__file__).parent / "reference"
REF = json.loads((REF_DIR / "extra_scales.json").read_text())
ITEMS = ["info_sufficient", "self_competence", "staff_phishing_competence", "feel_protected"]


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF_DIR / "data" / "scale_demo.csv")


def test_unweighted_alpha_and_items_equal_psych(data):
    d = analysis.SurveyDesign(data.assign(one=1.0), weights="one")
    r = reliability(d, ITEMS, omega=False)
    np.testing.assert_allclose(r.alpha, REF["unweighted_raw_alpha"], rtol=1e-10)
    np.testing.assert_allclose(r.items["item_rest_r"], REF["unweighted_r_drop"], rtol=1e-10)
    np.testing.assert_allclose(r.items["alpha_if_dropped"], REF["unweighted_alpha_if_dropped"], rtol=1e-10)


def test_one_factor_model_equals_factanal(data):
    lam, psi = one_factor_ml(np.corrcoef(data[ITEMS].to_numpy(), rowvar=False))
    # both sides are iterative (R: nlminb in factanal); 1e-6 as for other fits
    np.testing.assert_allclose(lam, REF["factanal_loadings"], rtol=1e-5)
    np.testing.assert_allclose(psi, REF["factanal_uniquenesses"], rtol=1e-5)


def test_weighted_alpha_and_omega_with_design_based_se(data):
    d = analysis.SurveyDesign(data, weights="w", strata="stratum", fpc="N_h", lonely_psu="adjust")
    r = reliability(d, ITEMS)
    est = r.estimates
    np.testing.assert_allclose(est.loc["alpha", "estimate"], REF["weighted_alpha"]["estimate"], rtol=1e-10)
    # the SE is a central-difference gradient on both sides: agreement to 1e-6
    np.testing.assert_allclose(est.loc["alpha", "se"], REF["weighted_alpha"]["se"], rtol=1e-6)
    np.testing.assert_allclose(est.loc["omega", "estimate"], REF["weighted_omega"]["estimate"], rtol=1e-5)
    np.testing.assert_allclose(est.loc["omega", "se"], REF["weighted_omega"]["se"], rtol=1e-3)
    assert est.attrs["ci_df"] == REF["degf"]
    assert r.n == REF["n"]


def test_alpha_by_replicates_is_close_to_the_linearisation(data):
    d = analysis.SurveyDesign(data, weights="w")      # the bootstrap needs 2+ PSUs per stratum
    taylor = reliability(d, ITEMS, omega=False).estimates.loc["alpha", "se"]
    boot = reliability(d.replicate("bootstrap", replicates=100, seed=3), ITEMS,
                       omega=False).estimates.loc["alpha", "se"]
    assert abs(boot / taylor - 1) < 0.25      # 100 bootstrap replicates: ~7 % Monte Carlo error


def test_formula_and_errors():
    assert alpha_from_cov(np.ones((3, 3))) == pytest.approx(1.0)
    d = analysis.SurveyDesign(pd.DataFrame({"a": [1.0, 2, 3], "b": [1.0, 1, 1], "w": 1.0}), weights="w")
    with pytest.raises(ScaleError, match="no variation"):
        reliability(d, ["a", "b"], omega=False)
    with pytest.raises(ScaleError, match="at least two items"):
        reliability(d, ["a"])
