"""Replicate designs made by ``design.replicate(...)`` and weighting of replicate designs, through
the public API, against R survey (reference.json g; extra_weighting.json "replicate").

R's as.svrepdesign results for JK1 (dclus1) and JKn/BRR/Fay (pairs design) are deterministic and
reproduced here from the Taylor designs; the bootstrap is compared through R's replicate weights.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_calibration_api import POP, POP_SCHWIDE, POP_TYPES, check_extra, classes  # noqa: F401

from analysis.replicates import ReplicateError

REF = Path(__file__).parent / "reference"
G = json.loads((REF / "reference.json").read_text())["g_replicate"]
EXTRA = json.loads((REF / "extra_weighting.json").read_text())["replicate"]


def r_repweights(name):
    f = pd.read_csv(REF / "data" / f"repweights_{name}.csv")
    return f["full_sample_weight"].to_numpy(), f.filter(regex=r"^rep\d+$").to_numpy()


@pytest.fixture
def wclus1(classes, apiclus1):  # noqa: F811
    return classes[0](apiclus1, weights="pw", psu="dnum", fpc="fpc")


@pytest.fixture
def wpairs(classes, apistrat_pairs):  # noqa: F811
    return classes[0](apistrat_pairs, weights="pw", strata="pair")


def check_mean(design, ref, rtol=1e-8):
    got = design.mean("api00")
    np.testing.assert_allclose(
        [got["estimate"].iloc[0], got["se"].iloc[0]],
        [ref["estimate"]["api00"], ref["se"]["api00"]],
        rtol=rtol,
    )


def check_design_facts(rd, name):
    info = G[name]["design"]
    assert rd.type == info["type"] and rd.degf == info["degf"] and rd.mse is info["mse"]
    assert rd.repweights.shape == (info["n"], info["n_replicates"])
    np.testing.assert_allclose(rd.scale, info["scale"], rtol=1e-15)
    np.testing.assert_allclose(rd.rscales, info["rscales"], rtol=1e-15)


# ---------------------------------------------------------------- reference g
def test_jk1_from_the_taylor_design(wclus1):
    rd = wclus1.replicate("jk1")
    check_design_facts(rd, "JK1_dclus1")
    np.testing.assert_array_equal(rd.repweights, r_repweights("JK1_dclus1")[1])
    np.testing.assert_array_equal(rd.weights, wclus1.weights)
    check_mean(rd, G["JK1_dclus1"]["svymean_api00"])
    # confidence interval with the design df, as R's confint(x, df = degf(design))
    ci = rd.mean("api00", df="degf")
    np.testing.assert_allclose(
        ci["ci_low"].iloc[0],
        G["JK1_dclus1"]["svymean_api00"]["ci95_t_degf"]["lower"]["api00"],
        rtol=1e-8,
    )


@pytest.mark.parametrize(
    "name, kind, kw",
    [
        ("BRR_pairs", "brr", {}),
        ("Fay0.3_pairs", "fay", {"fay_rho": 0.3}),
        ("JKn_pairs", "jkn", {}),
    ],
)
def test_pairs_replicates_from_the_taylor_design(wpairs, name, kind, kw):
    rd = wpairs.replicate(kind, **kw)
    check_design_facts(rd, name)
    np.testing.assert_allclose(rd.repweights, r_repweights(name)[1], rtol=1e-15)
    check_mean(rd, G[name]["svymean_api00"])


def test_bootstrap_through_r_replicate_weights_and_our_own(classes, wclus1, apiclus1):  # noqa: F811
    w, W = r_repweights("bootstrap200_dclus1")
    info = G["bootstrap200_dclus1"]["design"]
    rd = classes[1](apiclus1.assign(_w=w), W, weights="_w", type="bootstrap", scale=info["scale"])
    check_mean(rd, G["bootstrap200_dclus1"]["svymean_api00"])
    own = wclus1.replicate("bootstrap", replicates=200, seed=20240611)
    again = wclus1.replicate("bootstrap", replicates=200, seed=20240611)
    np.testing.assert_array_equal(own.repweights, again.repweights)
    check_design_facts(own, "bootstrap200_dclus1")
    # different random draws from R's: the SE agrees only to Monte-Carlo error (R's is 23.41)
    se = own.mean("api00")["se"].iloc[0]
    assert abs(se / G["bootstrap200_dclus1"]["svymean_api00"]["se"]["api00"] - 1) < 0.15


def test_svyglm_on_our_jk1_design_matches_r(wclus1):
    from analysis.models import svyglm

    fit = svyglm("api00 ~ ell + meals + mobility", wclus1.replicate("jk1"))
    ref = G["JK1_dclus1"]["svyglm_gauss"]
    ours = {"(Intercept)": "Intercept"}  # patsy's name for R's intercept
    for block, got in (("coef", fit.params), ("se", fit.bse)):
        expect = pd.Series({ours.get(k, k): v for k, v in ref[block].items()})
        np.testing.assert_allclose(got[expect.index], expect, rtol=1e-8)
    assert fit.df_resid == ref["df_residual"]


# ---------------------------------------------------------------- weighting replicate designs
def _check_rep(design, ref, rtol):
    check_extra(design, ref, rtol)  # mean(api00), total(enroll) and the weights against R
    np.testing.assert_allclose(
        design.repweights[:, 0], ref["repweights_col1"], rtol=max(rtol, 1e-12)
    )
    np.testing.assert_allclose(
        design.repweights[:, 6], ref["repweights_col7"], rtol=max(rtol, 1e-12)
    )


def test_poststratify_replicate_design(wclus1):
    _check_rep(
        wclus1.replicate("jk1").poststratify("stype", POP_TYPES),
        EXTRA["JK1_poststratify_stype"],
        1e-8,
    )


def test_rake_replicate_design(wclus1):
    rd = wclus1.replicate("jk1").rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})
    _check_rep(rd, EXTRA["JK1_rake_tight"], 1e-8)


def test_rake_replicate_design_with_r_early_stop(wclus1):
    # R rakes every replicate with as many sweeps as the full sample needed (4 here, stopping
    # early under R's default control): so do we, and the replicate weights are R's
    rd = wclus1.replicate("jk1").rake({"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}, control="R")
    _check_rep(rd, EXTRA["JK1_rake_Rdefault"], 1e-8)


def test_calibrate_replicate_design(wclus1):
    rd = wclus1.replicate("jk1")
    _check_rep(rd.calibrate(POP["pop.totals"], "~stype+api99"), EXTRA["JK1_calibrate_linear"], 1e-8)
    raked = rd.calibrate(POP["pop.totals"], "~stype+api99", method="raking", epsilon=1e-7)
    _check_rep(raked, EXTRA["JK1_calibrate_raking"], 1e-8)


def test_replicating_a_calibrated_design_recalibrates_every_replicate(wclus1):
    # weighting then replicating equals replicating then weighting (R's as.svrepdesign would
    # keep the calibrated full-sample weights but not recalibrate the replicates)
    a = wclus1.calibrate(POP["pop.totals"], "~stype+api99").replicate("jk1")
    b = wclus1.replicate("jk1").calibrate(POP["pop.totals"], "~stype+api99")
    np.testing.assert_allclose(a.repweights, b.repweights, rtol=1e-12)
    _check_rep(a, EXTRA["JK1_calibrate_linear"], 1e-8)
    c = wclus1.poststratify("stype", POP_TYPES).trim(upper=50).replicate("jk1")
    d = wclus1.replicate("jk1").poststratify("stype", POP_TYPES).trim(upper=50)
    np.testing.assert_allclose(c.repweights, d.repweights, rtol=1e-12)
    assert [r.kind for r in c.calibrations] == ["poststratify", "trim"]


def test_mse_and_errors(wclus1, wpairs):
    rd = wclus1.replicate("jk1", mse=True)
    se = rd.mean("api00")["se"].iloc[0]
    np.testing.assert_allclose(se, EXTRA["JK1_mse_mean_api00"]["se"], rtol=1e-8)
    with pytest.raises(ReplicateError, match="unstratified"):
        wpairs.replicate("jk1")
    with pytest.raises(ReplicateError, match="need strata"):
        wclus1.replicate("brr")
    with pytest.raises(ValueError, match="type must be one of"):
        wclus1.replicate("half-sample")
    with pytest.raises(ValueError, match="replicate the full design"):
        wclus1.subset(wclus1.data["stype"] == "E").replicate("jk1")
    with pytest.raises(ValueError, match="already a replicate design"):
        wclus1.replicate("jk1").replicate("jk1")


def test_jkn_on_stratified_design_with_fpc(classes, apistrat):  # noqa: F811
    d = classes[0](apistrat, weights="pw", strata="stype", fpc="fpc").replicate("jkn")
    ref = EXTRA["JKn_dstrat"]
    assert d.repweights.shape[1] == ref["n_replicates"]
    np.testing.assert_allclose(np.unique(d.rscales), ref["rscales_unique"], rtol=1e-15)
    got = d.mean("api00")
    np.testing.assert_allclose(
        [got["estimate"].iloc[0], got["se"].iloc[0]],
        [ref["mean_api00"]["estimate"], ref["mean_api00"]["se"]],
        rtol=1e-8,
    )


def test_scd_brr_ratio_matches_r(classes):  # noqa: F811
    # ?svrepdesign's example: as.svrepdesign(svydesign(id=~ambulance, strata=~ESA, nest=TRUE,
    # prob=~1, data=scd), type="BRR") and svyratio(~alive, ~arrests)
    scd = pd.DataFrame(EXTRA["scd_data"]).assign(p=1.0)
    d = classes[0](scd, probs="p", strata="ESA", psu="ambulance", nest=True).replicate("brr")
    ref = EXTRA["scd_asBRR_ratio"]
    assert d.repweights.shape[1] == ref["n_replicates"] and d.degf == ref["degf"]
    res = d.ratio("alive", "arrests")
    np.testing.assert_allclose(
        [res["estimate"].iloc[0], res["se"].iloc[0]], [ref["estimate"], ref["se"]], rtol=1e-8
    )


def test_domains_of_a_calibrated_replicate_design(wclus1):
    rd = wclus1.replicate("jk1").calibrate(POP["pop.totals"], "~stype+api99")
    res = rd.by("awards").mean("api00")
    ref = EXTRA["JK1_calibrate_linear_by_awards"]
    np.testing.assert_allclose(res["estimate"].to_numpy(), ref["estimate"], rtol=1e-8)
    np.testing.assert_allclose(res["se"].to_numpy(), ref["se"], rtol=1e-8)


def test_user_supplied_replicate_weights_are_poststratified_column_by_column(classes, apiclus1):  # noqa: F811
    w, W = r_repweights("bootstrap200_dclus1")
    info = G["bootstrap200_dclus1"]["design"]
    rd = classes[1](apiclus1.assign(_w=w), W, weights="_w", type="bootstrap", scale=info["scale"])
    _check_rep(rd.poststratify("stype", POP_TYPES), EXTRA["bootstrap_csv_poststratify_stype"], 1e-8)


def test_rao_wu_and_user_hadamard_through_the_design(wclus1, wpairs):
    rw = wclus1.replicate("rao-wu", replicates=400, seed=3)
    assert rw.type == "bootstrap" and rw.scale == 1 / 399
    np.testing.assert_allclose(rw.repweights.mean(), wclus1.weights.mean(), rtol=0.02)
    # agrees with the Taylor SE it estimates (R: 23.542) within Monte-Carlo error: 400
    # replicates give the SE to about 1/sqrt(800) = 3.5%; 15% is 4 such errors
    se = rw.mean("api00")["se"].iloc[0]
    assert abs(se / 23.54224069378104 - 1) < 0.15
    from analysis.replicates import hadamard

    H = hadamard(100)
    a = wpairs.replicate("brr", hadamard_matrix=2 * H - 1)  # +/-1 coding accepted
    np.testing.assert_array_equal(a.repweights, wpairs.replicate("brr").repweights)


def test_replicate_matrix_too_large_for_memory_is_a_clear_error(wclus1, monkeypatch):
    from analysis import replicates

    # pretend the machine has 32 kB: 183 rows x 15 JK1 replicates x 8 bytes = 22 kB > half
    fake = {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 8}
    monkeypatch.setattr(replicates.os, "sysconf", lambda name: fake[name])
    # the multipliers are kept per PSU: the design, means and domain means need no (n, R) matrix
    jk = wclus1.replicate("jk1")
    jk.mean("api00")
    jk.by("stype").mean("api00")
    jk.quantile("api00", 0.5)
    # a computation that needs the whole matrix says so instead of running out of memory
    with pytest.raises(ReplicateError, match=r"needs the full replicate weight matrix.*183 rows x "
                                             r"15 replicates need .* GB"):
        np.asarray(jk.repweights)
    # a calibrated design's replicates are one matrix from the start
    cal = wclus1.poststratify("stype", pd.Series({"E": 4421.0, "H": 755.0, "M": 1018.0}))
    with pytest.raises(ReplicateError, match=r"jk1 replicates of a calibrated design: .*183 rows"):
        cal.replicate("jk1")
