"""Pure calibration functions against R survey 4.1-1 (reference.json section f, extra_weighting.json).

Weights are compared with R's calibrated weights row by row. The standard errors here use a small
one-stage cluster variance written in this file (cluster totals, centred, (1 - f) n / (n - 1)),
applied to the calibration residuals from the record under test: an independent check of the
records' ``residualize`` against R's svyrecvar, before and apart from the design's variance engine.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.calibration import (
    CalibrationError,
    Cells,
    calibrate_weights,
    calibration_matrix,
    cell_codes,
    poststratify_weights,
    rake_weights,
    trim_weights,
)

REF = Path(__file__).parent / "reference"
F = json.loads((REF / "reference.json").read_text())["f_weighting"]
EXTRA = json.loads((REF / "extra_weighting.json").read_text())
CAL_W = pd.read_csv(REF / "data" / "apiclus1_calibrated_weights.csv")
POP_TYPES = pd.Series(F["population"]["pop.types"], dtype=float)
POP_SCHWIDE = pd.Series(F["population"]["pop.schwide"], dtype=float)
API99_TOTAL = F["population"]["pop.totals"]["api99"]


@pytest.fixture(scope="module")
def clus1() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "apiclus1.csv")


@pytest.fixture(scope="module")
def strat() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "apistrat.csv")


def one_stage_var(U, psu, popsize=None, strata=None):
    """Stratified one-stage cluster variance of the column sums of U (R's onestage, fpc=popsize)."""
    U = np.asarray(U, dtype=float).reshape(len(psu), -1)
    strata = np.zeros(len(psu), dtype=int) if strata is None else np.asarray(strata)
    V = np.zeros((U.shape[1], U.shape[1]))
    for h in np.unique(strata):
        m = strata == h
        tot = pd.DataFrame(U[m]).groupby(np.asarray(psu)[m]).sum().to_numpy()
        n_h = tot.shape[0]
        f = 0.0 if popsize is None else n_h / np.asarray(popsize)[m][0]
        tot = tot - tot.mean(axis=0)
        V += (1 - f) * n_h / (n_h - 1) * tot.T @ tot
    return V


def mean_and_se(df, w, record, var="api00", psu="dnum", fpc="fpc", strata=None):
    y = df[var].to_numpy(float)
    est = (w * y).sum() / w.sum()
    U = (w * (y - est) / w.sum())[:, None]
    if record is not None:
        U = record.residualize(U)
    st = None if strata is None else df[strata].to_numpy()
    ids = df[psu].to_numpy() if psu else np.arange(len(df))
    return est, float(np.sqrt(one_stage_var(U, ids, df[fpc].to_numpy(), st)[0, 0]))


def total_and_se(df, w, record, var="enroll", psu="dnum", fpc="fpc", strata=None):
    x = df[var].to_numpy(float)
    U = (w * x)[:, None]
    if record is not None:
        U = record.residualize(U)
    st = None if strata is None else df[strata].to_numpy()
    ids = df[psu].to_numpy() if psu else np.arange(len(df))
    return (w * x).sum(), float(np.sqrt(one_stage_var(U, ids, df[fpc].to_numpy(), st)[0, 0]))


def assert_matches(df, w, record, ref, rtol, **kw):
    est, se = mean_and_se(df, w, record, **kw)
    np.testing.assert_allclose(est, _num(ref["mean_api00"]["estimate"]), rtol=rtol)
    np.testing.assert_allclose(se, _num(ref["mean_api00"]["se"]), rtol=rtol)
    kw.pop("var", None)
    tot, tse = total_and_se(df, w, record, **kw)
    np.testing.assert_allclose(tot, _num(ref["total_enroll"]["estimate"]), rtol=rtol)
    np.testing.assert_allclose(tse, _num(ref["total_enroll"]["se"]), rtol=rtol)


def _num(x):
    if isinstance(x, dict):  # reference.json style {"api00": value}
        (x,) = x.values()
    return float(x[0]) if isinstance(x, list) else float(x)


def _f_ref(key):
    r = F[key]
    return {"mean_api00": r["svymean_api00"], "total_enroll": r["svytotal_enroll"]}


def _calib_inputs(df):
    return calibration_matrix(df, {"stype": POP_TYPES, "api99": API99_TOTAL})


# ---------------------------------------------------------------- reference f
def test_base_weights_are_the_reference(clus1):
    np.testing.assert_array_equal(clus1["pw"].to_numpy(), CAL_W["w_base"].to_numpy())


def test_poststratify_matches_r(clus1):
    w, rec = poststratify_weights(clus1["pw"].to_numpy(), cell_codes(clus1, "stype", POP_TYPES))
    np.testing.assert_allclose(w, CAL_W["w_postStratify_stype_fpc"], rtol=1e-13)
    assert_matches(clus1, w, rec, _f_ref("postStratify_stype_fpc"), rtol=1e-8)


def test_poststratify_without_fpc_matches_r(clus1):
    w, rec = poststratify_weights(clus1["pw"].to_numpy(), cell_codes(clus1, "stype", POP_TYPES))
    df = clus1.assign(fpc=np.inf)  # the no-fpc design: f = 0
    assert_matches(df, w, rec, _f_ref("postStratify_stype_nofpc"), rtol=1e-8)


def _margins(df):
    return [cell_codes(df, "stype", POP_TYPES), cell_codes(df, "sch.wide", POP_SCHWIDE)]


def test_rake_with_r_default_control_stops_where_r_stops(clus1):
    # R's default control list(epsilon=1, maxit=10) stops before convergence; reproducing the same
    # sweeps gives R's weights to rounding
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # it stops by R's rule, so it must not warn
        w, rec = rake_weights(clus1["pw"].to_numpy(), _margins(clus1), epsilon=1, maxit=10)
    np.testing.assert_allclose(w, CAL_W["w_rake_stype_schwide"], rtol=1e-12)
    assert rec.converged
    assert_matches(clus1, w, rec, _f_ref("rake_stype_schwide"), rtol=1e-8)


def test_rake_tight_matches_r(clus1):
    w, rec = rake_weights(clus1["pw"].to_numpy(), _margins(clus1))
    np.testing.assert_allclose(w, CAL_W["w_rake_stype_schwide_tight"], rtol=1e-10)
    assert_matches(clus1, w, rec, _f_ref("rake_stype_schwide_tight"), rtol=1e-8)
    # the margins are met to the default tolerance
    for m in rec.margins:
        np.testing.assert_allclose(np.bincount(m.codes, weights=w), m.targets, rtol=1e-10)


def test_early_stopped_rake_differs_from_converged(clus1):
    # guards the test above: the two R references differ at 1e-6, so matching one is a real check
    w_early, _ = rake_weights(clus1["pw"].to_numpy(), _margins(clus1), epsilon=1, maxit=10)
    assert np.max(np.abs(w_early / CAL_W["w_rake_stype_schwide_tight"] - 1)) > 1e-6


def test_calibrate_linear_matches_r(clus1):
    X, t, names = _calib_inputs(clus1)
    w, rec = calibrate_weights(clus1["pw"].to_numpy(), X, t, names=names)
    np.testing.assert_allclose(w, CAL_W["w_calibrate_linear"], rtol=1e-12)
    np.testing.assert_allclose(X.T @ w, t, rtol=1e-12)
    assert_matches(clus1, w, rec, _f_ref("calibrate_linear"), rtol=1e-8)


def test_calibrate_raking_matches_r(clus1):
    X, t, names = _calib_inputs(clus1)
    w, rec = calibrate_weights(clus1["pw"].to_numpy(), X, t, method="raking", names=names)
    # R stops at epsilon 1e-7 (relative misfit), we at 1e-10: weights agree to R's tolerance
    np.testing.assert_allclose(w, CAL_W["w_calibrate_raking"], rtol=1e-7)
    assert_matches(clus1, w, rec, _f_ref("calibrate_raking"), rtol=1e-6)
    # with R's epsilon the Newton path is R's, to rounding
    w7, rec7 = calibrate_weights(clus1["pw"].to_numpy(), X, t, method="raking", epsilon=1e-7)
    np.testing.assert_allclose(w7, CAL_W["w_calibrate_raking"], rtol=1e-12)
    assert_matches(clus1, w7, rec7, _f_ref("calibrate_raking"), rtol=1e-8)


@pytest.mark.parametrize(
    "key, method, bounds",
    [
        ("calibrate_logit_0.5_2.5", "logit", (0.5, 2.5)),
        ("calibrate_linear_bounded_0.6_1.6", "linear", (0.6, 1.6)),
        ("calibrate_raking_bounded_0.6_1.9", "raking", (0.6, 1.9)),
    ],
)
def test_bounded_calibration_matches_r(clus1, key, method, bounds):
    ref = EXTRA["taylor"][key]
    X, t, _ = _calib_inputs(clus1)
    w, rec = calibrate_weights(
        clus1["pw"].to_numpy(), X, t, method=method, bounds=bounds, epsilon=1e-7
    )
    np.testing.assert_allclose(w, ref["weights"], rtol=1e-10)
    g = w / clus1["pw"].to_numpy()
    assert g.min() >= bounds[0] - 1e-12 and g.max() <= bounds[1] + 1e-12
    assert_matches(clus1, w, rec, ref, rtol=1e-8)


def test_poststratify_on_crossed_cells_matches_r(clus1):
    pc = EXTRA["population"]["stype_x_schwide"]
    pop = pd.DataFrame({"stype": pc["stype"], "sch.wide": pc["sch.wide"], "Freq": pc["Freq"]})
    cells = cell_codes(clus1, ["stype", "sch.wide"], pop)
    w, rec = poststratify_weights(clus1["pw"].to_numpy(), cells)
    ref = EXTRA["taylor"]["poststratify_stype_x_schwide"]
    np.testing.assert_allclose(w, ref["weights"], rtol=1e-13)
    assert_matches(clus1, w, rec, ref, rtol=1e-8)


def test_stratified_design_calibrations_match_r(strat):
    pw = strat["pw"].to_numpy()
    awards = pd.Series(EXTRA["population"]["awards"], dtype=float)
    kw = {"psu": None, "strata": "stype"}
    w, rec = rake_weights(
        pw,
        [
            cell_codes(strat, "stype", POP_TYPES),
            cell_codes(strat, "sch.wide", POP_SCHWIDE),
            cell_codes(strat, "awards", awards),
        ],
    )
    ref = EXTRA["taylor"]["dstrat_rake3_tight"]
    np.testing.assert_allclose(w, ref["weights"], rtol=1e-9)
    assert_matches(strat, w, rec, ref, rtol=1e-8, **kw)

    w, rec = poststratify_weights(pw, cell_codes(strat, "sch.wide", POP_SCHWIDE))
    assert_matches(strat, w, rec, EXTRA["taylor"]["dstrat_poststratify_schwide"], 1e-8, **kw)

    X, t, _ = calibration_matrix(strat, {"stype": POP_TYPES, "api99": API99_TOTAL})
    w, rec = calibrate_weights(pw, X, t)
    assert_matches(strat, w, rec, EXTRA["taylor"]["dstrat_calibrate_linear"], 1e-8, **kw)


class _Chain:
    """Apply several records in order, as the design does."""

    def __init__(self, *records):
        self.records = records

    def residualize(self, U):
        for r in self.records:
            U = r.residualize(U)
        return U


def test_poststratify_then_rake_applies_records_in_order(clus1):
    w1, r1 = poststratify_weights(clus1["pw"].to_numpy(), cell_codes(clus1, "stype", POP_TYPES))
    awards = pd.Series(EXTRA["population"]["awards"], dtype=float)
    w2, r2 = rake_weights(
        w1, [cell_codes(clus1, "sch.wide", POP_SCHWIDE), cell_codes(clus1, "awards", awards)]
    )
    ref = EXTRA["taylor"]["ps_then_rake"]
    np.testing.assert_allclose(w2, ref["weights"], rtol=1e-9)
    assert_matches(clus1, w2, _Chain(r1, r2), ref, rtol=1e-8)


def test_trim_after_calibration_matches_r(clus1):
    X, t, _ = _calib_inputs(clus1)
    wc, rec = calibrate_weights(clus1["pw"].to_numpy(), X, t)
    for key, strict in [("trim_cal_20_45", False), ("trim_cal_20_45_strict", True)]:
        ref = EXTRA["taylor"][key]
        w, trec = trim_weights(wc, lower=20, upper=45, strict=strict)
        np.testing.assert_allclose(w, ref["weights"], rtol=1e-12)
        np.testing.assert_allclose(w.sum(), wc.sum(), rtol=1e-13)
        # R keeps the calibration record (with the weights it had) and adds nothing for trimming
        assert_matches(clus1, w, _Chain(rec, trec), ref, rtol=1e-8)


def test_trim_poststratified_matches_r(clus1):
    w1, rec = poststratify_weights(clus1["pw"].to_numpy(), cell_codes(clus1, "stype", POP_TYPES))
    w, _ = trim_weights(w1, lower=32, upper=50)
    ref = EXTRA["taylor"]["trim_ps_32_50"]
    np.testing.assert_allclose(w, ref["weights"], rtol=1e-12)
    assert_matches(clus1, w, rec, ref, rtol=1e-8)


# ---------------------------------------------------------------- matrices (replicates)
def test_weight_matrix_is_calibrated_column_by_column(clus1):
    rng = np.random.default_rng(7)
    pw = clus1["pw"].to_numpy()
    W = pw[:, None] * rng.uniform(0.5, 1.5, size=(len(pw), 5))
    X, t, _ = _calib_inputs(clus1)
    margins = _margins(clus1)
    cells = cell_codes(clus1, "stype", POP_TYPES)
    for fn in [
        lambda w: poststratify_weights(w, cells),
        lambda w: rake_weights(w, margins),
        lambda w: calibrate_weights(w, X, t),
        lambda w: calibrate_weights(w, X, t, method="raking"),
        lambda w: calibrate_weights(w, X, t, method="logit", bounds=(0.3, 3.0)),
        lambda w: trim_weights(w, lower=20, upper=50, strict=True),
    ]:
        Wn, rec = fn(W)
        assert rec is None and Wn.shape == W.shape
        for r in range(W.shape[1]):
            np.testing.assert_allclose(Wn[:, r], fn(W[:, r])[0], rtol=1e-9)


# ---------------------------------------------------------------- validation
def test_sample_level_missing_from_population_is_named(clus1):
    with pytest.raises(CalibrationError, match=r"sample level\(s\) \['M'\] of \['stype'\]"):
        cell_codes(clus1, "stype", POP_TYPES.drop("M"))


def test_population_level_missing_from_sample_is_named(clus1):
    pop = pd.concat([POP_TYPES, pd.Series({"K": 10.0})])
    with pytest.raises(CalibrationError, match=r"\['K'\].*no sample"):
        cell_codes(clus1, "stype", pop)
    with pytest.warns(UserWarning, match="absent from the sample"):
        cells = cell_codes(clus1, "stype", pop, partial=True)
    assert cells.labels == ("E", "H", "M")
    # a level with population total 0 and no sample rows is harmless and dropped
    assert cell_codes(clus1, "stype", pd.concat([POP_TYPES, pd.Series({"K": 0.0})])).n_cells == 3


def test_missing_values_and_bad_totals_are_errors(clus1):
    df = clus1.assign(stype=clus1["stype"].where(clus1.index != 4))
    with pytest.raises(CalibrationError, match=r"missing values .*row\(s\) \[4\]"):
        cell_codes(df, "stype", POP_TYPES)
    with pytest.raises(CalibrationError, match="non-negative"):
        cell_codes(clus1, "stype", POP_TYPES.replace(755.0, -1.0))
    with pytest.raises(CalibrationError, match="no column"):
        cell_codes(clus1, "nope", POP_TYPES)


def test_inconsistent_population_sizes_are_refused(clus1):
    with pytest.raises(CalibrationError, match="sum to 6194 but .*'\\(Intercept\\)'"):
        calibration_matrix(clus1, {"(Intercept)": 6000.0, "stype": POP_TYPES})
    X, t, names = calibration_matrix(
        clus1, {"(Intercept)": 6194.0, "stype": POP_TYPES, "api99": API99_TOTAL}
    )
    assert names == ("(Intercept)", "stypeH", "stypeM", "api99")  # R's model.matrix names
    np.testing.assert_array_equal(t, list(F["population"]["pop.totals"].values()))
    w, _ = calibrate_weights(clus1["pw"].to_numpy(), X, t)
    np.testing.assert_allclose(w, CAL_W["w_calibrate_linear"], rtol=1e-12)


def test_infeasible_bounds_fail_clearly_or_are_forced(clus1):
    X, t, _ = _calib_inputs(clus1)
    with pytest.raises(CalibrationError, match="did not converge"):
        calibrate_weights(clus1["pw"].to_numpy(), X, t, method="logit", bounds=(0.95, 1.05))
    with pytest.warns(UserWarning, match="did not converge"):
        calibrate_weights(
            clus1["pw"].to_numpy(), X, t, method="logit", bounds=(0.95, 1.05), force=True
        )
    with pytest.raises(CalibrationError, match="finite bounds"):
        calibrate_weights(clus1["pw"].to_numpy(), X, t, method="logit")


def test_collinear_calibration_is_an_error(clus1):
    X, t, _ = _calib_inputs(clus1)
    X2 = np.column_stack([X, 2 * X[:, -1]])
    with pytest.raises(CalibrationError, match="singular"):
        calibrate_weights(clus1["pw"].to_numpy(), X2, np.append(t, 2 * t[-1]))


def test_empty_cell_in_a_replicate_is_named():
    cells = Cells(("g",), np.array([0, 0, 1]), np.array([5.0, 5.0]), ("a", "b"))
    W = np.array([[1.0, 1.0], [1.0, 1.0], [1.0, 0.0]])
    with pytest.raises(CalibrationError, match="cell b .* in replicate 2"):
        poststratify_weights(W, cells)


# ---------------------------------------------------------------- properties
@st.composite
def calibration_problems(draw):
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.integers(40, 150))
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.integers(0, 2, n)])
    w = rng.uniform(1.0, 4.0, n)
    # targets near the sample totals, so that bounded calibrations are feasible
    t = (X.T @ w) * np.array([rng.uniform(0.95, 1.05), 1.0, rng.uniform(0.95, 1.05)])
    t[1] = X[:, 1] @ w + rng.normal() * 0.05 * np.abs(X[:, 1]) @ w
    return w, X, t


@settings(max_examples=40, deadline=None)
@given(calibration_problems(), st.sampled_from(["linear", "raking", "logit"]))
def test_calibrated_weights_meet_the_totals_within_bounds(problem, method):
    w, X, t = problem
    bounds = (0.3, 3.0) if method == "logit" else (-np.inf, np.inf)
    new, rec = calibrate_weights(w, X, t, method=method, bounds=bounds, maxit=100)
    np.testing.assert_allclose(X.T @ new, t, rtol=1e-8, atol=1e-8)
    g = new / w
    if method != "linear":
        assert g.min() > 0  # raking and logit weights keep their sign
    if method == "logit":
        assert g.min() >= 0.3 - 1e-12 and g.max() <= 3.0 + 1e-12
    # a calibration variable's total is known exactly: every GREG residual of it is zero
    U = (new * X[:, 1])[:, None]
    np.testing.assert_allclose(rec.residualize(U), 0.0, atol=1e-9 * np.abs(U).max())
